#include <archive.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "cli/cli.hpp"

namespace karmor::cli {

void add_version_command(CLI::App& app, Action& action) {
    auto* cmd = app.add_subcommand("version", "print the version of karmor and of its libraries");
    cmd->callback([&action] {
        action = [](Streams& io) {
            io.out << "karmor " << KARMOR_VERSION << " (commit " << KARMOR_GIT_COMMIT << ")\n"
                   << "libcurl " << curl_version_info(CURLVERSION_NOW)->version << ", "
                   << OpenSSL_version(OPENSSL_VERSION) << ", " << archive_version_string() << ", libyaml "
                   << yaml_get_version_string() << "\n";
            return exit_ok;
        };
    });
}

}  // namespace karmor::cli
