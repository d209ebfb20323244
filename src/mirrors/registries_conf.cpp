#include "mirrors/registries_conf.hpp"

#include <algorithm>
#include <map>

#include "mirrors/config_error.hpp"
#include "mirrors/toml.hpp"
#include "util/small_file.hpp"

namespace karmor::mirrors {
namespace fs = std::filesystem;
namespace {

Result<std::optional<bool>> read_bool(const toml::table& table, std::string_view key, const std::string& file) {
    const toml::node* node = table.get(key);
    if (!node) return std::optional<bool>();
    if (const auto* value = node->as_boolean()) return std::optional<bool>(value->get());
    return unexpected(config_error(place_of(*node, file) + ": " + std::string(key) + " must be true or false"));
}

Result<std::string> read_string(const toml::table& table, std::string_view key, const std::string& file) {
    const toml::node* node = table.get(key);
    if (!node) return std::string();
    if (const auto* value = node->as_string()) return value->get();
    return unexpected(config_error(place_of(*node, file) + ": " + std::string(key) + " must be a string"));
}

// containers/image's parseLocation: no trailing '/', no URL scheme.
Result<std::string> read_location(const toml::table& table, std::string_view key, const std::string& file) {
    auto text = read_string(table, key, file);
    if (!text) return text;
    while (!text->empty() && text->back() == '/') text->pop_back();
    if (text->starts_with("http://") || text->starts_with("https://"))
        return unexpected(config_error(place_of(*table.get(key), file) + ": " + std::string(key) + " \"" + *text +
                                           "\" has a URL scheme, which registries.conf does not take",
                                       "write HOST[:PORT][/PATH]; `insecure = true` allows plain HTTP"));
    return text;
}

// The array of tables at `key` ([[key]]), or an error when `key` is something else.
Result<const toml::array*> read_table_array(const toml::table& table, std::string_view key, const std::string& file,
                                            const std::string& spelled) {
    const toml::node* node = table.get(key);
    if (!node) return static_cast<const toml::array*>(nullptr);
    const auto* array = node->as_array();
    if (!array || !array->is_array_of_tables())
        return unexpected(config_error(place_of(*node, file) + ": " + spelled + " must be tables, written " + spelled));
    return array;
}

Result<PullFromMirror> read_pull_from(const toml::table& table, const std::string& file) {
    auto text = read_string(table, "pull-from-mirror", file);
    if (!text) return unexpected(std::move(text).error());
    if (text->empty() || *text == "all") return PullFromMirror::all;
    if (*text == "digest-only") return PullFromMirror::digest_only;
    if (*text == "tag-only") return PullFromMirror::tag_only;
    return unexpected(config_error(place_of(*table.get("pull-from-mirror"), file) + ": pull-from-mirror \"" + *text +
                                   "\" is not one of all, digest-only, tag-only"));
}

Result<RegistryMirror> read_mirror(const toml::table& table, const std::string& file) {
    RegistryMirror mirror;
    mirror.defined_at = place_of(table, file);
    auto location = read_location(table, "location", file);
    if (!location) return unexpected(std::move(location).error());
    if (location->empty())
        return unexpected(config_error(mirror.defined_at + ": a [[registry.mirror]] needs a location"));
    mirror.location = std::move(*location);
    auto insecure = read_bool(table, "insecure", file);
    if (!insecure) return unexpected(std::move(insecure).error());
    mirror.insecure = insecure->value_or(false);
    auto pull_from = read_pull_from(table, file);
    if (!pull_from) return unexpected(std::move(pull_from).error());
    mirror.pull_from = *pull_from;
    return mirror;
}

bool is_wildcard(std::string_view prefix) {
    return prefix.starts_with("*.");
}

Result<RegistryEntry> read_registry(const toml::table& table, const std::string& file) {
    RegistryEntry entry;
    entry.defined_at = place_of(table, file);
    auto location = read_location(table, "location", file);
    if (!location) return unexpected(std::move(location).error());
    entry.location = std::move(*location);
    auto prefix = read_location(table, "prefix", file);
    if (!prefix) return unexpected(std::move(prefix).error());
    entry.prefix = prefix->empty() ? entry.location : std::move(*prefix);
    if (entry.prefix.empty())
        return unexpected(config_error(entry.defined_at + ": a [[registry]] needs a prefix or a location"));
    if (is_wildcard(entry.prefix) && entry.prefix.find_first_of("/@:") != std::string::npos)
        return unexpected(config_error(entry.defined_at + ": the wildcard prefix \"" + entry.prefix +
                                           "\" must have the form *.example.com",
                                       "a wildcard matches subdomains only: no path, port, tag or digest"));
    if (!is_wildcard(entry.prefix) && entry.prefix.find('*') != std::string::npos)
        return unexpected(config_error(entry.defined_at + ": the prefix \"" + entry.prefix +
                                       "\" has a '*' that is not a leading *. (subdomain wildcard)"));
    if (!is_wildcard(entry.prefix) && entry.location.empty())
        return unexpected(config_error(entry.defined_at + ": a [[registry]] without a location needs a prefix " +
                                       "of the form *.example.com"));
    if (table.get("pull-from-mirror"))
        return unexpected(config_error(entry.defined_at + ": pull-from-mirror belongs to a [[registry.mirror]], " +
                                       "not to the [[registry]] \"" + entry.prefix + "\""));
    for (const auto& [key, target] : {std::pair{"insecure", &entry.insecure}, std::pair{"blocked", &entry.blocked},
                                      std::pair{"mirror-by-digest-only", &entry.mirror_by_digest_only}}) {
        auto value = read_bool(table, key, file);
        if (!value) return unexpected(std::move(value).error());
        *target = value->value_or(false);
    }
    auto mirrors = read_table_array(table, "mirror", file, "[[registry.mirror]]");
    if (!mirrors) return unexpected(std::move(mirrors).error());
    if (*mirrors) {
        if ((*mirrors)->size() > max_mirrors_per_registry)
            return unexpected(config_error(entry.defined_at + ": the [[registry]] \"" + entry.prefix + "\" has " +
                                           std::to_string((*mirrors)->size()) + " mirrors, more than the " +
                                           std::to_string(max_mirrors_per_registry) + " karmor reads"));
        for (const auto& node : **mirrors) {
            auto mirror = read_mirror(*node.as_table(), file);
            if (!mirror) return unexpected(std::move(mirror).error());
            if (entry.mirror_by_digest_only && node.as_table()->get("pull-from-mirror"))
                return unexpected(config_error(mirror->defined_at + ": pull-from-mirror cannot be set when the " +
                                               "[[registry]] \"" + entry.prefix + "\" has mirror-by-digest-only"));
            entry.mirrors.push_back(std::move(*mirror));
        }
    }
    return entry;
}

// containers/image: one location (or wildcard prefix) named twice must agree on insecure and
// blocked; of two tables with the same prefix, the first counts.
Result<void> check_consistency(std::vector<RegistryEntry>& entries) {
    std::map<std::string, const RegistryEntry*> by_location;
    for (const auto& entry : entries) {
        const auto& key = entry.location.empty() ? entry.prefix : entry.location;
        const auto [it, inserted] = by_location.emplace(key, &entry);
        if (inserted) continue;
        const char* setting = it->second->insecure != entry.insecure ? "insecure"
                              : it->second->blocked != entry.blocked ? "blocked"
                                                                     : nullptr;
        if (setting)
            return unexpected(config_error(entry.defined_at + ": the registry \"" + key + "\" is defined again with " +
                                           "another `" + setting + "` than at " + it->second->defined_at));
    }
    std::vector<RegistryEntry> unique;
    for (auto& entry : entries)
        if (std::none_of(unique.begin(), unique.end(), [&](const auto& u) { return u.prefix == entry.prefix; }))
            unique.push_back(std::move(entry));
    entries = std::move(unique);
    return {};
}

// Version 1: [registries.insecure] and [registries.block] lists of registries (search lists
// are not karmor's concern).
Result<std::vector<RegistryEntry>> read_version1(const toml::table& registries, const std::string& file) {
    std::vector<RegistryEntry> entries;
    const auto add = [&](std::string_view list, bool RegistryEntry::*flag) -> Result<void> {
        const toml::node* section = registries.get(list);
        if (!section) return {};
        const auto* table = section->as_table();
        const toml::node* names = table ? table->get("registries") : nullptr;
        if (!table || (names && !names->is_array()))
            return unexpected(config_error(place_of(*section, file) + ": [registries." + std::string(list) +
                                           "] must hold registries = [\"HOST\", …]"));
        if (!names) return {};
        for (const auto& name : *names->as_array()) {
            if (!name.is_string())
                return unexpected(config_error(place_of(name, file) + ": registries must be strings"));
            std::string location = name.as_string()->get();
            while (!location.empty() && location.back() == '/') location.pop_back();
            if (location.empty())
                return unexpected(config_error(place_of(name, file) + ": an empty registry in [registries." +
                                               std::string(list) + "]"));
            auto found = std::find_if(entries.begin(), entries.end(),
                                      [&](const RegistryEntry& e) { return e.location == location; });
            if (found == entries.end()) {
                if (entries.size() >= max_registries)
                    return unexpected(
                        config_error(file + ": more than " + std::to_string(max_registries) + " registries"));
                found = entries.insert(
                    entries.end(), RegistryEntry{location, location, false, false, false, {}, place_of(name, file)});
            }
            (*found).*flag = true;
        }
        return {};
    };
    if (auto blocked = add("block", &RegistryEntry::blocked); !blocked) return unexpected(std::move(blocked).error());
    if (auto insecure = add("insecure", &RegistryEntry::insecure); !insecure)
        return unexpected(std::move(insecure).error());
    return entries;
}

bool has_version2_settings(const toml::table& root) {
    for (const char* key : {"registry", "unqualified-search-registries", "credential-helpers", "short-name-mode",
                            "aliases", "additional-layer-store-auth-helper"})
        if (root.get(key)) return true;
    return false;
}

Result<std::vector<fs::path>> drop_in_files(const fs::path& directory) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) return files;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() != ".conf" || it->is_directory(ec)) continue;
        if (files.size() >= max_drop_in_files)
            return unexpected(config_error(directory.string() + " holds more than " +
                                           std::to_string(max_drop_in_files) + " .conf files"));
        files.push_back(it->path());
    }
    if (ec)
        return unexpected(Error(ErrorKind::io, "cannot list " + directory.string() + ": " + ec.message(),
                                "check its permissions, or pass --no-mirrors"));
    std::sort(files.begin(), files.end());
    return files;
}

// Replaces the entries with the same prefix, adds the others (containers-registries.conf.d(5)).
Result<void> merge(std::vector<RegistryEntry>& into, std::vector<RegistryEntry> updates, const std::string& file) {
    for (auto& update : updates) {
        auto same = std::find_if(into.begin(), into.end(), [&](const auto& e) { return e.prefix == update.prefix; });
        if (same != into.end()) {
            *same = std::move(update);
        } else {
            if (into.size() >= max_registries)
                return unexpected(config_error(file + ": the registries.conf files define more than " +
                                               std::to_string(max_registries) + " [[registry]] tables"));
            into.push_back(std::move(update));
        }
    }
    return {};
}

Result<std::vector<RegistryEntry>> read_file(const fs::path& path, bool required, bool drop_in) {
    auto text = util::read_small_file(path, max_registries_conf_bytes, "registries.conf");
    if (!text) return unexpected(std::move(text).error());
    if (!*text) {
        if (required)
            return unexpected(config_error(path.string() + " (named by CONTAINERS_REGISTRIES_CONF) does not exist",
                                           "point CONTAINERS_REGISTRIES_CONF at a registries.conf, or unset it"));
        return std::vector<RegistryEntry>();
    }
    return parse_registries_conf(**text, path.string(), drop_in);
}

}  // namespace

Result<std::vector<RegistryEntry>> parse_registries_conf(std::string_view text, const std::string& file, bool drop_in) {
    auto parsed = parse_toml(text, file);
    if (!parsed) return unexpected(std::move(parsed).error());
    const toml::table& root = *parsed;
    if (const toml::node* version1 = root.get("registries"); version1 && version1->is_table()) {
        if (drop_in)
            return unexpected(config_error(place_of(*version1, file) + ": a drop-in must use the version 2 format " +
                                           "([[registry]] tables), not [registries.*]"));
        if (has_version2_settings(root))
            return unexpected(config_error(place_of(*version1, file) + ": [registries.*] (version 1) and version 2 " +
                                               "settings are mixed in one file",
                                           "rewrite the file in the version 2 format ([[registry]] tables)"));
        return read_version1(*version1->as_table(), file);
    }
    auto tables = read_table_array(root, "registry", file, "[[registry]]");
    if (!tables) return unexpected(std::move(tables).error());
    std::vector<RegistryEntry> entries;
    if (!*tables) return entries;
    if ((*tables)->size() > max_registries)
        return unexpected(config_error(file + " has " + std::to_string((*tables)->size()) +
                                       " [[registry]] tables, more than the " + std::to_string(max_registries) +
                                       " karmor reads"));
    for (const auto& node : **tables) {
        auto entry = read_registry(*node.as_table(), file);
        if (!entry) return unexpected(std::move(entry).error());
        entries.push_back(std::move(*entry));
    }
    if (auto consistent = check_consistency(entries); !consistent) return unexpected(std::move(consistent).error());
    return entries;
}

RegistriesConfFiles registries_conf_files(const std::string& explicit_file, const Getenv& getenv) {
    RegistriesConfFiles files;
    const char* home = getenv("HOME");
    const fs::path user = home && *home ? fs::path(home) / ".config" / "containers" : fs::path();
    const fs::path system = "/etc/containers";
    std::string named = explicit_file;
    for (const char* variable : {"CONTAINERS_REGISTRIES_CONF", "REGISTRIES_CONFIG_PATH"}) {
        if (!named.empty()) break;
        if (const char* value = getenv(variable); value && *value) named = value;
    }
    std::error_code ec;
    if (!named.empty()) {
        files.main = named;
        files.main_required = true;
    } else if (!user.empty() && fs::exists(user / "registries.conf", ec)) {
        files.main = user / "registries.conf";
        files.drop_in_directories = {user / "registries.conf.d"};
        return files;
    } else {
        files.main = system / "registries.conf";
    }
    files.drop_in_directories.push_back(system / "registries.conf.d");
    if (!user.empty()) files.drop_in_directories.push_back(user / "registries.conf.d");
    return files;
}

Result<RegistriesConf> load_registries_conf(const RegistriesConfFiles& files) {
    RegistriesConf conf;
    auto main = read_file(files.main, files.main_required, false);
    if (!main) return unexpected(std::move(main).error());
    conf.registries = std::move(*main);
    conf.files.push_back(files.main.string());
    for (const auto& directory : files.drop_in_directories) {
        auto drop_ins = drop_in_files(directory);
        if (!drop_ins) return unexpected(std::move(drop_ins).error());
        for (const auto& path : *drop_ins) {
            auto entries = read_file(path, false, true);
            if (!entries) return unexpected(std::move(entries).error());
            if (auto merged = merge(conf.registries, std::move(*entries), path.string()); !merged)
                return unexpected(std::move(merged).error());
            conf.files.push_back(path.string());
        }
    }
    return conf;
}

std::optional<std::size_t> match_prefix(std::string_view name, std::string_view prefix) {
    const auto ends_component = [&](std::size_t end) {
        return end == name.size() || name[end] == '/' || name[end] == ':' || name[end] == '@';
    };
    if (is_wildcard(prefix)) {
        // *.example.com: a host that ends in .example.com (any number of subdomains).
        const auto domain = prefix.substr(1);
        const auto at = name.find(domain);
        if (at == std::string_view::npos || name.substr(0, at).find('/') != std::string_view::npos) return std::nullopt;
        const auto end = at + domain.size();
        return ends_component(end) ? std::optional<std::size_t>(end) : std::nullopt;
    }
    if (!name.starts_with(prefix) || !ends_component(prefix.size())) return std::nullopt;
    return prefix.size();
}

const RegistryEntry* find_registry(const RegistriesConf& conf, std::string_view name) {
    // Of two matching prefixes of one length, containers/image takes the first in sort order
    // (a wildcard sorts before a name): so does karmor, so that both read a node alike.
    const RegistryEntry* best = nullptr;
    for (const auto& entry : conf.registries)
        if (match_prefix(name, entry.prefix) &&
            (!best || entry.prefix.size() > best->prefix.size() ||
             (entry.prefix.size() == best->prefix.size() && entry.prefix < best->prefix)))
            best = &entry;
    return best;
}

}  // namespace karmor::mirrors
