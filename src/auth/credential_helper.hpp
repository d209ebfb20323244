// The docker-credential-NAME protocol: `get`, `store` and `erase`, with the server URL or a
// JSON document on stdin and the answer on stdout. Secrets travel only through the pipes,
// never through argv or the environment.
#pragma once

#include <optional>
#include <string>

#include "karmor/options.hpp"
#include "karmor/result.hpp"

namespace karmor::auth {

struct HelperRun {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs docker-credential-NAME ACTION with `input` on stdin. An error when the program is
// not on PATH or cannot be started.
Result<HelperRun> run_credential_helper(const std::string& name, const std::string& action, const std::string& input);

// Credentials for `server_url`, or nothing when the helper has none.
Result<std::optional<Credentials>> helper_get(const std::string& name, const std::string& server_url);
Result<void> helper_store(const std::string& name, const std::string& server_url, const Credentials& credentials);
// False when the helper had nothing for `server_url`.
Result<bool> helper_erase(const std::string& name, const std::string& server_url);

}  // namespace karmor::auth
