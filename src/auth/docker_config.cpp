#include "auth/docker_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "karmor/credentials.hpp"
#include "util/encoding.hpp"

namespace karmor::auth {
namespace {

constexpr const char* docker_hub_server_url = "https://index.docker.io/v1/";

Error io_error(const std::filesystem::path& path, const std::string& what) {
    return Error(ErrorKind::io, path.string() + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Result<DockerConfig> load_docker_config(const std::filesystem::path& path) {
    DockerConfig config;
    config.path = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return config;
        return unexpected(io_error(path, "cannot read the Docker config"));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().find_first_not_of(" \t\r\n") == std::string::npos) return config;
    config.json = nlohmann::ordered_json::parse(text.str(), nullptr, false);
    if (!config.json.is_object())
        return unexpected(Error(ErrorKind::io, path.string() + ": the Docker config is not a JSON object",
                                "fix or remove the file, or point --registry-config at another one"));
    return config;
}

Result<void> save_docker_config(const DockerConfig& config) {
    const auto directory = config.path.parent_path().empty() ? std::filesystem::path(".") : config.path.parent_path();
    std::error_code ec;
    if (!std::filesystem::exists(directory, ec)) {
        std::filesystem::create_directories(directory, ec);
        if (ec) return unexpected(Error(ErrorKind::io, directory.string() + ": cannot create: " + ec.message()));
        std::filesystem::permissions(directory, std::filesystem::perms::owner_all, ec);
    }
    std::string temp = (directory / ".config.json.XXXXXX").string();
    const int fd = mkstemp(temp.data());  // mode 0600
    if (fd < 0) return unexpected(io_error(temp, "cannot create a temporary file"));
    const std::string text = config.json.dump(1, '\t') + "\n";
    std::size_t written = 0;
    bool ok = fchmod(fd, 0600) == 0;
    while (ok && written < text.size()) {
        const ssize_t n = write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    ok = ok && fsync(fd) == 0;
    auto error = ok ? Error() : io_error(temp, "cannot write");
    if (close(fd) != 0 && ok) {
        ok = false;
        error = io_error(temp, "cannot write");
    }
    if (ok && std::rename(temp.c_str(), config.path.c_str()) != 0) {
        ok = false;
        error = io_error(config.path, "cannot replace the Docker config");
    }
    if (!ok) {
        unlink(temp.c_str());
        return unexpected(std::move(error));
    }
    return {};
}

std::vector<std::string> matching_auth_keys(const DockerConfig& config, const std::string& registry) {
    std::vector<std::string> keys;
    const auto auths = config.json.find("auths");
    if (auths == config.json.end() || !auths->is_object()) return keys;
    const auto wanted = normalize_registry(registry);
    for (const auto& [key, value] : auths->items())
        if (normalize_registry(key) == wanted) keys.push_back(key);
    return keys;
}

std::string helper_for(const DockerConfig& config, const std::string& registry) {
    const auto wanted = normalize_registry(registry);
    if (const auto helpers = config.json.find("credHelpers"); helpers != config.json.end() && helpers->is_object()) {
        for (const auto& [key, value] : helpers->items())
            if (normalize_registry(key) == wanted && value.is_string()) return value.get<std::string>();
    }
    if (const auto store = config.json.find("credsStore"); store != config.json.end() && store->is_string())
        return store->get<std::string>();
    return {};
}

std::string server_url_for(const std::string& registry) {
    const auto host = normalize_registry(registry);
    return host == "docker.io" ? docker_hub_server_url : host;
}

Result<Credentials> credentials_from_entry(const nlohmann::ordered_json& entry, const std::string& where) {
    Credentials credentials;
    if (!entry.is_object()) return credentials;
    const auto text = [&](const char* name) {
        const auto it = entry.find(name);
        return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (const auto auth = text("auth"); !auth.empty()) {
        const auto decoded = util::base64_decode(auth);
        const auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos)
            return unexpected(Error(ErrorKind::io, where + ": \"auth\" is not base64 of USER:PASSWORD",
                                    "log in again with `karmor oci login`, which rewrites the entry"));
        credentials.username = decoded->substr(0, colon);
        credentials.password = decoded->substr(colon + 1);
    } else {
        credentials.username = text("username");
        credentials.password = text("password");
    }
    credentials.identity_token = text("identitytoken");
    return credentials;
}

}  // namespace karmor::auth
