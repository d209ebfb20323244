// Registry credentials as Docker keeps them (SPEC §7): a Docker config.json (`auths`,
// `credHelpers`, `credsStore`) and `docker-credential-NAME` helpers. The CLI's -u and
// --password-stdin win over everything here; the library never prompts and never prints.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "karmor/options.hpp"
#include "karmor/result.hpp"

namespace karmor {

// The registry host a user-given name means: "https://index.docker.io/v1/", "index.docker.io"
// and "registry-1.docker.io" are "docker.io"; a scheme and a path are dropped.
std::string normalize_registry(std::string_view name);

// `override_path` (--registry-config) if set, else $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json.
std::filesystem::path docker_config_path(const std::string& override_path = {});

// The stored credentials for `registry`; empty Credentials when there are none (that is not
// an error). A configured helper that is missing or fails is an error that names it.
Result<Credentials> find_credentials(const std::string& registry, const std::string& config_path_override = {});

// Stores credentials in the configured helper (credHelpers, credsStore), else in the
// config file's `auths` (written atomically, mode 0600, everything else kept). Returns
// where they went, for the user ("docker-credential-pass", "/home/u/.docker/config.json").
Result<std::string> store_credentials(const std::string& registry, const Credentials& credentials,
                                      const std::string& config_path_override = {});

// Removes stored credentials (helper erase and the `auths` entry). False when there were none.
Result<bool> erase_credentials(const std::string& registry, const std::string& config_path_override = {});

// GET /v2/ with the challenge flow: do these credentials work on this registry?
Result<void> verify_credentials(const std::string& registry, const RemoteOptions& options);

}  // namespace karmor
