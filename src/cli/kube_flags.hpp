// What `apply --kube` and `follow --apply --kube` share (SPEC §14): the cluster's flags (as
// kubectl names them) and how a cluster apply is reported.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli/cli.hpp"
#include "cli/daemon_flags.hpp"
#include "cli/output_flags.hpp"
#include "karmor/kube.hpp"

namespace karmor::cli {

struct KubeFlags {
    bool kube = false;
    std::string kubeconfig;
    std::string context;
    std::string namespace_name;
    std::string set;
    bool force_conflicts = false;
    std::string request_timeout = "30s";

    void add_to(CLI::App& command);
    // `daemon`: --prune is shared; the daemon's own flags are refused with --kube. `trace`: -v.
    Result<KubeDeliveryOptions> resolve(const DaemonFlags& daemon, const Streams& io,
                                        std::function<void(const std::string&)> trace) const;
};

// --dry-run, --dry-run=client, --dry-run=server (kubectl's words); "none" for none.
Result<KubeDryRun> parse_dry_run(const std::string& text);

// One line per object on stdout (`KIND[/NAMESPACE]/NAME created|configured|unchanged|pruned`),
// refusals and a summary on stderr, or one JSON document with --output json. Returns the exit
// code: exit_refused when the cluster refused any object, the error's when it stopped, else 0.
int report_kube_apply(const KubeApplyReport& report, const OutputFlags& output, Streams& io, bool one_line = false);

// `follow --apply --kube`: the version DIR points to, applied into the cluster and reported
// (JSON on one line). Returns report_kube_apply's exit code.
int apply_directory_to_cluster(const std::filesystem::path& directory, const Digest& digest,
                               const std::string& location, const Reference& reference,
                               const KubeDeliveryOptions& options, const OutputFlags& output, Streams& io);

}  // namespace karmor::cli
