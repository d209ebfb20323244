// `karmor oci key generate [--output-key-prefix NAME] [--force]` (SPEC §9 "Keys"): a new ECDSA
// P-256 key pair, NAME.key encrypted the way cosign encrypts it and NAME.pub, usable by both.
#include <filesystem>
#include <iostream>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "signing/encrypted_key.hpp"
#include "util/atomic_file.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct KeyGenerateFlags {
    std::string prefix = "cosign";  // cosign's default: cosign.key and cosign.pub
    bool force = false;
    OutputFlags output;
};

// An existing file is replaced only with --force or a "y" typed on the terminal, as cosign asks.
Result<void> allow_overwrite(const std::filesystem::path& file, const KeyGenerateFlags& flags, Streams& io) {
    std::error_code ec;
    if (flags.force || !std::filesystem::exists(std::filesystem::symlink_status(file, ec))) return {};
    if (input_is_terminal(io)) {
        io.err << "File " << file.string() << " already exists. Overwrite (y/N)? " << std::flush;
        std::string answer;
        std::getline(io.in, answer);
        if (answer == "y" || answer == "Y" || answer == "yes") return {};
    }
    return unexpected(Error(ErrorKind::usage, file.string() + " already exists; not overwritten",
                            "pass --force to replace it, or --output-key-prefix NAME to write other files"));
}

int run_key_generate(const KeyGenerateFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    if (flags.prefix.empty() || flags.prefix.back() == '/')
        return report_error(
            Error(ErrorKind::usage, "--output-key-prefix needs a file name, e.g. release or keys/release"), io);
    const std::filesystem::path private_file = flags.prefix + ".key";
    const std::filesystem::path public_file = flags.prefix + ".pub";
    for (const auto& file : {private_file, public_file})
        if (auto allowed = allow_overwrite(file, flags, io); !allowed) return report_error(allowed.error(), io);

    auto password = key_password_source(io, private_file.string())(true);
    if (!password) return report_error(password.error(), io);
    auto pair = signing::generate_key_pair(*password);
    signing::wipe_secret(*password);
    if (!pair) return report_error(pair.error(), io);

    if (auto written = util::write_file_atomically(private_file, pair->private_pem, 0600); !written)
        return report_error(written.error(), io);
    if (auto written = util::write_file_atomically(public_file, pair->public_pem, 0644); !written)
        return report_error(written.error(), io);
    if (flags.output.json()) {
        io.out << util::dump_json({{"privateKey", private_file.string()}, {"publicKey", public_file.string()}}, 2)
               << "\n";
        return exit_ok;
    }
    if (flags.output.summary())
        io.err << "Private key written to " << private_file.string() << "\n"
               << "Public key written to " << public_file.string() << "\n";
    io.out << private_file.string() << "\n" << public_file.string() << "\n";
    return exit_ok;
}

}  // namespace

void add_key_command(CLI::App& oci, Action& action) {
    auto* key = oci.add_subcommand("key", "make signing keys (ECDSA P-256, cosign's formats)");
    key->require_subcommand(1);
    auto flags = std::make_shared<KeyGenerateFlags>();
    auto* generate = key->add_subcommand(
        "generate", "write a new key pair: NAME.key (encrypted with a password, as cosign does) and NAME.pub");
    generate->add_option("--output-key-prefix", flags->prefix, "write NAME.key and NAME.pub")
        ->check(non_empty_path())
        ->option_text("NAME")
        ->default_str("cosign");
    generate->add_flag("--force", flags->force, "replace existing files without asking");
    flags->output.add_to(*generate, "the two files written");
    generate->footer("\nThe password comes from KARMOR_PASSWORD, else COSIGN_PASSWORD, else a prompt on the "
                     "terminal (asked twice).\nExample:\n  KARMOR_PASSWORD=... karmor oci key generate "
                     "--output-key-prefix release");
    generate->callback([flags, &action] { action = [flags](Streams& io) { return run_key_generate(*flags, io); }; });
}

}  // namespace karmor::cli
