#include "cli/kube_flags.hpp"

#include <unistd.h>

namespace karmor::cli {
namespace {

nlohmann::ordered_json error_json(const Error& error) {
    nlohmann::ordered_json out = {{"message", error.message}, {"hint", error.hint}};
    if (!error.details.empty()) out["details"] = error.details;
    return out;
}

const char* dry_run_suffix(KubeDryRun dry_run) {
    switch (dry_run) {
        case KubeDryRun::client: return " (dry run)";
        case KubeDryRun::server: return " (server dry run)";
        case KubeDryRun::none: break;
    }
    return "";
}

}  // namespace

void KubeFlags::add_to(CLI::App& command) {
    const std::string group = "Kubernetes";
    command
        .add_flag("--kube", kube,
                  "deliver into a Kubernetes cluster as custom resources (server-side apply) instead of to the "
                  "daemon")
        ->group(group);
    command
        .add_option("--kubeconfig", kubeconfig,
                    "the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, "
                    "else the in-cluster service account)")
        ->group(group);
    command.add_option("--context", context, "the kubeconfig context (default: its current-context)")->group(group);
    command
        .add_option("-n,--namespace", namespace_name,
                    "namespace of KubeArmorPolicy objects that name none (default: the context's, else default)")
        ->group(group);
    command
        .add_option("--set", set,
                    "the set these policies belong to: the oci.kubearmor.io/set label, what --prune prunes "
                    "(default: from the repository)")
        ->group(group);
    command
        .add_flag("--force-conflicts", force_conflicts,
                  "take over objects of the same name that karmor does not manage (or another set's)")
        ->group(group);
    command.add_option("--request-timeout", request_timeout, "bound of each request to the API server, e.g. 30s")
        ->capture_default_str()
        ->group(group);
}

Result<KubeDeliveryOptions> KubeFlags::resolve(const DaemonFlags& daemon, const Streams& io,
                                               std::function<void(const std::string&)> trace) const {
    KubeDeliveryOptions options;
    if (!daemon.address.empty() || !daemon.tls_ca.empty() || !daemon.tls_cert.empty() || !daemon.tls_key.empty() ||
        !daemon.state.empty())
        return unexpected(Error(ErrorKind::usage,
                                "--grpc, --tls-ca, --tls-cert, --tls-key and --state are for the daemon, not with "
                                "--kube",
                                "the cluster is reached through the kubeconfig (--kubeconfig, --context); its state "
                                "is the cluster's own"));
    options.prune = daemon.prune;
    options.set = set;
    options.force_conflicts = force_conflicts;
    auto& connection = options.connection;
    connection.kubeconfig = kubeconfig;
    connection.context = context;
    connection.namespace_name = namespace_name;
    auto timeout = parse_timeout_flag("--request-timeout", request_timeout);
    if (!timeout) return unexpected(std::move(timeout).error());
    connection.request_timeout_ms = *timeout;
    connection.interactive = input_is_terminal(io) && isatty(STDIN_FILENO);
    connection.cancel = &interruption_flag();
    connection.trace = std::move(trace);
    connection.credentials = make_kube_credential_cache();
    return options;
}

Result<KubeDryRun> parse_dry_run(const std::string& text) {
    if (text.empty() || text == "none") return KubeDryRun::none;
    if (text == "client" || text == "true") return KubeDryRun::client;
    if (text == "server") return KubeDryRun::server;
    return unexpected(Error(ErrorKind::usage, "--dry-run=" + text + ": not client or server",
                            "--dry-run (or --dry-run=client) plans without writing; --dry-run=server has the API "
                            "server check every write without keeping it"));
}

int report_kube_apply(const KubeApplyReport& report, const OutputFlags& output, Streams& io, bool one_line) {
    std::size_t counts[4] = {0, 0, 0, 0};
    std::size_t refused = 0;
    for (const auto& object : report.objects) {
        if (object.action) ++counts[static_cast<int>(*object.action)];
        if (object.refusal) ++refused;
    }
    if (output.json()) {
        nlohmann::ordered_json out = {{"reference", report.location},
                                      {"digest", report.digest.str()},
                                      {"server", report.server},
                                      {"context", report.context},
                                      {"set", report.set}};
        out["dryRun"] = report.dry_run == KubeDryRun::none     ? nlohmann::ordered_json(false)
                        : report.dry_run == KubeDryRun::server ? nlohmann::ordered_json("server")
                                                               : nlohmann::ordered_json("client");
        auto objects = nlohmann::ordered_json::array();
        for (const auto& object : report.objects) {
            auto entry = identity_json(object.identity);
            if (!object.file.empty()) entry["file"] = object.file;
            entry["action"] = object.action ? nlohmann::ordered_json(to_string(*object.action)) : nullptr;
            if (object.refusal) entry["error"] = error_json(*object.refusal);
            objects.push_back(std::move(entry));
        }
        out["policies"] = std::move(objects);
        out["notPruned"] = identities_json(report.not_pruned);
        out["notAttempted"] = identities_json(report.not_attempted);
        out["refused"] = refused > 0;
        out["requests"] = report.requests;
        if (report.stopped) out["error"] = error_json(*report.stopped);
        io.out << (one_line ? out.dump() : out.dump(2)) << "\n";
    } else {
        for (const auto& object : report.objects)
            if (object.action)
                io.out << object.identity.str() << " " << to_string(*object.action) << dry_run_suffix(report.dry_run)
                       << "\n";
    }
    io.out.flush();
    for (const auto& object : report.objects) {
        if (!object.refusal) continue;
        io.err << "Error: " << object.refusal->message << "\n";
        for (const auto& detail : object.refusal->details) io.err << "  " << detail << "\n";
        if (!object.refusal->hint.empty()) io.err << "Hint: " << object.refusal->hint << "\n";
    }
    for (const auto& identity : report.not_pruned)
        io.err << "Warning: " << identity.str() << " is of the set \"" << report.set
               << "\" and no longer in the artifact; --prune deletes it\n";
    int code = refused > 0 ? exit_refused : exit_ok;
    if (report.stopped) {
        Streams quiet{io.out, io.err, io.in, io.err_is_terminal, io.out_is_terminal, false};
        code = report_error(*report.stopped, quiet);
        if (!report.not_attempted.empty()) {
            std::string names;
            for (const auto& identity : report.not_attempted) names += (names.empty() ? "" : ", ") + identity.str();
            io.err << "Note: stopped half-way: " << report.objects.size() << " done (listed above), "
                   << report.not_attempted.size() << " not attempted: " << names << "; the next apply does the rest\n";
        }
    }
    if (output.summary())
        io.err << (report.stopped ? "Stopped applying " : "Applied ") << report.location << " to " << report.server
               << " (context " << report.context << ", set " << report.set << ")" << dry_run_suffix(report.dry_run)
               << ": " << counts[0] << " created, " << counts[1] << " configured, " << counts[2] << " unchanged, "
               << counts[3] << " pruned, " << refused << " refused; " << report.requests << " requests\n";
    return code;
}

int apply_directory_to_cluster(const std::filesystem::path& directory, const Digest& digest,
                               const std::string& location, const Reference& reference,
                               const KubeDeliveryOptions& options, const OutputFlags& output, Streams& io) {
    auto report = apply_policy_directory_to_cluster(directory, digest, location, reference, options);
    if (!report) return report_error(report.error(), io);
    return report_kube_apply(*report, output, io, /*one_line=*/true);
}

}  // namespace karmor::cli
