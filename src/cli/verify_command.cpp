// karmor oci verify (SPEC §9): which signatures verify under which key, in which format; exit
// code 8 when none does.
#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "util/json_text.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/signing.hpp"

namespace karmor::cli {
namespace {

struct VerifyFlags {
    TargetFlags target;
    std::vector<std::string> keys;
    std::vector<std::string> annotations;
    std::string signed_identity;
    KeylessFlags keyless;
    OutputFlags output;
    RemoteFlags remote;
};

int run_verify(const VerifyFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    VerifyOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto annotations = parse_key_values(flags.annotations, "-a");
    if (!annotations) return report_error(annotations.error(), io);
    options.requirements.annotations = std::move(*annotations);
    for (const auto& key : flags.keys) options.requirements.public_keys.emplace_back(key);
    options.requirements.signed_identity = flags.signed_identity;
    auto keyless = flags.keyless.resolve();
    if (!keyless) return report_error(keyless.error(), io);
    options.requirements.keyless = std::move(*keyless);
    if (flags.keys.empty() && !options.requirements.keyless)
        return report_error(Error(ErrorKind::usage, "verify needs --key or --trusted-root",
                                  "pass --key NAME.pub for key-based signatures, or --trusted-root trusted_root.json "
                                  "with --certificate-identity and --certificate-oidc-issuer for keyless ones"),
                            io);
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);

    auto result = verify_artifact(options);
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (flags.output.json()) {
        nlohmann::ordered_json out = {
            {"reference", result->location}, {"digest", result->digest.str()}, {"verified", result->verified()}};
        auto signatures = nlohmann::ordered_json::array();
        for (const auto& s : result->signatures) signatures.push_back(signature_report_json(s));
        out["signatures"] = std::move(signatures);
        out["problems"] = result->problems;
        io.out << util::dump_json(out, 2) << "\n";
        return exit_ok;
    }
    std::size_t verified = 0;
    for (const auto& s : result->signatures) verified += s.verified ? 1 : 0;
    if (flags.output.summary())
        io.err << "Verified " << result->location << ": " << verified << " of "
               << counted(result->signatures.size(), "signature") << " passed every check\n";
    print_signature_reports(result->signatures, "", io.out);
    for (const auto& problem : result->problems) io.warn(problem);
    return exit_ok;
}

}  // namespace

void add_verify_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<VerifyFlags>();
    auto* cmd = oci.add_subcommand("verify", "verify the cosign signatures of an artifact (exit code 8 when none "
                                             "verifies)");
    flags->target.add_to(*cmd, "reference to verify; a tag is resolved to its digest once");
    cmd->add_option("--key", flags->keys,
                    "public key NAME.pub (PEM); repeatable, any one suffices (or --trusted-root for keyless)")
        ->check(existing_file());
    cmd->add_option("-a,--annotation", flags->annotations, "require the signed annotation KEY=VALUE (repeatable)");
    cmd->add_option("--signed-identity", flags->signed_identity,
                    "REGISTRY/REPO the signatures must name instead of REF's (a mirror; required with --oci-layout)");
    flags->output.add_to(*cmd, "the verdict of every signature");
    flags->keyless.add_to(*cmd);
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer(
        "\nExamples:\n"
        "  karmor oci verify registry.example.com/team/policies:v3 --key cosign.pub\n"
        "  karmor oci verify -i mirror.example.com/policies:v3 --key a.pub --key b.pub "
        "--signed-identity registry.example.com/team/policies -a env=prod --output json\n"
        "  karmor oci verify -i ghcr.io/OWNER/policies:v3 --trusted-root trusted_root.json "
        "--certificate-identity https://github.com/OWNER/policies/.github/workflows/release.yml@refs/heads/main "
        "--certificate-oidc-issuer https://token.actions.githubusercontent.com\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_verify(*flags, io); }; });
}

}  // namespace karmor::cli
