// `karmor oci logout REGISTRY` (SPEC §2, §7): removes what login stored.
#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/credentials.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct LogoutFlags {
    std::string registry;
    std::string registry_config;
    OutputFlags output;
};

int run_logout(const LogoutFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    const auto registry = normalize_registry(flags.registry);
    if (registry.empty())
        return report_error(Error(ErrorKind::usage, "\"" + flags.registry + "\" is not a registry host name"), io);
    auto removed = erase_credentials(registry, flags.registry_config);
    if (!removed) return report_error(removed.error(), io);
    if (flags.output.json())
        io.out << util::dump_json({{"registry", registry}, {"removed", *removed}}, 2) << "\n";
    else if (!flags.output.quiet)
        io.err << (*removed ? "Removed login credentials for " : "Not logged in to ") << registry << "\n";
    return exit_ok;
}

}  // namespace

void add_logout_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<LogoutFlags>();
    auto* cmd = oci.add_subcommand("logout", "remove stored credentials for a registry");
    cmd->add_option("registry", flags->registry, "registry host, e.g. registry.example.com")->required();
    cmd->add_option("--registry-config", flags->registry_config, "Docker config.json (default: ~/.docker/config.json)")
        ->check(non_empty_path());
    flags->output.add_to(*cmd, "the registry and whether credentials were removed");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_logout(*flags, io); }; });
}

}  // namespace karmor::cli
