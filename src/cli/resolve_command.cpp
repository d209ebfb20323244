// karmor oci resolve (SPEC §11): the digest a reference names, from one manifest HEAD.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "karmor/moving.hpp"

namespace karmor::cli {
namespace {

struct ResolveFlags {
    std::string reference;
    std::string output = "text";
    bool oci_layout = false;
    RemoteFlags remote;
};

int run_resolve(const ResolveFlags& flags, Streams& io) {
    ResolveOptions options;
    if (auto target = parse_target(flags.reference, flags.oci_layout, options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto remote = flags.remote.resolve(io, options.layout ? std::string() : options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = resolve_reference(options);
    if (!result) return report_error(result.error(), io);
    if (flags.output == "json") {
        nlohmann::ordered_json out = {
            {"digest", result->digest.str()}, {"mediaType", result->media_type}, {"size", result->size}};
        io.out << out.dump(2) << "\n";
    } else {
        io.out << result->digest.str() << "\n";
    }
    return exit_ok;
}

}  // namespace

void add_resolve_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<ResolveFlags>();
    auto* cmd = oci.add_subcommand("resolve", "print the digest a reference names");
    cmd->add_option("-i,--image", flags->reference, "reference, e.g. localhost:5000/team/policies:v3")->required();
    cmd->add_option("--output", flags->output, "text (the digest) or json (digest, mediaType, size)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->add_flag("--oci-layout", flags->oci_layout, "REF is a local OCI image layout DIR[:TAG|@DIGEST]");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExample:\n  karmor oci pull -i localhost:5000/team/policies@$(karmor oci resolve -i "
                "localhost:5000/team/policies:v3) -o out/\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_resolve(*flags, io); }; });
}

}  // namespace karmor::cli
