#include "cli/cli.hpp"
#include "util/json_text.hpp"
#include "cli/limit_flags.hpp"
#include "cli/output_flags.hpp"
#include "cli/progress_line.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/oci.hpp"

namespace karmor::cli {
namespace {

struct PullFlags {
    TargetFlags target;
    std::string output;
    bool force = false;
    bool prune = false;
    bool skip_validation = false;
    VerifyKeyFlags verify;
    RemoteFlags remote;
    OutputFlags format;
    LimitFlags limits;
};

// SPEC §10: what an earlier pull wrote that this artifact no longer has, on stderr.
void report_stale_files(const PullResult& result, Streams& io) {
    for (const auto& file : result.pruned_files)
        io.err << "Removed " << file.string() << " (no longer in the artifact)\n";
    for (const auto& file : result.stale_files)
        io.warn(file.string() + " was written by an earlier pull and is no longer in the artifact; --prune removes it");
    for (const auto& file : result.modified_stale)
        io.warn(file.string() +
                " was written by an earlier pull, is no longer in the artifact and was changed since; kept "
                "(--prune --force removes it)");
}

int run_pull(const PullFlags& flags, Streams& io) {
    flags.format.apply_to(io);
    PullOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    if (flags.output == "-" && flags.format.json())
        return report_error(Error(ErrorKind::usage, "-o - and --output json both want stdout",
                                  "write the policies to a directory, or drop --output json"),
                            io);
    // Nothing is silently ignored: these work on files in a directory, and -o - writes none.
    for (const auto& [set, flag] : {std::pair{flags.prune, "--prune"}, std::pair{flags.force, "--force"}})
        if (set && flags.output == "-")
            return report_error(Error(ErrorKind::usage, std::string(flag) + " needs a directory: -o - writes to stdout",
                                      "pull into a directory (-o DIR), or drop " + std::string(flag)),
                                io);
    if (flags.output == "-")
        options.stream = &io.out;
    else
        options.output_directory = flags.output;
    options.force = flags.force;
    options.prune = flags.prune;
    options.load.skip_validation = flags.skip_validation;
    auto verify = flags.verify.resolve();
    if (!verify) return report_error(verify.error(), io);
    options.verify = std::move(*verify);
    auto limits = flags.limits.resolve();
    if (!limits) return report_error(limits.error(), io);
    options.load.limits = *limits;
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    if (flags.skip_validation) io.warn("--skip-validation: pulled policies are not validated");

    // With -o - on a terminal the policies would be written across the line.
    const bool show_progress = io.err_is_terminal && flags.format.summary() && !(options.stream && io.out_is_terminal);
    ProgressLine progress(io.err, show_progress, "pulling");
    ProgressTicker ticker(progress, show_progress);
    options.progress = &progress;
    keep_trace_clear_of(progress, options.remote);
    auto result = pull_policies(options);
    progress.finish();
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    report_stale_files(*result, io);
    if (flags.format.json()) {
        nlohmann::ordered_json out = {{"reference", result->location}, {"digest", result->manifest_digest.str()}};
        if (result->subject) out["subject"] = result->subject->digest.str();
        out["policies"] = policies_to_json(result->policies);
        auto files = nlohmann::ordered_json::array();
        for (const auto& file : result->files_written) files.push_back({{"path", file.string()}, {"changed", true}});
        for (const auto& file : result->files_unchanged) files.push_back({{"path", file.string()}, {"changed", false}});
        out["files"] = std::move(files);
        if (options.verify) {
            auto signatures = nlohmann::ordered_json::array();
            for (const auto& s : result->signatures) signatures.push_back(signature_report_json(s));
            out["signatures"] = std::move(signatures);
        }
        io.out << util::dump_json(out, 2) << "\n";
        return exit_ok;
    }
    if (!flags.format.summary()) {
        for (const auto& file : result->files_written) io.out << file.string() << "\n";
        for (const auto& file : result->files_unchanged) io.out << file.string() << "\n";
        return exit_ok;
    }
    if (options.verify) {
        std::size_t verified = 0;
        for (const auto& s : result->signatures) verified += s.verified ? 1 : 0;
        io.err << "Verified " << result->location << ": " << verified << " of "
               << counted(result->signatures.size(), "signature") << " passed every check\n";
    }
    const auto count = result->policies.size();
    io.err << "Pulled " << count << (count == 1 ? " policy" : " policies") << " from " << result->location;
    if (result->subject)
        io.err << " (attached to " << flags.target.text() << ", " << result->subject->digest.str() << ")";
    if (!options.stream) {
        io.err << " into " << flags.output;
        if (!result->files_unchanged.empty())
            io.err << " (" << result->files_unchanged.size() << " already up to date)";
    }
    // The summary line ends before the file list starts: on a terminal both share the screen.
    io.err << "\n" << std::flush;
    if (!options.stream) {
        for (const auto& file : result->files_written) io.out << file.string() << "\n";
        for (const auto& file : result->files_unchanged) io.out << file.string() << "\n";
    }
    return exit_ok;
}

}  // namespace

void add_pull_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<PullFlags>();
    auto* cmd = oci.add_subcommand("pull", "pull a KubeArmor policy artifact (or the newest attached to an image) "
                                           "into one YAML file per policy");
    flags->target.add_to(*cmd,
                         "reference to pull, e.g. localhost:5000/team/policies:v1, or an image with policies attached");
    cmd->add_option("-o,--output-dir,-d,--directory", flags->output,
                    "directory to write the policies to; - writes one YAML stream to stdout")
        ->required()
        ->check(non_empty_path());
    cmd->add_flag("--force", flags->force, "replace files that exist with other content");
    cmd->add_flag("--prune", flags->prune,
                  "remove files an earlier pull wrote that this artifact no longer has (edited ones need --force)");
    cmd->add_flag("--skip-validation", flags->skip_validation, "write policies without schema validation (warns)");
    flags->verify.add_to(*cmd, "pull");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    flags->format.add_to(*cmd);
    flags->limits.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci pull localhost:5000/myimage:latest -o mydir\n"
                "  karmor oci pull -i registry.example.com/team/policies@sha256:... -o - | kubectl apply -f -\n"
                "  karmor oci pull --oci-layout -i ./airgap-layout:v3 -o out/ --output json\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_pull(*flags, io); }; });
}

}  // namespace karmor::cli
