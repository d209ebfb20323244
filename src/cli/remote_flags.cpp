#include <istream>
#include <map>
#include <memory>
#include <ostream>

#include "cli/cli.hpp"
#include "karmor/credentials.hpp"
#include "oci/redact.hpp"
#include "util/duration.hpp"

namespace karmor::cli {
namespace {

// SPEC §15: a mirror's credentials are what login stored for the mirror's host, looked up once
// per host and only when the mirror asks.
std::function<Credentials(const std::string&)> mirror_credentials(Streams& io, const std::string& config) {
    auto found = std::make_shared<std::map<std::string, Credentials>>();
    std::ostream* err = &io.err;
    return [found, err, config](const std::string& host) {
        if (const auto known = found->find(host); known != found->end()) return known->second;
        auto stored = find_credentials(host, config);
        if (!stored)
            *err << "Warning: cannot read the credentials for the mirror " << host << ": "
                 << oci::redact_text(stored.error().message) << "; going on without them\n";
        return (*found)[host] = stored ? std::move(*stored) : Credentials();
    };
}

}  // namespace

void RemoteFlags::add_to(CLI::App& command, bool with_credentials) {
    for (const auto* app = &command; app; app = app->get_parent())
        command_line = app->get_name() + (command_line.empty() ? "" : " " + command_line);
    command.add_flag("--plain-http", plain_http, "speak plain HTTP to the registry (any host)");
    command.add_flag("--insecure", insecure, "skip TLS certificate verification");
    command.add_option("--ca-file", ca_file, "PEM file of CA certificates to trust for the registry")
        ->check(existing_file());
    command.add_option("--cert-file", cert_file, "client TLS certificate (PEM)")->check(existing_file());
    command.add_option("--key-file", key_file, "client TLS key (PEM)")->check(existing_file());
    command
        .add_option("--registry-config", registry_config,
                    "Docker config.json with credentials (default: $DOCKER_CONFIG/config.json or "
                    "~/.docker/config.json)")
        ->check(non_empty_path());
    if (with_credentials) {
        command.add_option("-u,--username", username, "registry user name (with --password-stdin)");
        command.add_flag("--password-stdin", password_stdin, "read the registry password from standard input");
    }
    command.add_flag("-v,--verbose", verbose, "trace every HTTP request on stderr (secrets redacted)");
    command
        .add_option("--timeout", timeout,
                    "give up on the registry after this long, retries included, e.g. 30s or 2m (default: no overall "
                    "limit, but a connection attempt, TLS handshake included, gives up after 15 s and a request that "
                    "moves no byte for 60 s is abandoned; each is tried 4 times, except a server on this machine that "
                    "never answers)")
        ->option_text("DURATION");
}

Result<RemoteOptions> RemoteFlags::resolve_connection(Streams& io) const {
    RemoteOptions options;
    options.plain_http = plain_http;
    options.insecure = insecure;
    options.ca_file = ca_file;
    options.cert_file = cert_file;
    options.key_file = key_file;
    if (cert_file.empty() != key_file.empty())
        return unexpected(Error(ErrorKind::usage, "--cert-file and --key-file go together", "pass both or neither"));
    options.cancel = &interruption_flag();
    if (!timeout.empty()) {
        auto duration = util::parse_duration(timeout, "--timeout");
        if (!duration) return unexpected(std::move(duration).error());
        options.timeout_ms = static_cast<long>(duration->count());
    }
    if (verbose) {
        std::ostream* err = &io.err;
        options.trace = [err](const std::string& line) { *err << "karmor: " << line << "\n"; };
    }
    Streams* streams = &io;
    options.warn = [streams](const std::string& text) { streams->warn(oci::redact_text(text)); };
    mirrors.apply(io, options);
    return options;
}

Result<RemoteOptions> RemoteFlags::resolve(Streams& io, const std::string& registry) const {
    auto options = resolve_connection(io);
    if (!options) return options;
    options->mirrors.find_credentials = mirror_credentials(io, registry_config);
    if (password_stdin) {
        if (username.empty()) return unexpected(Error(ErrorKind::usage, "--password-stdin needs -u/--username"));
        std::string password((std::istreambuf_iterator<char>(io.in)), std::istreambuf_iterator<char>());
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
        if (password.empty())
            return unexpected(Error(ErrorKind::usage, "--password-stdin: standard input held no password"));
        options->credentials.username = username;
        options->credentials.password = std::move(password);
        return options;
    }
    if (!username.empty())
        return unexpected(
            Error(ErrorKind::usage, "-u/--username needs --password-stdin",
                  "pipe the password in: echo \"$PASSWORD\" | " + command_line + " … -u USER --password-stdin"));
    if (registry.empty()) return options;  // an OCI layout: no registry, no credentials
    // Flags win; without them, what `karmor oci login` (or docker login) stored, read only
    // when the registry asks (a 401). A config that cannot be read or a credential helper that
    // is missing is a warning, once, as docker does: the registry may take anonymous requests.
    struct Lookup {
        bool done = false;
        Credentials found;
    };
    auto lookup = std::make_shared<Lookup>();
    options->find_credentials = [lookup, warn = options->warn, registry, config = registry_config]() {
        if (!lookup->done) {
            lookup->done = true;
            auto stored = find_credentials(registry, config);
            if (stored)
                lookup->found = std::move(*stored);
            else
                warn("cannot read the credentials for " + registry + ": " + stored.error().message +
                     "; going on without them");
        }
        return lookup->found;
    };
    return options;
}

}  // namespace karmor::cli
