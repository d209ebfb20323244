#include "cli/cli.hpp"
#include "karmor/oci.hpp"

namespace karmor::cli {
namespace {

struct PullFlags {
    std::string reference;
    std::string output;
    bool force = false;
    bool skip_validation = false;
    RemoteFlags remote;
};

int run_pull(const PullFlags& flags, Streams& io) {
    PullOptions options;
    auto reference = Reference::parse(flags.reference);
    if (!reference) return report_error(reference.error(), io);
    options.reference = *reference;
    if (flags.output == "-") options.stream = &io.out;
    else options.output_directory = flags.output;
    options.force = flags.force;
    options.load.skip_validation = flags.skip_validation;
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    if (flags.skip_validation) io.err << "Warning: --skip-validation: pulled policies are not validated\n";

    auto result = pull_policies(options);
    if (!result) return report_error(result.error(), io);
    const auto count = result->policies.size();
    io.err << "Pulled " << count << (count == 1 ? " policy" : " policies") << " from " << result->reference.str();
    if (!options.stream) {
        io.err << " into " << flags.output;
        if (!result->files_unchanged.empty())
            io.err << " (" << result->files_unchanged.size() << " already up to date)";
        for (const auto& file : result->files_written) io.out << file.string() << "\n";
        for (const auto& file : result->files_unchanged) io.out << file.string() << "\n";
    }
    io.err << "\n";
    return exit_ok;
}

}  // namespace

void add_pull_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<PullFlags>();
    auto* cmd = oci.add_subcommand("pull", "pull a KubeArmor policy artifact into one YAML file per policy");
    cmd->add_option("-i,--image", flags->reference, "reference to pull, e.g. localhost:5000/team/policies:v1")
        ->required();
    cmd->add_option("-o,--output-dir,-d,--directory", flags->output,
                    "directory to write the policies to; - writes one YAML stream to stdout")
        ->required();
    cmd->add_flag("--force", flags->force, "replace files that exist with other content");
    cmd->add_flag("--skip-validation", flags->skip_validation, "write policies without schema validation (warns)");
    flags->remote.add_to(*cmd);
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_pull(*flags, io); }; });
}

}  // namespace karmor::cli
