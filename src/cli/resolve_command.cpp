// karmor oci resolve (SPEC §11): the digest a reference names, from one manifest HEAD.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/moving.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct ResolveFlags {
    TargetFlags target;
    OutputFlags output;
    RemoteFlags remote;
};

int run_resolve(const ResolveFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    ResolveOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto remote = flags.remote.resolve(io, options.layout ? std::string() : options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = resolve_reference(options);
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (flags.output.json()) {
        nlohmann::ordered_json out = {
            {"digest", result->digest.str()}, {"mediaType", result->media_type}, {"size", result->size}};
        io.out << util::dump_json(out, 2) << "\n";
    } else {
        io.out << result->digest.str() << "\n";
    }
    return exit_ok;
}

}  // namespace

void add_resolve_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<ResolveFlags>();
    auto* cmd = oci.add_subcommand("resolve", "print the digest a reference names");
    flags->target.add_to(*cmd, "reference, e.g. localhost:5000/team/policies:v3");
    flags->output.add_to(*cmd, "digest, mediaType and size");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExample:\n  karmor oci pull localhost:5000/team/policies@$(karmor oci resolve "
                "localhost:5000/team/policies:v3) -o out/\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_resolve(*flags, io); }; });
}

}  // namespace karmor::cli
