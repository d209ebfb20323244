// registries.conf (containers-registries.conf(5), version 2, and the deprecated version 1) with
// its registries.conf.d drop-ins (containers-registries.conf.d(5)), read where the containers
// tools (Podman, CRI-O, skopeo, Buildah) read them: which [[registry]] applies to a repository,
// where that repository really is, its mirrors, and whether it is blocked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::mirrors {

// The environment, as a parameter so that tests choose it (std::getenv in production).
using Getenv = std::function<const char*(const char*)>;

// A mirror's `pull-from-mirror`: which references it is used for.
enum class PullFromMirror { all, digest_only, tag_only };

struct RegistryMirror {
    std::string location;  // HOST[:PORT][/NAMESPACE…]
    bool insecure = false;
    PullFromMirror pull_from = PullFromMirror::all;
    std::string defined_at;  // FILE:LINE of its [[registry.mirror]]
};

struct RegistryEntry {
    std::string prefix;    // HOST[:PORT][/NAMESPACE…], or *.DOMAIN for subdomains
    std::string location;  // "" only with a wildcard prefix: the reference is used as it is
    bool insecure = false;
    bool blocked = false;
    bool mirror_by_digest_only = false;
    std::vector<RegistryMirror> mirrors;
    std::string defined_at;  // FILE:LINE of its [[registry]]
};

struct RegistriesConf {
    std::vector<RegistryEntry> registries;
    std::vector<std::string> files;  // every file read, in the order read
};

// Bounds on what is read: a node's files are small, a hostile or broken one is refused.
inline constexpr std::uint64_t max_registries_conf_bytes = 1 << 20;
inline constexpr std::size_t max_drop_in_files = 256;  // per directory
inline constexpr std::size_t max_registries = 10'000;  // [[registry]] tables, all files together
inline constexpr std::size_t max_mirrors_per_registry = 64;

// One file's [[registry]] tables, checked as containers/image checks them (locations without a
// URL scheme, wildcards only as *.DOMAIN, pull-from-mirror only on mirrors, no conflicting
// insecure or blocked for one location). Other settings (unqualified-search-registries, aliases,
// …) are not karmor's and are ignored. `drop_in`: the version 1 format is refused there.
Result<std::vector<RegistryEntry>> parse_registries_conf(std::string_view text, const std::string& file, bool drop_in);

// Where the containers tools read the configuration: `explicit_file` (or
// $CONTAINERS_REGISTRIES_CONF, or $REGISTRIES_CONFIG_PATH), which must then exist; else
// ~/.config/containers/registries.conf when it exists, with only the drop-ins of
// ~/.config/containers/registries.conf.d; else /etc/containers/registries.conf with those of
// /etc/containers/registries.conf.d and then ~/.config/containers/registries.conf.d.
struct RegistriesConfFiles {
    std::filesystem::path main;
    bool main_required = false;
    std::vector<std::filesystem::path> drop_in_directories;
};
RegistriesConfFiles registries_conf_files(const std::string& explicit_file, const Getenv& getenv);

// The main file, then each directory's `*.conf` files in name order; a [[registry]] of a later
// file replaces the one with the same prefix. Missing files and directories are no error
// (except a main file named explicitly).
Result<RegistriesConf> load_registries_conf(const RegistriesConfFiles& files);

// How much of `name` (REGISTRY/REPOSITORY) `prefix` matches: its whole length, or for
// *.DOMAIN the end of the host; std::nullopt when it does not match. A prefix matches whole
// path components (followed by '/', ':', '@' or the end), as containers/image matches them.
std::optional<std::size_t> match_prefix(std::string_view name, std::string_view prefix);

// The entry with the longest prefix that matches `name` (of equal ones, the first in sort
// order, as containers/image picks), or nullptr.
const RegistryEntry* find_registry(const RegistriesConf& conf, std::string_view name);

}  // namespace karmor::mirrors
