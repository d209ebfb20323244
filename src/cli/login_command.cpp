// `karmor oci login REGISTRY [-u USER] [--password-stdin]` (SPEC §2, §7): checks the
// credentials against the registry, then stores them where Docker would.
#include <iostream>
#include <istream>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/credentials.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct LoginFlags {
    std::string registry;
    std::string username;
    bool password_stdin = false;
    RemoteFlags remote;
    OutputFlags output;
};

std::string trim_line_end(std::string line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
}

Result<Credentials> read_credentials(const LoginFlags& flags, Streams& io) {
    Credentials credentials;
    credentials.username = flags.username;
    if (flags.password_stdin) {
        if (flags.username.empty()) return unexpected(Error(ErrorKind::usage, "--password-stdin needs -u/--username"));
        credentials.password =
            trim_line_end(std::string((std::istreambuf_iterator<char>(io.in)), std::istreambuf_iterator<char>()));
        if (credentials.password.empty())
            return unexpected(Error(ErrorKind::usage, "--password-stdin: standard input held no password"));
        return credentials;
    }
    if (!input_is_terminal(io))
        return unexpected(Error(ErrorKind::usage, "no password: standard input is not a terminal",
                                "pipe the password in: echo \"$PASSWORD\" | karmor oci login " + flags.registry +
                                    " -u USER --password-stdin"));
    if (credentials.username.empty()) {
        io.err << "Username: " << std::flush;
        std::getline(io.in, credentials.username);
        credentials.username = trim_line_end(credentials.username);
    }
    auto password = read_hidden_line(io, "Password: ");
    if (!password) return unexpected(std::move(password).error());
    credentials.password = std::move(*password);
    if (credentials.username.empty() || credentials.password.empty())
        return unexpected(Error(ErrorKind::usage, "a user name and a password are needed to log in"));
    return credentials;
}

int run_login(const LoginFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    if (auto text = require_utf8(flags.username, "-u/--username"); !text) return report_error(text.error(), io);
    auto options = flags.remote.resolve_connection(io);
    if (!options) return report_error(options.error(), io);
    auto credentials = read_credentials(flags, io);
    if (!credentials) return report_error(credentials.error(), io);
    options->credentials = *credentials;
    const auto registry = normalize_registry(flags.registry);
    if (auto checked = verify_credentials(flags.registry, *options); !checked) return report_error(checked.error(), io);
    auto stored = store_credentials(registry, *credentials, flags.remote.registry_config);
    if (!stored) return report_error(stored.error(), io);
    if (flags.output.json())
        io.out << util::dump_json({{"registry", registry}, {"storedIn", *stored}}, 2) << "\n";
    else if (!flags.output.quiet)
        io.err << "Login succeeded: credentials for " << registry << " stored in " << *stored << "\n";
    return exit_ok;
}

}  // namespace

void add_login_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<LoginFlags>();
    auto* cmd = oci.add_subcommand("login", "check credentials against a registry and store them");
    cmd->add_option("registry", flags->registry, "registry host, e.g. registry.example.com or localhost:5000")
        ->required();
    cmd->add_option("-u,--username", flags->username, "registry user name (prompted for on a terminal)");
    cmd->add_flag("--password-stdin", flags->password_stdin, "read the password from standard input");
    flags->remote.add_to(*cmd, false);
    flags->output.add_to(*cmd, "the registry and where the credentials were stored");
    cmd->footer("\nThe password is never taken from the command line (it would be in your shell history and in "
                "`ps`):\n  echo \"$PASSWORD\" | karmor oci login registry.example.com -u USER --password-stdin\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_login(*flags, io); }; });
}

}  // namespace karmor::cli
