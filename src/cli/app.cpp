#include <iostream>

#include "cli/cli.hpp"

namespace karmor::cli {

int exit_code_for(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::usage: return exit_usage;
        case ErrorKind::validation: return exit_validation;
        case ErrorKind::not_found: return exit_not_found;
        case ErrorKind::auth: return exit_auth;
        case ErrorKind::registry: return exit_registry;
        case ErrorKind::io: return exit_io;
    }
    return exit_internal;
}

int report_error(const Error& error, Streams& io) {
    io.err << "Error: " << error.message << "\n";
    for (const auto& line : error.details) io.err << "  " << line << "\n";
    if (!error.hint.empty()) io.err << "Hint: " << error.hint << "\n";
    return exit_code_for(error.kind);
}

int run(int argc, char** argv, Streams io) {
    CLI::App app{"karmor: ship KubeArmor security policies as OCI artifacts", "karmor"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "show help for every command");
    Action action;

    auto* oci = app.add_subcommand("oci", "push and pull KubeArmor policies to and from OCI registries");
    oci->require_subcommand(1);
    add_push_command(*oci, action);
    add_pull_command(*oci, action);
    add_login_command(*oci, action);
    add_logout_command(*oci, action);
    add_version_command(app, action);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e, io.out, io.err);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e, io.out, io.err);
    } catch (const CLI::ParseError& e) {
        io.err << "Error: " << e.what() << "\n"
               << "Hint: run `karmor --help` or `karmor oci COMMAND --help` for the flags\n";
        return exit_usage;
    }
    if (!action) return exit_usage;
    try {
        return action(io);
    } catch (const std::exception& e) {
        io.err << "Error: internal error: " << e.what() << "\n";
        return exit_internal;
    }
}

}  // namespace karmor::cli
