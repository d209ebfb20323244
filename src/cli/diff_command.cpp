// karmor oci diff (SPEC §11): what changed between two sets of policies. Its exit codes are
// diff(1)'s: 0 equal, 1 different, 2 or more an error (the usual codes of README "Exit codes").
#include <nlohmann/json.hpp>

#include <filesystem>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "util/json_text.hpp"
#include "karmor/moving.hpp"

namespace karmor::cli {
namespace {

constexpr int exit_different = 1;

struct DiffFlags {
    std::string before;
    std::string after;
    std::vector<std::string> before_files;
    std::vector<std::string> after_files;
    bool recursive = false;
    OutputFlags output;
    bool oci_layout = false;
    RemoteFlags remote;
};

// A side is files when -p names them, or when the argument is an existing file or directory;
// anything else is a reference.
Result<PolicySetSource> side_from(const std::string& argument, const std::vector<std::string>& files,
                                  const DiffFlags& flags, Streams& io) {
    PolicySetSource side;
    side.name = argument;
    if (!files.empty()) {
        for (const auto& f : files) side.files.emplace_back(f);
        if (side.name.empty()) side.name = files.front();
        return side;
    }
    std::error_code ec;
    if (!flags.oci_layout && std::filesystem::exists(argument, ec)) {
        side.files.emplace_back(argument);
        return side;
    }
    // An operand that looks like a file and is missing is a missing file, not a Docker Hub name.
    if (auto t = parse_target(argument, flags.oci_layout, side.reference, side.layout); !t) {
        if (t.error().kind != ErrorKind::usage) return unexpected(std::move(t).error());
        return unexpected(Error(
            t.error().kind, "'" + argument + "' is neither a file or directory nor a reference: " + t.error().message,
            t.error().hint));
    }
    auto remote = flags.remote.resolve(io, side.layout ? std::string() : side.reference.registry());
    if (!remote) return unexpected(std::move(remote).error());
    side.remote = std::move(*remote);
    return side;
}

std::vector<std::string> names(const std::vector<PolicyIdentity>& identities) {
    std::vector<std::string> out;
    for (const auto& id : identities) out.push_back(id.str());
    return out;
}

int run_diff(const DiffFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    DiffOptions options;
    options.recursive = flags.recursive;
    const bool before_from_flags = !flags.before_files.empty();
    const bool after_from_flags = !flags.after_files.empty();
    // Positional arguments fill the sides that -p/--before-file/--after-file do not.
    std::vector<std::string> positional;
    if (!flags.before.empty()) positional.push_back(flags.before);
    if (!flags.after.empty()) positional.push_back(flags.after);
    const std::size_t needed = (before_from_flags ? 0u : 1u) + (after_from_flags ? 0u : 1u);
    if (positional.size() != needed)
        return report_error(Error(ErrorKind::usage, "diff compares two sides: name A and B",
                                  "karmor oci diff A B, each a reference, a directory or a policy file"),
                            io);
    std::size_t next = 0;
    auto before = side_from(before_from_flags ? "" : positional[next++], flags.before_files, flags, io);
    if (!before) return report_error(before.error(), io);
    auto after = side_from(after_from_flags ? "" : positional[next++], flags.after_files, flags, io);
    if (!after) return report_error(after.error(), io);
    options.before = std::move(*before);
    options.after = std::move(*after);

    auto result = diff_policies(options);
    if (!result) return report_error(result.error(), io);
    if (flags.output.json()) {
        nlohmann::ordered_json changed = nlohmann::ordered_json::array();
        for (const auto& c : result->changed) changed.push_back({{"policy", c.identity.str()}, {"diff", c.diff}});
        nlohmann::ordered_json out = {{"before", options.before.name},     {"after", options.after.name},
                                      {"equal", result->equal()},          {"added", names(result->added)},
                                      {"removed", names(result->removed)}, {"changed", changed},
                                      {"unchanged", result->unchanged}};
        io.out << util::dump_json(out, 2) << "\n";
    } else {
        for (const auto& id : result->removed) io.out << "removed: " << id.str() << "\n";
        for (const auto& id : result->added) io.out << "added:   " << id.str() << "\n";
        for (const auto& c : result->changed) io.out << "changed: " << c.identity.str() << "\n";
        for (const auto& c : result->changed) io.out << "\n" << c.diff;
        if (result->equal() && flags.output.summary())
            io.err << "The policies are the same ("
                   << counted(static_cast<std::size_t>(result->unchanged), "policy", "policies") << ")\n";
    }
    return result->equal() ? exit_ok : exit_different;
}

}  // namespace

void add_diff_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<DiffFlags>();
    auto* cmd = oci.add_subcommand("diff", "compare two sets of policies (references, directories or files); exit 0 "
                                           "equal, 1 different, 2 or more error");
    cmd->add_option("before", flags->before, "A: a reference, a directory or a policy file");
    cmd->add_option("after", flags->after, "B: a reference, a directory or a policy file");
    cmd->add_option("--before-file", flags->before_files, "policy file or directory for side A (repeatable)")
        ->check(non_empty_path());
    cmd->add_option("-p,--after-file", flags->after_files, "policy file or directory for side B (repeatable)")
        ->check(non_empty_path());
    cmd->add_flag("--recursive", flags->recursive, "descend into subdirectories of directories");
    flags->output.add_to(*cmd, "added, removed and changed policies with their diffs; text is a unified diff");
    cmd->add_flag("--oci-layout", flags->oci_layout, "references are local OCI image layouts DIR[:TAG|@DIGEST]");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExit codes: 0 the same, 1 different, 2 or more an error (as diff(1)).\n"
                "Examples:\n"
                "  karmor oci diff registry.example.com/team/policies:v2 registry.example.com/team/policies:v3\n"
                "  karmor oci diff registry.example.com/team/policies:v3 -p policies/   # what a push would change\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_diff(*flags, io); }; });
}

}  // namespace karmor::cli
