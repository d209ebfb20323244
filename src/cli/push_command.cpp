#include <algorithm>
#include <cstdlib>
#include <istream>

#include "cli/cli.hpp"
#include "util/json_text.hpp"
#include "cli/limit_flags.hpp"
#include "cli/output_flags.hpp"
#include "cli/progress_line.hpp"
#include "cli/signature_flags.hpp"
#include "oci/manifest_json.hpp"
#include "karmor/oci.hpp"

namespace karmor::cli {
namespace {

struct PushFlags {
    TargetFlags target;
    std::vector<std::string> inputs;
    std::string format = "yaml";
    std::vector<std::string> annotations;
    bool force = false;
    bool dry_run = false;
    bool recursive = false;
    bool skip_validation = false;
    bool attach = false;
    std::string sign_key;  // --sign KEY
    std::string signature_format = "both";
    std::string source;    // --source: org.opencontainers.image.source
    std::string revision;  // --revision: org.opencontainers.image.revision
    std::string layer_format = "auto";
    RemoteFlags remote;
    OutputFlags output;
    LimitFlags limits;
};

Result<std::int64_t> source_date_epoch(const char* value) {
    std::string text(value);
    try {
        std::size_t used = 0;
        const long long seconds = std::stoll(text, &used);
        if (used == text.size() && seconds >= 0) return static_cast<std::int64_t>(seconds);
    } catch (const std::exception&) {
    }
    return unexpected(Error(ErrorKind::usage, "SOURCE_DATE_EPOCH=\"" + text + "\" is not a number of seconds",
                            "set it to a Unix timestamp such as $(git log -1 --format=%ct), or unset it"));
}

Result<PushOptions> to_options(const PushFlags& flags, Streams& io) {
    PushOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return unexpected(std::move(target).error());
    options.attach = flags.attach;
    for (const auto& input : flags.inputs) options.inputs.emplace_back(input);
    options.format = flags.format == "json" ? PolicyFormat::json : PolicyFormat::yaml;
    auto annotations = parse_key_values(flags.annotations, "-a");
    if (!annotations) return unexpected(std::move(annotations).error());
    options.annotations = std::move(*annotations);
    // Provenance (SPEC §11): where the policies come from, as Flux and ORAS show it.
    for (const auto& [key, value] : {std::pair{"org.opencontainers.image.source", flags.source},
                                     std::pair{"org.opencontainers.image.revision", flags.revision}}) {
        if (value.empty()) continue;
        if (auto text =
                require_utf8(value, key == std::string("org.opencontainers.image.source") ? "--source" : "--revision");
            !text)
            return unexpected(std::move(text).error());
        if (const auto it = options.annotations.find(key); it != options.annotations.end() && it->second != value)
            return unexpected(Error(ErrorKind::usage, std::string(key) + " is given twice, with different values",
                                    "pass it either with -a or with --source/--revision"));
        options.annotations[key] = value;
    }
    options.tar_layer = flags.layer_format == "tar";
    options.force = flags.force;
    options.dry_run = flags.dry_run;
    options.load.recursive = flags.recursive;
    options.load.skip_validation = flags.skip_validation;
    auto limits = flags.limits.resolve();
    if (!limits) return unexpected(std::move(limits).error());
    options.load.limits = *limits;
    if (auto stdin_inputs = std::count(flags.inputs.begin(), flags.inputs.end(), "-"); stdin_inputs > 0) {
        if (stdin_inputs > 1)
            return unexpected(Error(ErrorKind::usage, "-p - is given twice", "standard input can be read once"));
        if (flags.remote.password_stdin)
            return unexpected(Error(ErrorKind::usage, "-p - and --password-stdin both read standard input",
                                    "log in first with `karmor oci login`, or put the policies in a file"));
        // Bounded like any policy file (issue 11: every input is bounded).
        std::string text;
        const auto limit = options.load.limits.max_file_bytes;
        char chunk[64 * 1024];
        while (text.size() <= limit && io.in.read(chunk, sizeof chunk).gcount() > 0)
            text.append(chunk, static_cast<std::size_t>(io.in.gcount()));
        if (text.size() > limit)
            return unexpected(Error(ErrorKind::validation,
                                    "standard input (-p -) is over the limit of " + std::to_string(limit) + " bytes",
                                    "raise --max-file-size, or put the policies in files"));
        options.load.standard_input = std::move(text);
    }
    Streams* streams = &io;
    options.load.on_skipped = [streams](const Diagnostic& skipped) { streams->warn(skipped.str()); };
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
        auto seconds = source_date_epoch(epoch);
        if (!seconds) return unexpected(std::move(seconds).error());
        options.source_date_epoch = *seconds;
    }
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return unexpected(std::move(remote).error());
    options.remote = std::move(*remote);
    return options;
}

nlohmann::ordered_json push_result_json(const PushResult& r, bool dry_run) {
    nlohmann::ordered_json out = {{"reference", r.location}, {"digest", r.manifest_digest.str()}};
    out["mediaType"] = r.manifest.media_type;
    out["artifactType"] = r.manifest.artifact_type;
    if (r.manifest.config) out["config"] = oci::descriptor_to_json(*r.manifest.config);
    auto layers = nlohmann::ordered_json::array();
    for (const auto& layer : r.manifest.layers) layers.push_back(oci::descriptor_to_json(layer));
    out["layers"] = std::move(layers);
    if (r.subject) out["subject"] = oci::descriptor_to_json(*r.subject);
    if (!r.referrers_tag.empty()) out["referrersTag"] = r.referrers_tag;
    out["policies"] = policies_to_json(r.policies);
    out["dryRun"] = dry_run;
    out["tagUnchanged"] = r.tag_unchanged;
    out["alreadyAttached"] = r.already_attached;
    out["blobsUploaded"] = r.blobs_uploaded;
    out["blobsSkipped"] = r.blobs_skipped;
    return out;
}

// --sign: what was pushed (or found already there) is signed by its digest.
Result<SignResult> sign_pushed(const PushFlags& flags, const PushOptions& options, const PushResult& pushed,
                               LoadedSigningKey key) {
    SignOptions sign;
    sign.reference = pushed.reference;
    sign.key_file = flags.sign_key;
    sign.loaded_key = std::move(key);
    sign.formats = flags.signature_format == "legacy"   ? SignatureFormats::legacy
                   : flags.signature_format == "bundle" ? SignatureFormats::bundle
                                                        : SignatureFormats::both;
    sign.remote = options.remote;
    return sign_artifact(sign);
}

std::string these_policies(std::size_t count) {
    return count == 1 ? "this policy" : "these " + std::to_string(count) + " policies";
}

int run_push(const PushFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    auto options = to_options(flags, io);
    if (!options) return report_error(options.error(), io);
    if (!flags.sign_key.empty() && (options->dry_run || options->layout))
        return report_error(Error(ErrorKind::usage, "--sign works only for a real push to a registry",
                                  "for a layout, sign afterwards: karmor oci sign --oci-layout DIR@DIGEST --key KEY "
                                  "--signed-identity REGISTRY/REPO"),
                            io);
    // The key (and its password) before the push: a bad key must not leave an unsigned artifact behind.
    LoadedSigningKey sign_key;
    if (!flags.sign_key.empty()) {
        auto loaded = load_key_for_signing(flags.sign_key, key_password_source(io, flags.sign_key));
        if (!loaded) return report_error(loaded.error(), io);
        sign_key = std::move(*loaded);
    }
    if (flags.skip_validation) io.warn("--skip-validation: policies are pushed without schema validation");
    const bool show_progress = io.err_is_terminal && flags.output.summary();
    ProgressLine progress(io.err, show_progress, options->dry_run ? "dry run" : "pushing");
    ProgressTicker ticker(progress, show_progress);
    options->progress = &progress;
    keep_trace_clear_of(progress, options->remote);
    auto result = push_policies(*options);
    progress.finish();
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    std::optional<SignResult> signed_result;
    if (!flags.sign_key.empty()) {
        auto signed_now = sign_pushed(flags, *options, *result, sign_key);
        if (!signed_now) {
            io.err << "Pushed " << result->location << ", but signing it failed\n";
            return report_error(signed_now.error(), io);
        }
        signed_result = std::move(*signed_now);
    }
    if (flags.output.json()) {
        auto out = push_result_json(*result, options->dry_run);
        if (signed_result) {
            auto signatures = nlohmann::ordered_json::array();
            for (const auto& s : signed_result->signatures)
                signatures.push_back(
                    {{"format", s.format}, {"location", s.location}, {"alreadyPresent", s.already_present}});
            out["signatures"] = std::move(signatures);
        }
        io.out << util::dump_json(out, 2) << "\n";
        return exit_ok;
    }
    if (signed_result && flags.output.summary()) {
        for (const auto& s : signed_result->signatures)
            io.err << "Signed (" << s.format << "): " << s.location
                   << (s.already_present ? " (already signed by this key)" : "") << "\n";
    }
    if (!flags.output.summary()) {
        io.out << result->manifest_digest.str() << "\n";
        return exit_ok;
    }

    const auto count = result->policies.size();
    const std::string policies = std::to_string(count) + (count == 1 ? " policy" : " policies");
    const std::string target = options->layout ? options->layout->str() : options->reference.str();
    if (options->dry_run) {
        // One write: std::cerr flushes after every <<, which for 140,000 policies was 700,000
        // write calls (0.05 s of CPU even into /dev/null; more into a pipe or a terminal).
        std::string listing =
            "Dry run: would " + std::string(options->attach ? "attach " : "push ") + policies + " to " + target + "\n";
        for (const auto& p : result->policies) {
            listing += "  ";
            listing += p.identity.str();
            listing += "  (";
            listing += p.file;
            listing += ")\n";
        }
        listing += "  config " + result->manifest.config->digest.str() + "\n";
        for (const auto& layer : result->manifest.layers)
            listing += "  layer  " + layer.digest.str() + "  " + layer.media_type + "\n";
        io.err << listing;
    } else if (result->tag_unchanged) {
        io.err << target << " already holds " << these_policies(count) << "; the tag is unchanged\n";
    } else if (result->already_attached) {
        io.err << "The newest KubeArmor artifact attached to " << target << " (" << result->subject->digest.str()
               << ") already holds " << these_policies(count) << "; nothing was pushed\n";
    } else if (options->attach) {
        io.err << "Attached " << policies << " to " << target << " (" << result->subject->digest.str() << ") as "
               << result->location << " (" << counted(static_cast<std::size_t>(result->blobs_uploaded), "blob")
               << " uploaded, " << result->blobs_skipped << " already there; ";
        switch (result->indexing) {
            case ReferrersIndexing::fallback_tag: io.err << "listed in the tag " << result->referrers_tag; break;
            case ReferrersIndexing::registry: io.err << "indexed by the registry's referrers API"; break;
            default: io.err << "listed in the layout's index.json"; break;
        }
        io.err << ")\n";
    } else {
        io.err << "Pushed " << policies << " to " << target << " ("
               << counted(static_cast<std::size_t>(result->blobs_uploaded), "blob") << " uploaded, "
               << result->blobs_skipped << " already there)\n";
    }
    io.out << result->manifest_digest.str() << "\n";
    return exit_ok;
}

}  // namespace

void add_push_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<PushFlags>();
    auto* cmd = oci.add_subcommand("push", "validate policies and push them as an OCI artifact");
    flags->target.add_to(*cmd, "target reference, e.g. localhost:5000/team/policies:v1");
    cmd->add_option("-p,--policy", flags->inputs, "policy file or directory (repeatable); - reads standard input")
        ->required()
        ->check(non_empty_path())
        ->allow_extra_args(false);  // one value per -p, so that `-p a.yaml REF` leaves REF alone
    cmd->add_option("--format", flags->format, "serialization of the policies in the artifact")
        ->check(CLI::IsMember({"yaml", "json"}));
    cmd->add_option("-a,--annotation", flags->annotations, "manifest annotation KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
    auto* force =
        cmd->add_flag("--force", flags->force, "replace a tag that holds something other than KubeArmor policies");
    cmd->add_flag("--attach", flags->attach,
                  "attach the policies to the image REF (OCI 1.1 referrers: subject set, no tag)")
        ->excludes(force);
    cmd->add_option("--sign", flags->sign_key,
                    "sign what was pushed (also when it was already there) with this private key, as `sign` does")
        ->check(existing_file());
    cmd->add_option("--signature-format", flags->signature_format, "with --sign: legacy, bundle or both")
        ->check(CLI::IsMember({"legacy", "bundle", "both"}));
    cmd->add_option("--source", flags->source,
                    "where the policies come from (org.opencontainers.image.source), e.g. a Git repository URL");
    cmd->add_option("--revision", flags->revision,
                    "the revision they were built from (org.opencontainers.image.revision), e.g. main@sha1:…");
    cmd->add_option("--layer-format", flags->layer_format,
                    "auto: a YAML layer for one policy, tar+gzip for several; tar: always tar+gzip (for Flux)")
        ->check(CLI::IsMember({"auto", "tar"}));
    cmd->add_flag("--dry-run", flags->dry_run, "validate and build the artifact, print it, send nothing");
    cmd->add_flag("-r,--recursive", flags->recursive, "descend into subdirectories of directory inputs");
    cmd->add_flag("--skip-validation", flags->skip_validation, "push without schema validation (warns)");
    flags->remote.add_to(*cmd);
    flags->output.add_to(*cmd);
    flags->limits.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci push localhost:5000/myimage:latest -p mypolicy.yaml\n"
                "  cat mypolicy.yaml | karmor oci push localhost:5000/myimage:latest -p -\n"
                "  karmor oci push -i registry.example.com/team/policies:v3 -p policies/ -a team=security\n"
                "  karmor oci push --attach -i registry.example.com/shop/cart:1.4 -p cart-policies/\n"
                "  karmor oci push --dry-run -i localhost:5000/p:v1 -p policies/ --output json\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_push(*flags, io); }; });
}

}  // namespace karmor::cli
