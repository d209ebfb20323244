// karmor oci copy (SPEC §11): SRC to DST, registry or OCI layout on either side, with -r
// everything attached; ORAS's `cp` flags for layouts.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "util/json_text.hpp"
#include "karmor/moving.hpp"

namespace karmor::cli {
namespace {

struct CopyFlags {
    std::string source;
    std::string destination;
    bool recursive = false;
    bool force = false;
    bool from_oci_layout = false;
    bool to_oci_layout = false;
    OutputFlags output;
    RemoteFlags remote;
};

TargetSyntax source_syntax() {
    TargetSyntax syntax;
    syntax.layout_flag = "--from-oci-layout";
    return syntax;
}

TargetSyntax destination_syntax() {
    TargetSyntax syntax;
    syntax.layout_flag = "--to-oci-layout";
    syntax.creates_layout = true;
    return syntax;
}

// What the user wrote after the repository: a tag, a digest, or nothing.
enum class Named { nothing, tag, digest };
Named named_in(const std::string& text) {
    const auto last_slash = text.rfind('/');
    const auto tail = last_slash == std::string::npos ? text : text.substr(last_slash + 1);
    if (tail.find('@') != std::string::npos) return tail.find(':') < tail.find('@') ? Named::tag : Named::digest;
    return tail.find(':') != std::string::npos ? Named::tag : Named::nothing;
}

nlohmann::ordered_json stats_json(const CopyStats& s) {
    return {{"manifestsCopied", s.manifests_copied},
            {"manifestsPresent", s.manifests_present},
            {"tagsSet", s.tags_set},
            {"blobsCopied", s.blobs_copied},
            {"blobsMounted", s.blobs_mounted},
            {"blobsPresent", s.blobs_present},
            {"bytesCopied", s.bytes_copied},
            {"referrers", s.referrers},
            {"signatureTags", s.signature_tags},
            {"fallbackTagEntries", s.fallback_tag_entries},
            {"missing", s.missing}};
}

int run_copy(const CopyFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    CopyOptions options;
    options.recursive = flags.recursive;
    options.force = flags.force;
    if (auto t = parse_target(flags.source, flags.from_oci_layout, options.source.reference, options.source.layout,
                              source_syntax());
        !t)
        return report_error(t.error(), io);
    if (auto t = parse_target(flags.destination, flags.to_oci_layout, options.destination.reference,
                              options.destination.layout, destination_syntax());
        !t)
        return report_error(t.error(), io);
    if (!flags.to_oci_layout) {
        // `copy REPO:v1 OTHER/REPO` keeps the tag, as `oras cp` does; a digest-only DST is untagged.
        const auto named = named_in(flags.destination);
        const std::string source_tag =
            options.source.layout ? options.source.layout->tag : options.source.reference.tag();
        if (named == Named::nothing) options.destination_tag = source_tag.empty() ? "latest" : source_tag;
        if (named == Named::digest) options.destination_tag = "";
    }
    auto source_remote =
        flags.remote.resolve(io, options.source.layout ? std::string() : options.source.reference.registry());
    if (!source_remote) return report_error(source_remote.error(), io);
    options.source.remote = *source_remote;
    if (flags.remote.password_stdin) {
        options.destination.remote = *source_remote;  // -u/--password-stdin: the same user on both sides
    } else {
        auto destination_remote = flags.remote.resolve(
            io, options.destination.layout ? std::string() : options.destination.reference.registry());
        if (!destination_remote) return report_error(destination_remote.error(), io);
        options.destination.remote = std::move(*destination_remote);
    }

    auto result = copy_artifact(options);
    if (!result) {
        auto error = std::move(result).error();
        // Which side failed is not known here: the hint about layouts is given for each side.
        explain_target(flags.source, flags.from_oci_layout, error, source_syntax());
        explain_target(flags.destination, flags.to_oci_layout, error, destination_syntax());
        return report_error(error, io);
    }
    const auto& s = result->stats;
    if (flags.output.json()) {
        nlohmann::ordered_json out = {{"source", result->source},
                                      {"destination", result->destination},
                                      {"digest", result->manifest.digest.str()}};
        if (!result->destination_tag.empty()) out["tag"] = result->destination_tag;
        if (result->replaced) out["replaced"] = result->replaced->str();
        out["stats"] = stats_json(s);
        io.out << util::dump_json(out, 2) << "\n";
        return exit_ok;
    }
    io.out << result->manifest.digest.str() << "\n";
    if (flags.output.summary()) {
        io.err << "Copied " << result->source << " to "
               << (result->destination_tag.empty() ? result->destination : result->destination_tag) << ": "
               << counted(static_cast<std::size_t>(s.manifests_copied), "manifest") << " sent (" << s.manifests_present
               << " already there), " << counted(static_cast<std::size_t>(s.blobs_copied), "blob") << " uploaded, "
               << s.blobs_mounted << " mounted, " << s.blobs_present << " already there";
        if (flags.recursive)
            io.err << "; " << counted(static_cast<std::size_t>(s.referrers), "referrer") << ", "
                   << counted(static_cast<std::size_t>(s.signature_tags), "signature tag");
        io.err << "\n";
        if (result->replaced)
            io.err << "Moved the tag " << result->destination_tag << " from " << result->replaced->str() << "\n";
    }
    for (const auto& missing : s.missing) io.warn("listed as a referrer but missing: " + missing);
    return exit_ok;
}

}  // namespace

void add_copy_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<CopyFlags>();
    auto* cmd = oci.add_subcommand("copy", "copy an artifact (and with -r what is attached) between registries and "
                                           "OCI layouts, digests unchanged");
    cmd->alias("cp");
    cmd->add_option("source", flags->source, "SRC: REGISTRY/REPO[:TAG|@DIGEST], or DIR[:TAG|@DIGEST]")->required();
    cmd->add_option("destination", flags->destination,
                    "DST: REGISTRY/REPO[:TAG], or DIR[:TAG]; without a tag the source's tag")
        ->required();
    cmd->add_flag("-r,--recursive", flags->recursive,
                  "also the referrers (attached policies, signatures, SBOMs), recursively, and cosign's "
                  "sha256-<hex>.sig/.att/.sbom tags");
    cmd->add_flag("--force", flags->force,
                  "move DST's tag when it holds something other than KubeArmor policies (an image, a chart, …)");
    cmd->add_flag("--from-oci-layout", flags->from_oci_layout, "SRC is a local OCI image layout");
    cmd->add_flag("--to-oci-layout", flags->to_oci_layout, "DST is a local OCI image layout");
    flags->output.add_to(*cmd, "source, destination, digest and counts");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci copy -r dev.example.com/shop/cart:1.4 prod.example.com/shop/cart:1.4\n"
                "  karmor oci copy -r registry.example.com/team/policies:v3 --to-oci-layout ./airgap:v3\n"
                "  karmor oci copy -r --from-oci-layout ./airgap:v3 mirror.internal/team/policies\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_copy(*flags, io); }; });
}

}  // namespace karmor::cli
