// containerd's registry host configuration (containerd docs/hosts.md): a directory per registry
// host under a hosts directory (/etc/containerd/certs.d), with a hosts.toml whose [host."…"]
// tables are the mirrors, in file order, and whose `server` is the registry itself; without a
// hosts.toml, the directory's Docker-style certificate files (*.crt, *.cert with *.key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "karmor/result.hpp"
#include "mirrors/registries_conf.hpp"

namespace karmor::mirrors {

struct HostEndpoint {
    std::string scheme = "https";
    std::string host;          // HOST[:PORT]
    std::string path = "/v2";  // the API root: /v2, PATH/v2, or PATH itself with override_path
    bool pull = true;          // capabilities: fetch content by digest
    bool resolve = true;       // capabilities: resolve a tag to a digest
    std::vector<std::filesystem::path> ca_files;
    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> client_pairs;  // key "" = in the cert file
    std::optional<bool> skip_verify;
    bool is_server = false;  // the registry itself, always last
    std::string defined_at;  // FILE:LINE
};

struct HostsConfig {
    std::string file;         // the hosts.toml (or the directory of certificate files) read
    bool is_default = false;  // from HOSTS_DIR/_default
    std::vector<HostEndpoint> hosts;
};

inline constexpr std::uint64_t max_hosts_toml_bytes = 1 << 20;
inline constexpr std::size_t max_hosts = 64;
inline constexpr std::size_t max_certificate_files = 16;  // ca entries, or *.crt files, per host
inline constexpr std::size_t max_host_directory_entries = 256;

// The hosts of one hosts.toml for `registry` (as in references: docker.io, HOST[:PORT]); relative
// certificate paths are taken from `directory`. The server comes last; without `server` it is
// the registry itself (registry-1.docker.io for docker.io).
Result<std::vector<HostEndpoint>> parse_hosts_toml(std::string_view text, const std::filesystem::path& directory,
                                                   const std::string& file, const std::string& registry);

// The hosts directory: `explicit_dir`, else $KARMOR_HOSTS_DIR, else /etc/containerd/certs.d.
std::filesystem::path hosts_directory(const std::string& explicit_dir, const Getenv& getenv);

// The configuration containerd would use for `registry`: HOSTS_DIR/HOST_PORT_,
// HOSTS_DIR/HOST:PORT, then HOSTS_DIR/_default; std::nullopt when none of them exists.
Result<std::optional<HostsConfig>> load_hosts_config(const std::filesystem::path& hosts_dir,
                                                     const std::string& registry);

}  // namespace karmor::mirrors
