// `karmor oci apply` (SPEC §12): a policy artifact into the KubeArmor daemon of this host.
#include "cli/cli.hpp"
#include "cli/daemon_flags.hpp"
#include "cli/limit_flags.hpp"
#include "cli/output_flags.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/apply.hpp"

namespace karmor::cli {
namespace {

struct ApplyFlags {
    TargetFlags target;
    DaemonFlags daemon;
    bool dry_run = false;
    VerifyKeyFlags verify;
    RemoteFlags remote;
    OutputFlags format;
    LimitFlags limits;
};

int run_apply(const ApplyFlags& flags, Streams& io) {
    io.errors_as_json = flags.format.json();
    ApplyOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto delivery = flags.daemon.resolve();
    if (!delivery) return report_error(delivery.error(), io);
    options.delivery = std::move(*delivery);
    options.delivery.dry_run = flags.dry_run;
    auto verify = flags.verify.resolve();
    if (!verify) return report_error(verify.error(), io);
    options.verify = std::move(*verify);
    auto limits = flags.limits.resolve();
    if (!limits) return report_error(limits.error(), io);
    options.load.limits = *limits;
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);

    auto report = apply_policies(options);
    if (!report) {
        auto error = std::move(report).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (options.verify && flags.format.summary()) {
        std::size_t verified = 0;
        for (const auto& s : report->signatures) verified += s.verified ? 1 : 0;
        io.err << "Verified " << report->location << ": " << verified << " of " << report->signatures.size()
               << " signatures passed every check\n";
    }
    io.errors_as_json = false;  // the report is the JSON document
    return report_delivery(*report, flags.format, flags.dry_run, io);
}

}  // namespace

void add_apply_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<ApplyFlags>();
    auto* cmd = oci.add_subcommand("apply", "deliver a policy artifact to the KubeArmor daemon of a VM or bare-metal "
                                            "host over gRPC, sending only what changed since the last apply");
    flags->target.add_to(*cmd, "reference to apply, e.g. registry.example.com/team/policies:v3");
    flags->daemon.add_to(*cmd);
    cmd->add_flag("--dry-run", flags->dry_run, "print what would be sent; send nothing, change no state");
    flags->verify.add_to(*cmd, "apply");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    flags->format.add_to(*cmd);
    flags->limits.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci apply -i registry.example.com/team/policies:v3\n"
                "  karmor oci apply localhost:5000/policies:v1 --grpc localhost:32767 --prune\n"
                "  karmor oci apply -i localhost:5000/policies:v1 --dry-run --output json\n"
                "\nExit code 9: the daemon refused a policy (Failure, Invalid, NotEnabled or NotExist).\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_apply(*flags, io); }; });
}

}  // namespace karmor::cli
