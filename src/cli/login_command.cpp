// `karmor oci login REGISTRY [-u USER] [--password-stdin]` (SPEC §2, §7): checks the
// credentials against the registry, then stores them where Docker would.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <istream>

#include "cli/cli.hpp"
#include "karmor/credentials.hpp"

namespace karmor::cli {
namespace {

struct LoginFlags {
    std::string registry;
    std::string username;
    bool password_stdin = false;
    RemoteFlags remote;
};

// Turns terminal echo off for its lifetime (the password prompt).
class EchoOff {
public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (tcgetattr(fd_, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
    ~EchoOff() {
        if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
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
    if (&io.in != &std::cin || !isatty(STDIN_FILENO))
        return unexpected(Error(ErrorKind::usage, "no password: standard input is not a terminal",
                                "pipe the password in: echo \"$PASSWORD\" | karmor oci login " + flags.registry +
                                    " -u USER --password-stdin"));
    if (credentials.username.empty()) {
        io.err << "Username: " << std::flush;
        std::getline(io.in, credentials.username);
        credentials.username = trim_line_end(credentials.username);
    }
    {
        io.err << "Password: " << std::flush;
        EchoOff no_echo(STDIN_FILENO);
        std::getline(io.in, credentials.password);
    }
    io.err << "\n";
    credentials.password = trim_line_end(credentials.password);
    if (credentials.username.empty() || credentials.password.empty())
        return unexpected(Error(ErrorKind::usage, "a user name and a password are needed to log in"));
    return credentials;
}

int run_login(const LoginFlags& flags, Streams& io) {
    auto options = flags.remote.resolve_connection(io);
    if (!options) return report_error(options.error(), io);
    auto credentials = read_credentials(flags, io);
    if (!credentials) return report_error(credentials.error(), io);
    options->credentials = *credentials;
    const auto registry = normalize_registry(flags.registry);
    if (auto checked = verify_credentials(flags.registry, *options); !checked) return report_error(checked.error(), io);
    auto stored = store_credentials(registry, *credentials, flags.remote.registry_config);
    if (!stored) return report_error(stored.error(), io);
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
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_login(*flags, io); }; });
}

}  // namespace karmor::cli
