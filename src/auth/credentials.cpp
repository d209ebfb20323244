// SPEC §7: where credentials come from and where `login` puts them.
#include "karmor/credentials.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "auth/credential_helper.hpp"
#include "auth/docker_config.hpp"
#include "karmor/reference.hpp"
#include "ops/remote.hpp"
#include "util/encoding.hpp"

namespace karmor {

std::string normalize_registry(std::string_view name) {
    std::string host(name);
    if (const auto scheme = host.find("://"); scheme != std::string::npos) host = host.substr(scheme + 3);
    host = host.substr(0, host.find('/'));
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (host == "index.docker.io" || host == "registry-1.docker.io" || host == "registry.hub.docker.com")
        return "docker.io";
    return host;
}

std::filesystem::path docker_config_path(const std::string& override_path) {
    if (!override_path.empty()) return override_path;
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::filesystem::path(dir) / "config.json";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : ".") / ".docker" / "config.json";
}

Result<Credentials> find_credentials(const std::string& registry, const std::string& config_path_override) {
    auto config = auth::load_docker_config(docker_config_path(config_path_override));
    if (!config) return unexpected(std::move(config).error());
    if (const auto helper = auth::helper_for(*config, registry); !helper.empty()) {
        auto found = auth::helper_get(helper, auth::server_url_for(registry));
        if (!found) return unexpected(std::move(found).error());
        if (*found) return std::move(**found);
    }
    for (const auto& key : auth::matching_auth_keys(*config, registry)) {
        auto credentials = auth::credentials_from_entry(config->json["auths"][key],
                                                        config->path.string() + ": auths[\"" + key + "\"]");
        if (!credentials) return unexpected(std::move(credentials).error());
        if (!credentials->empty()) return credentials;
    }
    return Credentials{};
}

Result<std::string> store_credentials(const std::string& registry, const Credentials& credentials,
                                      const std::string& config_path_override) {
    auto config = auth::load_docker_config(docker_config_path(config_path_override));
    if (!config) return unexpected(std::move(config).error());
    if (const auto helper = auth::helper_for(*config, registry); !helper.empty()) {
        if (auto stored = auth::helper_store(helper, auth::server_url_for(registry), credentials); !stored)
            return unexpected(std::move(stored).error());
        return "docker-credential-" + helper;
    }
    const auto keys = auth::matching_auth_keys(*config, registry);
    const auto key = keys.empty() ? auth::server_url_for(registry) : keys.front();
    auto& auths = config->json["auths"];
    if (!auths.is_object()) auths = nlohmann::ordered_json::object();
    auto& entry = auths[key];
    if (!entry.is_object()) entry = nlohmann::ordered_json::object();
    for (const char* stale : {"username", "password", "identitytoken", "auth"}) entry.erase(stale);
    if (!credentials.identity_token.empty()) {
        entry["identitytoken"] = credentials.identity_token;
    } else {
        entry["auth"] = util::base64_encode(credentials.username + ":" + credentials.password);
    }
    for (std::size_t i = 1; i < keys.size(); ++i) auths.erase(keys[i]);
    if (auto saved = auth::save_docker_config(*config); !saved) return unexpected(std::move(saved).error());
    return config->path.string();
}

Result<bool> erase_credentials(const std::string& registry, const std::string& config_path_override) {
    auto config = auth::load_docker_config(docker_config_path(config_path_override));
    if (!config) return unexpected(std::move(config).error());
    bool removed = false;
    if (const auto helper = auth::helper_for(*config, registry); !helper.empty()) {
        auto erased = auth::helper_erase(helper, auth::server_url_for(registry));
        if (!erased) return unexpected(std::move(erased).error());
        removed = *erased;
    }
    const auto keys = auth::matching_auth_keys(*config, registry);
    if (!keys.empty()) {
        for (const auto& key : keys) config->json["auths"].erase(key);
        if (auto saved = auth::save_docker_config(*config); !saved) return unexpected(std::move(saved).error());
        removed = true;
    }
    return removed;
}

Result<void> verify_credentials(const std::string& registry, const RemoteOptions& options) {
    const auto host = normalize_registry(registry);
    auto reference = Reference::parse(host + "/karmor-login-check");
    if (!reference || host.empty())
        return unexpected(Error(ErrorKind::usage, "\"" + registry + "\" is not a registry host name",
                                "for example: karmor oci login registry.example.com, or localhost:5000"));
    auto remote = ops::connect(*reference, options, false);
    return remote.client->check_credentials();
}

}  // namespace karmor
