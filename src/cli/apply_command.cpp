// `karmor oci apply` (SPEC §12, §14): a policy artifact into the KubeArmor daemon of this host,
// or with --kube into a Kubernetes cluster.
#include "cli/cli.hpp"
#include "cli/daemon_flags.hpp"
#include "cli/kube_flags.hpp"
#include "cli/limit_flags.hpp"
#include "cli/output_flags.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/apply.hpp"
#include "karmor/kube.hpp"

namespace karmor::cli {
namespace {

struct ApplyFlags {
    TargetFlags target;
    DaemonFlags daemon;
    KubeFlags kube;
    std::string dry_run;  // "" none; client or server (--dry-run alone is client)
    VerifyKeyFlags verify;
    RemoteFlags remote;
    OutputFlags format;
    LimitFlags limits;
};

// What both deliveries pull: the reference, verification, limits, registry options.
Result<void> resolve_source(const ApplyFlags& flags, PolicySource& source, Streams& io) {
    if (auto target = flags.target.resolve(source.reference, source.layout); !target) return unexpected(target.error());
    auto verify = flags.verify.resolve();
    if (!verify) return unexpected(std::move(verify).error());
    source.verify = std::move(*verify);
    auto limits = flags.limits.resolve();
    if (!limits) return unexpected(std::move(limits).error());
    source.load.limits = *limits;
    auto remote = flags.remote.resolve(io, source.reference.registry());
    if (!remote) return unexpected(std::move(remote).error());
    source.remote = std::move(*remote);
    return {};
}

void report_verified(const std::vector<SignatureReport>& signatures, const std::string& location, Streams& io) {
    std::size_t verified = 0;
    for (const auto& s : signatures) verified += s.verified ? 1 : 0;
    io.err << "Verified " << location << ": " << verified << " of " << counted(signatures.size(), "signature")
           << " passed every check\n";
}

int run_apply_to_cluster(const ApplyFlags& flags, KubeDryRun dry_run, Streams& io) {
    KubeApplyOptions options;
    if (auto source = resolve_source(flags, options, io); !source) return report_error(source.error(), io);
    auto delivery = flags.kube.resolve(flags.daemon, io, options.remote.trace);
    if (!delivery) return report_error(delivery.error(), io);
    options.delivery = std::move(*delivery);
    options.delivery.dry_run = dry_run;
    auto report = apply_policies_to_cluster(options);
    if (!report) {
        auto error = std::move(report).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (options.verify && flags.format.summary()) report_verified(report->signatures, report->location, io);
    io.errors_as_json = false;  // the report is the JSON document
    return report_kube_apply(*report, flags.format, io);
}

int run_apply(const ApplyFlags& flags, Streams& io) {
    flags.format.apply_to(io);
    auto dry_run = parse_dry_run(flags.dry_run);
    if (!dry_run) return report_error(dry_run.error(), io);
    if (flags.kube.kube) return run_apply_to_cluster(flags, *dry_run, io);
    if (*dry_run == KubeDryRun::server)
        return report_error(Error(ErrorKind::usage, "--dry-run=server needs --kube",
                                  "the KubeArmor daemon has no dry run: --dry-run shows what would be sent"),
                            io);
    for (const auto& [set, name] :
         {std::pair{!flags.kube.kubeconfig.empty(), "--kubeconfig"},
          std::pair{!flags.kube.context.empty(), "--context"},
          std::pair{!flags.kube.namespace_name.empty(), "--namespace"}, std::pair{!flags.kube.set.empty(), "--set"},
          std::pair{flags.kube.force_conflicts, "--force-conflicts"}})
        if (set)
            return report_error(Error(ErrorKind::usage, std::string(name) + " is for a cluster: it needs --kube",
                                      "add --kube to apply into the cluster of the kubeconfig"),
                                io);

    ApplyOptions options;
    if (auto source = resolve_source(flags, options, io); !source) return report_error(source.error(), io);
    auto delivery = flags.daemon.resolve();
    if (!delivery) return report_error(delivery.error(), io);
    options.delivery = std::move(*delivery);
    options.delivery.dry_run = *dry_run == KubeDryRun::client;
    auto report = apply_policies(options);
    if (!report) {
        auto error = std::move(report).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (options.verify && flags.format.summary()) report_verified(report->signatures, report->location, io);
    io.errors_as_json = false;  // the report is the JSON document
    return report_delivery(*report, flags.format, options.delivery.dry_run, io);
}

}  // namespace

void add_apply_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<ApplyFlags>();
    auto* cmd = oci.add_subcommand("apply", "deliver a policy artifact to the KubeArmor daemon of a VM or bare-metal "
                                            "host over gRPC, or with --kube into a Kubernetes cluster, changing only "
                                            "what changed since the last apply");
    flags->target.add_to(*cmd, "reference to apply, e.g. registry.example.com/team/policies:v3");
    flags->daemon.add_to(*cmd);
    flags->kube.add_to(*cmd);
    cmd->add_flag("--dry-run{client}", flags->dry_run,
                  "print what would be done; change nothing. With --kube, --dry-run=server has the API server check "
                  "every write without keeping it");
    flags->verify.add_to(*cmd, "apply");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    flags->format.add_to(*cmd);
    flags->limits.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci apply -i registry.example.com/team/policies:v3\n"
                "  karmor oci apply localhost:5000/policies:v1 --grpc localhost:32767 --prune\n"
                "  karmor oci apply -i localhost:5000/policies:v1 --dry-run --output json\n"
                "  karmor oci apply registry.example.com/team/policies:v3 --kube --prune\n"
                "  karmor oci apply registry.example.com/team/policies:v3 --kube --context prod --dry-run=server\n"
                "\nExit code 9: the daemon or the cluster refused a policy (the others were applied).\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_apply(*flags, io); }; });
}

}  // namespace karmor::cli
