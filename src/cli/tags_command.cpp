// karmor oci tags (SPEC §11): the tags of a repository, without bookkeeping tags, optionally
// only the versions in a semver range.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/moving.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct TagsFlags {
    TargetFlags target;
    std::string semver;
    bool all = false;
    OutputFlags output;
    RemoteFlags remote;
};

int run_tags(const TagsFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    TagsOptions options;
    options.semver = flags.semver;
    options.all = flags.all;
    if (auto target = flags.target.resolve(options.repository, options.layout); !target)
        return report_error(target.error(), io);
    auto remote = flags.remote.resolve(io, options.layout ? std::string() : options.repository.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = list_tags(options);
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (flags.output.json()) {
        nlohmann::ordered_json out = {
            {"repository", options.layout ? options.layout->directory.string()
                                          : options.repository.registry() + "/" + options.repository.repository()},
            {"tags", result->tags},
            {"hidden", result->hidden}};
        io.out << util::dump_json(out, 2) << "\n";
    } else {
        for (const auto& tag : result->tags) io.out << tag << "\n";
    }
    return exit_ok;
}

}  // namespace

void add_tags_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<TagsFlags>();
    auto* cmd = oci.add_subcommand("tags", "list the tags of a repository");
    flags->target.add_to(*cmd, "repository, e.g. localhost:5000/team/policies (with --oci-layout a layout directory)");
    cmd->add_option("--semver", flags->semver,
                    "only versions in this range, lowest first: >=, >, <=, <, =, ~, ^, 1.x; space is AND, || is OR");
    cmd->add_flag("--all", flags->all, "also the referrers fallback tags (sha256-…) and cosign's .sig/.att/.sbom tags");
    flags->output.add_to(*cmd, "the repository, its tags and how many were hidden");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci tags localhost:5000/team/policies\n"
                "  karmor oci tags localhost:5000/team/policies --semver '^1.2' | tail -n 1\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_tags(*flags, io); }; });
}

}  // namespace karmor::cli
