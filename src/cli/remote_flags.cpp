#include <istream>

#include "cli/cli.hpp"

namespace karmor::cli {

void RemoteFlags::add_to(CLI::App& command) {
    command.add_flag("--plain-http", plain_http, "speak plain HTTP to the registry (any host)");
    command.add_flag("--insecure", insecure, "skip TLS certificate verification");
    command.add_option("--ca-file", ca_file, "PEM file of CA certificates to trust for the registry")
        ->check(CLI::ExistingFile);
    command.add_option("--cert-file", cert_file, "client TLS certificate (PEM)")->check(CLI::ExistingFile);
    command.add_option("--key-file", key_file, "client TLS key (PEM)")->check(CLI::ExistingFile);
    command.add_option("-u,--username", username, "registry user name (with --password-stdin)");
    command.add_flag("--password-stdin", password_stdin, "read the registry password from standard input");
    command.add_flag("-v,--verbose", verbose, "trace every HTTP request on stderr (secrets redacted)");
}

Result<RemoteOptions> RemoteFlags::resolve(Streams& io) const {
    RemoteOptions options;
    options.plain_http = plain_http;
    options.insecure = insecure;
    options.ca_file = ca_file;
    options.cert_file = cert_file;
    options.key_file = key_file;
    if (cert_file.empty() != key_file.empty())
        return unexpected(Error(ErrorKind::usage, "--cert-file and --key-file go together", "pass both or neither"));
    if (password_stdin) {
        if (username.empty())
            return unexpected(Error(ErrorKind::usage, "--password-stdin needs -u/--username"));
        std::string password((std::istreambuf_iterator<char>(io.in)), std::istreambuf_iterator<char>());
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
        if (password.empty())
            return unexpected(Error(ErrorKind::usage, "--password-stdin: standard input held no password"));
        options.credentials.password = std::move(password);
    } else if (!username.empty()) {
        return unexpected(Error(ErrorKind::usage, "-u/--username needs --password-stdin",
                                "pipe the password in: echo \"$PASSWORD\" | karmor oci ... -u USER --password-stdin"));
    }
    options.credentials.username = username;
    options.cancel = &interruption_flag();
    if (verbose) {
        std::ostream* err = &io.err;
        options.trace = [err](const std::string& line) { *err << "karmor: " << line << "\n"; };
    }
    return options;
}

}  // namespace karmor::cli
