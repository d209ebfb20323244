// karmor oci tag (SPEC §11): more tags for the same manifest bytes; nothing is sent for a tag
// that already holds the digest.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "karmor/moving.hpp"

namespace karmor::cli {
namespace {

struct TagFlags {
    std::string reference;
    std::vector<std::string> new_tags;
    std::string output = "text";
    bool oci_layout = false;
    RemoteFlags remote;
};

int run_tag(const TagFlags& flags, Streams& io) {
    TagOptions options;
    options.new_tags = flags.new_tags;
    if (auto target = parse_target(flags.reference, flags.oci_layout, options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto remote = flags.remote.resolve(io, options.layout ? std::string() : options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = tag_reference(options);
    if (!result) return report_error(result.error(), io);
    if (flags.output == "json") {
        nlohmann::ordered_json out = {
            {"digest", result->manifest.digest.str()}, {"tagged", result->tagged}, {"unchanged", result->unchanged}};
        io.out << out.dump(2) << "\n";
        return exit_ok;
    }
    for (const auto& tag : result->tagged) io.out << "Tagged " << tag << "\n";
    for (const auto& tag : result->unchanged)
        io.out << "Unchanged " << tag << " (already " << result->manifest.digest.str() << ")\n";
    return exit_ok;
}

}  // namespace

void add_tag_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<TagFlags>();
    auto* cmd = oci.add_subcommand("tag", "put the manifest of a reference under more tags");
    cmd->add_option("-i,--image", flags->reference, "reference to tag, e.g. localhost:5000/team/policies:v3")
        ->required();
    cmd->add_option("tags", flags->new_tags, "new tags in the same repository")->required();
    cmd->add_option("--output", flags->output, "text or json")->check(CLI::IsMember({"text", "json"}));
    cmd->add_flag("--oci-layout", flags->oci_layout, "REF is a local OCI image layout DIR[:TAG|@DIGEST]");
    flags->remote.add_to(*cmd);
    cmd->footer("\nExample:\n  karmor oci tag -i localhost:5000/team/policies:v3.1.0 v3.1 v3 stable\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_tag(*flags, io); }; });
}

}  // namespace karmor::cli
