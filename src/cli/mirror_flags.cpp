#include <memory>
#include <ostream>

#include "cli/cli.hpp"

namespace karmor::cli {

void MirrorFlags::add_to(CLI::App& command) {
    command.add_flag("--no-mirrors", no_mirrors,
                     "read from the registry in the reference only: ignore registries.conf and hosts.toml");
    command
        .add_option("--hosts-dir", hosts_dir,
                    "containerd's hosts directory to read mirrors from (default: $KARMOR_HOSTS_DIR, else "
                    "/etc/containerd/certs.d)")
        ->option_text("DIR");
}

void MirrorFlags::apply(Streams& io, RemoteOptions& options) const {
    options.mirrors.enabled = !no_mirrors;
    options.mirrors.hosts_dir = hosts_dir;
    Streams* streams = &io;
    // A follow round, or a pull after a resolve, reads through the same mirror again: its line is
    // said once, and again only when another endpoint served in between.
    auto last = std::make_shared<std::string>();
    options.mirrors.notice = [streams, last](const std::string& line) {
        if (line == *last || streams->quiet) return;  // -q: no lines beside results and errors
        *last = line;
        streams->err << line << "\n" << std::flush;
    };
}

}  // namespace karmor::cli
