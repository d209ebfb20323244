// Invariant: whatever a node's registries.conf or hosts.toml holds, what parses is within the
// bounds and shapes the endpoints rely on (a prefix, mirror locations that start with no URL scheme, the
// server last and once), and prefix matching of any name stays inside the name.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mirrors/hosts_toml.hpp"
#include "mirrors/registries_conf.hpp"

namespace {

void check_registries(std::string_view text, std::string_view name) {
    auto entries = karmor::mirrors::parse_registries_conf(text, "registries.conf", false);
    if (!entries) return;
    if (entries->size() > karmor::mirrors::max_registries) std::abort();
    karmor::mirrors::RegistriesConf conf;
    conf.registries = std::move(*entries);
    for (const auto& entry : conf.registries) {
        if (entry.prefix.empty() || entry.mirrors.size() > karmor::mirrors::max_mirrors_per_registry) std::abort();
        for (const auto& mirror : entry.mirrors)
            if (mirror.location.empty() || mirror.location.starts_with("http://") ||
                mirror.location.starts_with("https://"))
                std::abort();
        if (const auto matched = karmor::mirrors::match_prefix(name, entry.prefix); matched && *matched > name.size())
            std::abort();
    }
    if (const auto* found = karmor::mirrors::find_registry(conf, name);
        found && !karmor::mirrors::match_prefix(name, found->prefix))
        std::abort();
}

void check_hosts(std::string_view text) {
    auto hosts = karmor::mirrors::parse_hosts_toml(text, "/d", "/d/hosts.toml", "registry.example.com");
    if (!hosts) return;
    if (hosts->empty() || hosts->size() > karmor::mirrors::max_hosts + 1 || !hosts->back().is_server) std::abort();
    for (std::size_t i = 0; i < hosts->size(); ++i) {
        const auto& host = (*hosts)[i];
        if (host.is_server != (i + 1 == hosts->size()) || host.host.empty()) std::abort();
        if (host.scheme != "https" && host.scheme != "http") std::abort();
        if (host.path.find("/../") != std::string::npos || host.path.ends_with("/..")) std::abort();
        if (host.host.find_first_of("/@?# ") != std::string::npos) std::abort();
    }
}

}  // namespace

// The first line is a name to match (REGISTRY/REPOSITORY), the rest a configuration file.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const auto name = input.substr(0, newline == std::string_view::npos ? 0 : newline);
    const auto text = newline == std::string_view::npos ? input : input.substr(newline + 1);
    check_registries(text, name);
    check_hosts(text);
    return 0;
}
