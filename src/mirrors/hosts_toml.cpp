#include "mirrors/hosts_toml.hpp"

#include <algorithm>
#include <cctype>

#include "mirrors/config_error.hpp"
#include "mirrors/toml.hpp"
#include "util/small_file.hpp"

namespace karmor::mirrors {
namespace fs = std::filesystem;
namespace {

std::string lowercase(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

fs::path absolute_in(const fs::path& directory, const std::string& path) {
    return fs::path(path).is_absolute() ? fs::path(path) : directory / path;
}

// A string, or an array of strings, as a list of paths from `directory`.
Result<std::vector<fs::path>> read_paths(const toml::node& node, const fs::path& directory, const std::string& file,
                                         std::string_view key) {
    std::vector<fs::path> paths;
    if (const auto* one = node.as_string()) {
        paths.push_back(absolute_in(directory, one->get()));
        return paths;
    }
    const auto* many = node.as_array();
    if (!many)
        return unexpected(
            config_error(place_of(node, file) + ": " + std::string(key) + " must be a file name or a list of them"));
    if (many->size() > max_certificate_files)
        return unexpected(config_error(place_of(node, file) + ": " + std::string(key) + " lists more than " +
                                       std::to_string(max_certificate_files) + " files"));
    for (const auto& element : *many) {
        if (!element.is_string())
            return unexpected(
                config_error(place_of(element, file) + ": " + std::string(key) + " must list file names"));
        paths.push_back(absolute_in(directory, element.as_string()->get()));
    }
    return paths;
}

// client = "both.pem" | ["both.pem", …] | [["cert.pem", "key.pem"], …]
Result<void> read_client(const toml::node& node, const fs::path& directory, const std::string& file,
                         HostEndpoint& host) {
    if (const auto* one = node.as_string()) {
        host.client_pairs.emplace_back(absolute_in(directory, one->get()), fs::path());
        return {};
    }
    const auto* many = node.as_array();
    const auto invalid = [&](const toml::node& at) {
        return unexpected(config_error(place_of(at, file) + ": client must be a file, a list of files, or a list " +
                                       "of [certificate, key] pairs"));
    };
    if (!many) return invalid(node);
    if (many->size() > max_certificate_files) return invalid(node);
    for (const auto& element : *many) {
        if (const auto* single = element.as_string()) {
            host.client_pairs.emplace_back(absolute_in(directory, single->get()), fs::path());
            continue;
        }
        const auto* pair = element.as_array();
        if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) return invalid(element);
        host.client_pairs.emplace_back(absolute_in(directory, (*pair)[0].as_string()->get()),
                                       absolute_in(directory, (*pair)[1].as_string()->get()));
    }
    return {};
}

// A DNS name or an IPv4 address, or an IPv6 address in brackets, with an optional :PORT.
bool is_host_and_port(std::string_view text) {
    std::string_view host = text, port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return false;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return false;
            port = text.substr(close + 2);
            if (port.empty()) return false;
        }
        if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) return false;
    } else {
        if (const auto colon = text.find(':'); colon != std::string_view::npos) {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (port.empty()) return false;
        }
        if (host.empty() ||
            host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
                std::string_view::npos)
            return false;
    }
    return port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos;
}

// SCHEME://HOST[:PORT][/PATH] (https:// when no scheme), as containerd parses a host name.
Result<void> read_address(const std::string& address, bool override_path, const std::string& where,
                          HostEndpoint& host) {
    std::string rest = address.find("://") == std::string::npos ? "https://" + address : address;
    const auto scheme_end = rest.find("://");
    host.scheme = lowercase(rest.substr(0, scheme_end));
    if (host.scheme != "https" && host.scheme != "http")
        return unexpected(config_error(where + ": \"" + address + "\" is neither http:// nor https://"));
    rest = rest.substr(scheme_end + 3);
    const auto slash = rest.find('/');
    host.host = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? std::string() : rest.substr(slash);
    if (!is_host_and_port(host.host) || rest.find_first_of("?#") != std::string::npos)
        return unexpected(config_error(where + ": \"" + address + "\" is not HOST[:PORT] with an optional path"));
    // A clean path: no empty, "." or ".." segments, no trailing '/'.
    std::string clean;
    for (std::size_t start = 0; start < path.size();) {
        auto end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const auto segment = path.substr(start, end - start);
        if (segment == "..")
            return unexpected(config_error(where + ": the path of \"" + address + "\" goes up with \"..\""));
        if (!segment.empty() && segment != ".") clean += "/" + segment;
        start = end + 1;
    }
    if (!override_path && !clean.ends_with("/v2")) clean += "/v2";
    host.path = clean;
    return {};
}

// The settings a [host."…"] table and the top level share (containerd's hostFileConfig).
Result<void> read_host_settings(const toml::table& table, const fs::path& directory, const std::string& file,
                                HostEndpoint& host, bool& override_path) {
    if (const toml::node* capabilities = table.get("capabilities")) {
        const auto* list = capabilities->as_array();
        if (!list)
            return unexpected(config_error(place_of(*capabilities, file) + ": capabilities must be a list, e.g. " +
                                           "[\"pull\", \"resolve\"]"));
        if (!list->empty()) {
            host.pull = host.resolve = false;
            for (const auto& element : *list) {
                const auto name = element.is_string() ? lowercase(element.as_string()->get()) : std::string();
                if (name == "pull")
                    host.pull = true;
                else if (name == "resolve")
                    host.resolve = true;
                else if (name != "push")  // writes always go to the registry itself (SPEC §15)
                    return unexpected(config_error(place_of(element, file) + ": unknown capability; the " +
                                                   "capabilities are pull, resolve and push"));
            }
        }
    }
    if (const toml::node* ca = table.get("ca")) {
        auto paths = read_paths(*ca, directory, file, "ca");
        if (!paths) return unexpected(std::move(paths).error());
        host.ca_files = std::move(*paths);
    }
    if (const toml::node* client = table.get("client"))
        if (auto read = read_client(*client, directory, file, host); !read) return read;
    if (const toml::node* skip_verify = table.get("skip_verify")) {
        if (!skip_verify->is_boolean())
            return unexpected(config_error(place_of(*skip_verify, file) + ": skip_verify must be true or false"));
        host.skip_verify = skip_verify->as_boolean()->get();
    }
    override_path = false;
    if (const toml::node* override_node = table.get("override_path")) {
        if (!override_node->is_boolean())
            return unexpected(config_error(place_of(*override_node, file) + ": override_path must be true or false"));
        override_path = override_node->as_boolean()->get();
    }
    return {};
}

// The registry itself when hosts.toml names no server (containerd's defaults).
void default_server(const std::string& registry, HostEndpoint& server) {
    server.scheme = "https";
    server.host = registry == "docker.io" ? "registry-1.docker.io" : registry;
    server.path = "/v2";
}

// Without hosts.toml, containerd reads Docker's layout: *.crt are CAs, *.cert with the *.key
// of the same name are client certificates, all for the registry itself.
Result<std::vector<HostEndpoint>> read_certificate_files(const fs::path& directory, const std::string& registry) {
    HostEndpoint server;
    default_server(registry, server);
    server.is_server = true;
    server.defined_at = directory.string();
    std::vector<fs::path> names;
    std::error_code ec;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
        if (names.size() >= max_host_directory_entries)
            return unexpected(config_error(directory.string() + " holds more than " +
                                           std::to_string(max_host_directory_entries) + " entries"));
        if (!it->is_directory(ec)) names.push_back(it->path());
    }
    if (ec) return unexpected(Error(ErrorKind::io, "cannot list " + directory.string() + ": " + ec.message()));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        if (name.extension() == ".crt") server.ca_files.push_back(name);
        if (name.extension() == ".cert") {
            auto key = name;
            key.replace_extension(".key");
            server.client_pairs.emplace_back(name, fs::exists(key, ec) ? key : fs::path());
        }
    }
    if (server.ca_files.size() > max_certificate_files)
        return unexpected(config_error(directory.string() + " holds more than " +
                                       std::to_string(max_certificate_files) + " .crt files"));
    return std::vector<HostEndpoint>{std::move(server)};
}

// containerd names HOST:PORT's directory HOST_PORT_ too (':' is not allowed on every system).
std::string port_directory_name(const std::string& registry) {
    const auto colon = registry.rfind(':');
    if (colon == std::string::npos || colon == 0) return registry;
    return registry.substr(0, colon) + "_" + registry.substr(colon + 1) + "_";
}

}  // namespace

Result<std::vector<HostEndpoint>> parse_hosts_toml(std::string_view text, const fs::path& directory,
                                                   const std::string& file, const std::string& registry) {
    auto parsed = parse_toml(text, file);
    if (!parsed) return unexpected(std::move(parsed).error());
    const toml::table& root = *parsed;
    // toml++ keeps a table's keys sorted; containerd tries the hosts in the order written.
    std::vector<std::pair<toml::source_position, HostEndpoint>> written;
    if (const toml::node* host_tables = root.get("host")) {
        const auto* table = host_tables->as_table();
        if (!table)
            return unexpected(config_error(place_of(*host_tables, file) + ": host must be tables, written " +
                                           "[host.\"https://mirror.example.com\"]"));
        if (table->size() > max_hosts)
            return unexpected(config_error(file + " has more than " + std::to_string(max_hosts) + " hosts"));
        for (const auto& [address, node] : *table) {
            HostEndpoint host;
            host.defined_at = place_of(node, file);
            const auto* settings = node.as_table();
            if (!settings)
                return unexpected(
                    config_error(host.defined_at + ": host.\"" + std::string(address.str()) + "\" must be a table"));
            bool override_path = false;
            if (auto read = read_host_settings(*settings, directory, file, host, override_path); !read)
                return unexpected(std::move(read).error());
            if (auto read = read_address(std::string(address.str()), override_path, host.defined_at, host); !read)
                return unexpected(std::move(read).error());
            written.emplace_back(node.source().begin, std::move(host));
        }
        std::stable_sort(written.begin(), written.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    std::vector<HostEndpoint> hosts;
    for (auto& entry : written) hosts.push_back(std::move(entry.second));
    HostEndpoint server;
    server.is_server = true;
    server.defined_at = file;
    bool override_path = false;
    if (auto read = read_host_settings(root, directory, file, server, override_path); !read)
        return unexpected(std::move(read).error());
    const toml::node* address = root.get("server");
    if (address && !address->is_string())
        return unexpected(config_error(place_of(*address, file) + ": server must be a URL string"));
    if (address && !address->as_string()->get().empty()) {
        server.defined_at = place_of(*address, file);
        if (auto read = read_address(address->as_string()->get(), override_path, server.defined_at, server); !read)
            return unexpected(std::move(read).error());
    } else {
        default_server(registry, server);
    }
    hosts.push_back(std::move(server));
    return hosts;
}

fs::path hosts_directory(const std::string& explicit_dir, const Getenv& getenv) {
    if (!explicit_dir.empty()) return explicit_dir;
    if (const char* value = getenv("KARMOR_HOSTS_DIR"); value && *value) return value;
    return "/etc/containerd/certs.d";
}

Result<std::optional<HostsConfig>> load_hosts_config(const fs::path& hosts_dir, const std::string& registry) {
    std::vector<fs::path> candidates;
    if (const auto with_underscores = port_directory_name(registry); with_underscores != registry)
        candidates.push_back(hosts_dir / with_underscores);
    candidates.push_back(hosts_dir / registry);
    candidates.push_back(hosts_dir / "_default");
    for (const auto& directory : candidates) {
        std::error_code ec;
        if (!fs::is_directory(directory, ec)) continue;
        HostsConfig config;
        config.is_default = directory.filename() == "_default";
        const auto file = directory / "hosts.toml";
        auto text = util::read_small_file(file, max_hosts_toml_bytes, "hosts.toml");
        if (!text) return unexpected(std::move(text).error());
        auto hosts = *text && !(*text)->empty() ? parse_hosts_toml(**text, directory, file.string(), registry)
                                                : read_certificate_files(directory, registry);
        if (!hosts) return unexpected(std::move(hosts).error());
        config.file = *text && !(*text)->empty() ? file.string() : directory.string();
        config.hosts = std::move(*hosts);
        return std::optional<HostsConfig>(std::move(config));
    }
    return std::optional<HostsConfig>();
}

}  // namespace karmor::mirrors
