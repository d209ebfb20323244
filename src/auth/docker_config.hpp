// A Docker config.json as data: read, matched against a registry, written back atomically
// with every key we do not know kept as it was.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "karmor/options.hpp"
#include "karmor/result.hpp"

namespace karmor::auth {

struct DockerConfig {
    std::filesystem::path path;
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
};

// A missing file is an empty config; a file that is not a JSON object is an error.
Result<DockerConfig> load_docker_config(const std::filesystem::path& path);
// Temp file in the same directory, mode 0600, fsync, rename.
Result<void> save_docker_config(const DockerConfig& config);

// The keys of `auths` that mean `registry` (with or without scheme and path).
std::vector<std::string> matching_auth_keys(const DockerConfig& config, const std::string& registry);
// The helper for `registry`: its credHelpers entry, else credsStore, else "".
std::string helper_for(const DockerConfig& config, const std::string& registry);
// What Docker calls the registry in auths and in helper requests.
std::string server_url_for(const std::string& registry);

// An `auths` entry: "auth" (base64 user:password), "username"/"password", "identitytoken".
Result<Credentials> credentials_from_entry(const nlohmann::ordered_json& entry, const std::string& where);

}  // namespace karmor::auth
