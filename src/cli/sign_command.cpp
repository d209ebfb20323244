// karmor oci sign (SPEC §9): cosign-compatible signatures of an artifact, in both formats by default.
#include "cli/cli.hpp"
#include "util/json_text.hpp"
#include "cli/output_flags.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/signing.hpp"

namespace karmor::cli {
namespace {

struct SignFlags {
    TargetFlags target;
    std::string key;
    std::vector<std::string> annotations;
    std::string signature_format = "both";
    std::string signed_identity;
    RemoteFlags remote;
    OutputFlags output;
};

SignatureFormats to_formats(const std::string& text) {
    if (text == "legacy") return SignatureFormats::legacy;
    if (text == "bundle") return SignatureFormats::bundle;
    return SignatureFormats::both;
}

int run_sign(const SignFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    SignOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto annotations = parse_key_values(flags.annotations, "-a");
    if (!annotations) return report_error(annotations.error(), io);
    options.annotations = std::move(*annotations);
    options.key_file = flags.key;
    options.password = key_password_source(io, flags.key);
    options.formats = to_formats(flags.signature_format);
    options.signed_identity = flags.signed_identity;
    if (auto text = require_utf8(flags.signed_identity, "--signed-identity"); !text)
        return report_error(text.error(), io);
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);

    auto result = sign_artifact(options);
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    print_sign_result(*result, flags.output, io);
    return exit_ok;
}

}  // namespace

void print_sign_result(const SignResult& result, const OutputFlags& output, Streams& io) {
    if (output.json()) {
        nlohmann::ordered_json out = {{"reference", result.location},
                                      {"digest", result.digest.str()},
                                      {"signedIdentity", result.signed_identity},
                                      {"keyHint", result.key_hint}};
        auto signatures = nlohmann::ordered_json::array();
        for (const auto& s : result.signatures) {
            nlohmann::ordered_json entry = {
                {"format", s.format}, {"location", s.location}, {"alreadyPresent", s.already_present}};
            if (!s.indexing.empty()) entry["indexing"] = s.indexing;
            signatures.push_back(std::move(entry));
        }
        out["signatures"] = std::move(signatures);
        io.out << util::dump_json(out, 2) << "\n";
        return;
    }
    if (output.summary()) {
        io.err << "Signed " << result.location << " as " << result.signed_identity << " (key hint " << result.key_hint
               << ")\n";
        for (const auto& s : result.signatures) {
            io.err << "  " << s.format << "  " << s.location;
            if (s.already_present)
                io.err << "  (already signed by this key; nothing written)";
            else if (!s.indexing.empty())
                io.err << "  (" << s.indexing << ")";
            io.err << "\n";
        }
    }
    io.out << result.digest.str() << "\n";
}

void add_sign_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<SignFlags>();
    auto* cmd = oci.add_subcommand("sign", "sign an artifact with a key, as cosign does (legacy .sig tag and "
                                           "Sigstore bundle referrer)");
    flags->target.add_to(*cmd, "reference to sign; a tag is resolved to its digest once");
    cmd->add_option("--key", flags->key,
                    "private key: cosign's NAME.key (password from KARMOR_PASSWORD or "
                    "COSIGN_PASSWORD), or an unencrypted PKCS#8/SEC1 PEM ECDSA P-256 key")
        ->required()
        ->check(existing_file());
    cmd->add_option("-a,--annotation", flags->annotations, "signed annotation KEY=VALUE (repeatable)");
    cmd->add_option("--signature-format", flags->signature_format,
                    "legacy (cosign 2: sha256-<hex>.sig tag), bundle (cosign 3: Sigstore bundle referrer) or both")
        ->check(CLI::IsMember({"legacy", "bundle", "both"}));
    cmd->add_option("--signed-identity", flags->signed_identity,
                    "REGISTRY/REPO the signature names (default: REF's; required with --oci-layout)");
    flags->remote.add_to(*cmd);
    flags->output.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci sign registry.example.com/team/policies:v3 --key cosign.key\n"
                "  karmor oci sign -i localhost:5000/p:v1 --key k.pem -a env=prod --signature-format legacy\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_sign(*flags, io); }; });
}

}  // namespace karmor::cli
