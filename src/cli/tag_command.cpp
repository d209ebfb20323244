// karmor oci tag (SPEC §11): more tags for the same manifest bytes; nothing is sent for a tag
// that already holds the digest, and a tag that holds something other than KubeArmor policies
// is moved only with --force, as push does (issue 22).
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/moving.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct TagFlags {
    TargetFlags target;
    std::vector<std::string> new_tags;
    bool force = false;
    OutputFlags output;
    RemoteFlags remote;
};

int run_tag(TagFlags flags, Streams& io) {
    flags.output.apply_to(io);
    // `tag REF NEWTAG…` (oras's order) or `tag -i REF NEWTAG…`: with -i, every word is a tag.
    if (!flags.target.image.empty() && !flags.target.positional.empty()) {
        flags.new_tags.insert(flags.new_tags.begin(), flags.target.positional);
        flags.target.positional.clear();
    }
    TagOptions options;
    options.new_tags = flags.new_tags;
    options.force = flags.force;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    if (options.new_tags.empty())
        return report_error(Error(ErrorKind::usage, "tag: name at least one new tag",
                                  "karmor oci tag " + flags.target.text() + " NEWTAG [NEWTAG …]"),
                            io);
    auto remote = flags.remote.resolve(io, options.layout ? std::string() : options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = tag_reference(options);
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (flags.output.json()) {
        nlohmann::ordered_json replaced = nlohmann::ordered_json::object();
        for (const auto& [tag, digest] : result->replaced) replaced[tag] = digest.str();
        nlohmann::ordered_json out = {{"repository", result->where},
                                      {"digest", result->manifest.digest.str()},
                                      {"tagged", result->tagged},
                                      {"unchanged", result->unchanged},
                                      {"replaced", replaced}};
        io.out << util::dump_json(out, 2) << "\n";
        return exit_ok;
    }
    for (const auto& tag : result->tagged) {
        io.out << "Tagged " << result->where << ":" << tag;
        if (const auto was = result->replaced.find(tag); was != result->replaced.end())
            io.out << " (was " << was->second.str() << ")";
        io.out << "\n";
    }
    for (const auto& tag : result->unchanged)
        io.out << "Unchanged " << result->where << ":" << tag << " (already " << result->manifest.digest.str() << ")\n";
    return exit_ok;
}

}  // namespace

void add_tag_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<TagFlags>();
    auto* cmd = oci.add_subcommand("tag", "put the manifest of a reference under more tags");
    flags->target.add_to(*cmd, "reference to tag, e.g. localhost:5000/team/policies:v3");
    cmd->add_option("tags", flags->new_tags, "new tags in the same repository");
    cmd->add_flag("--force", flags->force,
                  "move a tag that holds something other than KubeArmor policies (an image, a chart, …)");
    flags->output.add_to(*cmd, "the digest and the tags set, unchanged and replaced");
    flags->remote.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci tag localhost:5000/team/policies:v3.1.0 v3.1 v3 stable\n"
                "  karmor oci tag -i localhost:5000/team/policies:v3.1.0 stable\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_tag(*flags, io); }; });
}

}  // namespace karmor::cli
