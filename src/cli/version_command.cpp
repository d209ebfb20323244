#include <archive.h>
#include <curl/curlver.h>
#include <openssl/opensslv.h>
#include <yaml.h>

#include "cli/cli.hpp"

namespace karmor::cli {

void add_version_command(CLI::App& app, Action& action) {
    auto* cmd = app.add_subcommand("version", "print the version of karmor and of its libraries");
    cmd->callback([&action] {
        action = [](Streams& io) {
            // libcurl, libarchive and OpenSSL are opened only by the commands that use them
            // (docs/benchmarks.md, Start-up), so their versions here are those karmor was built with.
            io.out << "karmor " << KARMOR_VERSION << " (commit " << KARMOR_GIT_COMMIT << ")\n"
                   << "libyaml " << yaml_get_version_string() << "; built with libcurl " << LIBCURL_VERSION << ", "
                   << ARCHIVE_VERSION_STRING << ", " << OPENSSL_VERSION_TEXT << " (loaded when needed)\n";
            return exit_ok;
        };
    });
}

}  // namespace karmor::cli
