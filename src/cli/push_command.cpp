#include <cstdlib>

#include "cli/cli.hpp"
#include "karmor/oci.hpp"

namespace karmor::cli {
namespace {

struct PushFlags {
    std::string reference;
    std::vector<std::string> inputs;
    std::string format = "yaml";
    std::vector<std::string> annotations;
    bool force = false;
    bool dry_run = false;
    bool recursive = false;
    bool skip_validation = false;
    RemoteFlags remote;
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
    auto reference = Reference::parse(flags.reference);
    if (!reference) return unexpected(std::move(reference).error());
    options.reference = *reference;
    for (const auto& input : flags.inputs) options.inputs.emplace_back(input);
    options.format = flags.format == "json" ? PolicyFormat::json : PolicyFormat::yaml;
    for (const auto& pair : flags.annotations) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return unexpected(Error(ErrorKind::usage, "annotation \"" + pair + "\" is not KEY=VALUE",
                                    "for example -a org.opencontainers.image.source=https://example.com/repo"));
        options.annotations[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    options.force = flags.force;
    options.dry_run = flags.dry_run;
    options.load.recursive = flags.recursive;
    options.load.skip_validation = flags.skip_validation;
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

int run_push(const PushFlags& flags, Streams& io) {
    auto options = to_options(flags, io);
    if (!options) return report_error(options.error(), io);
    if (flags.skip_validation)
        io.err << "Warning: --skip-validation: policies are pushed without schema validation\n";
    auto result = push_policies(*options);
    if (!result) return report_error(result.error(), io);

    const auto count = result->policies.size();
    const std::string policies = std::to_string(count) + (count == 1 ? " policy" : " policies");
    if (options->dry_run) {
        io.err << "Dry run: would push " << policies << " to " << options->reference.str() << "\n";
        for (const auto& p : result->policies) io.err << "  " << p.identity.str() << "  (" << p.file << ")\n";
        io.err << "  config " << result->manifest.config->digest.str() << "\n";
        for (const auto& layer : result->manifest.layers)
            io.err << "  layer  " << layer.digest.str() << "  " << layer.media_type << "\n";
    } else if (result->tag_unchanged) {
        io.err << options->reference.str() << " already holds these " << policies << "; the tag is unchanged\n";
    } else {
        io.err << "Pushed " << policies << " to " << options->reference.str() << " (" << result->blobs_uploaded
               << " blobs uploaded, " << result->blobs_skipped << " already there)\n";
    }
    io.out << result->manifest_digest.str() << "\n";
    return exit_ok;
}

}  // namespace

void add_push_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<PushFlags>();
    auto* cmd = oci.add_subcommand("push", "validate policies and push them as an OCI artifact");
    cmd->add_option("-i,--image", flags->reference, "target reference, e.g. localhost:5000/team/policies:v1")
        ->required();
    cmd->add_option("-p,--policy", flags->inputs, "policy file or directory (repeatable)")->required();
    cmd->add_option("--format", flags->format, "serialization of the policies in the artifact")
        ->check(CLI::IsMember({"yaml", "json"}));
    cmd->add_option("-a,--annotation", flags->annotations, "manifest annotation KEY=VALUE (repeatable)");
    cmd->add_flag("--force", flags->force, "replace a tag that holds something other than KubeArmor policies");
    cmd->add_flag("--dry-run", flags->dry_run, "validate and build the artifact, print it, send nothing");
    cmd->add_flag("-r,--recursive", flags->recursive, "descend into subdirectories of directory inputs");
    cmd->add_flag("--skip-validation", flags->skip_validation, "push without schema validation (warns)");
    flags->remote.add_to(*cmd);
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_push(*flags, io); }; });
}

}  // namespace karmor::cli
