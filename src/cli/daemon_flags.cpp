#include "cli/daemon_flags.hpp"

#include <cctype>
#include <cstdlib>

#include "util/duration.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

Result<long> parse_timeout_flag(const std::string& flag, const std::string& text) {
    auto duration = util::parse_duration(text, flag);
    if (!duration) return unexpected(std::move(duration).error());
    return static_cast<long>(duration->count());
}

nlohmann::ordered_json identity_json(const PolicyIdentity& identity) {
    nlohmann::ordered_json out = {{"kind", identity.kind}};
    if (!identity.namespace_name.empty()) out["namespace"] = identity.namespace_name;
    out["name"] = identity.name;
    return out;
}

nlohmann::ordered_json identities_json(const std::vector<PolicyIdentity>& identities) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& identity : identities) out.push_back(identity_json(identity));
    return out;
}

void DaemonFlags::add_to(CLI::App& command) {
    command.add_option("--grpc", address,
                       "the KubeArmor daemon's gRPC address HOST:PORT (default: $KUBEARMOR_SERVICE, else "
                       "localhost:32767)");
    command.add_option("--tls-ca", tls_ca, "speak TLS to the daemon and verify it with this CA (PEM)")
        ->check(existing_file());
    command.add_option("--tls-cert", tls_cert, "client certificate for the daemon (PEM; mutual TLS)")
        ->check(existing_file());
    command.add_option("--tls-key", tls_key, "the client certificate's key (PEM)")->check(existing_file());
    command.add_option("--grpc-timeout", timeout, "deadline of each call to the daemon, e.g. 10s")
        ->capture_default_str();
    command
        .add_option("--state", state,
                    "the applied-set file: what the daemon was given (default: $STATE_DIRECTORY, "
                    "$XDG_STATE_HOME/karmor or ~/.local/state/karmor, one file per daemon address)")
        ->check(non_empty_path());
    command.add_flag("--prune", prune, "send DELETED for policies applied before that the artifact no longer has");
}

Result<DeliveryOptions> DaemonFlags::resolve() const {
    DeliveryOptions options;
    options.daemon.address = !address.empty()                             ? address
                             : !env_or_empty("KUBEARMOR_SERVICE").empty() ? env_or_empty("KUBEARMOR_SERVICE")
                                                                          : default_daemon_address;
    const auto& a = options.daemon.address;
    if (a.find("://") != std::string::npos || a.find('/') != std::string::npos || a.rfind(':') == std::string::npos ||
        a.rfind(':') + 1 == a.size())
        return unexpected(Error(ErrorKind::usage, "the daemon address \"" + a + "\" is not HOST:PORT",
                                "for example --grpc localhost:32767 (TLS comes from --tls-ca, not from a scheme)"));
    if (tls_cert.empty() != tls_key.empty())
        return unexpected(Error(ErrorKind::usage, "--tls-cert and --tls-key go together",
                                "pass both the client certificate and its key"));
    options.daemon.tls_ca = tls_ca;
    options.daemon.tls_cert = tls_cert;
    options.daemon.tls_key = tls_key;
    auto milliseconds = parse_timeout_flag("--grpc-timeout", timeout);
    if (!milliseconds) return unexpected(std::move(milliseconds).error());
    options.daemon.timeout_ms = *milliseconds;
    options.daemon.cancel = &interruption_flag();
    options.state_file = state.empty() ? default_state_file(options.daemon.address) : std::filesystem::path(state);
    options.prune = prune;
    return options;
}

std::filesystem::path default_state_file(const std::string& address) {
    std::filesystem::path directory;
    if (const auto systemd = env_or_empty("STATE_DIRECTORY"); !systemd.empty()) {
        directory = systemd.substr(0, systemd.find(':'));  // the first of several
    } else if (const auto xdg = env_or_empty("XDG_STATE_HOME"); !xdg.empty()) {
        directory = std::filesystem::path(xdg) / "karmor";
    } else {
        directory = std::filesystem::path(env_or_empty("HOME")) / ".local" / "state" / "karmor";
    }
    std::string name = "applied-";
    for (const char c : address) name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    return directory / (name + ".json");
}

nlohmann::ordered_json delivery_json(const DeliveryReport& report) {
    nlohmann::ordered_json out = {
        {"reference", report.location}, {"digest", report.digest.str()}, {"daemon", report.daemon}};
    auto sent = nlohmann::ordered_json::array();
    for (const auto& d : report.deliveries) {
        auto entry = identity_json(d.identity);
        entry["event"] = to_string(d.event);
        entry["rpc"] = d.rpc;
        entry["status"] = d.status ? nlohmann::ordered_json(to_string(*d.status)) : nlohmann::ordered_json();
        entry["ok"] = !d.status || !is_refusal(*d.status);
        sent.push_back(std::move(entry));
    }
    out["policies"] = std::move(sent);
    out["unchanged"] = identities_json(report.unchanged);
    out["notDeliverable"] = identities_json(report.not_deliverable);
    out["notPruned"] = identities_json(report.not_pruned);
    out["refused"] = report.refused();
    return out;
}

int report_delivery(const DeliveryReport& report, const OutputFlags& output, bool dry_run, Streams& io, bool one_line) {
    if (output.json()) {
        auto out = delivery_json(report);
        out["dryRun"] = dry_run;
        if (report.stopped) out["error"] = {{"message", report.stopped->message}, {"hint", report.stopped->hint}};
        io.out << util::dump_json(out, one_line ? -1 : 2) << "\n";
    } else {
        for (const auto& d : report.deliveries)
            io.out << d.identity.str() << " " << to_string(d.event) << " "
                   << (d.status ? to_string(*d.status) : "(dry run: not sent)") << "\n";
    }
    io.out.flush();
    for (const auto& identity : report.not_deliverable)
        io.err << "Warning: " << identity.str()
               << " is not deliverable in this mode: KubeArmor outside Kubernetes has no RPC for cluster policies\n";
    for (const auto& identity : report.not_pruned)
        io.err << "Warning: " << identity.str()
               << " was applied before and is no longer in the artifact; --prune deletes it from the daemon\n";
    int code = exit_ok;
    if (report.refused()) {
        std::string names;
        for (const auto& d : report.deliveries)
            if (d.status && is_refusal(*d.status))
                names += (names.empty() ? "" : ", ") + d.identity.str() + " (" + to_string(*d.status) + ")";
        io.err << "Error: the KubeArmor daemon at " << report.daemon << " refused " << names << "\n"
               << "Hint: the daemon's log (journalctl -u kubearmor) says why; NotEnabled means that kind of "
                  "enforcement is off in its configuration\n";
        code = exit_refused;
    }
    if (report.stopped) {
        Streams quiet{io.out, io.err, io.in, io.err_is_terminal, io.out_is_terminal, false};
        code = report_error(*report.stopped, quiet);
        if (!report.deliveries.empty())
            io.err << "Note: what the daemon acknowledged before that is recorded; the next apply sends the rest\n";
    }
    if (output.summary()) {
        std::size_t acknowledged = 0;
        for (const auto& d : report.deliveries) acknowledged += d.status && !is_refusal(*d.status) ? 1 : 0;
        if (dry_run)
            io.err << "Dry run: " << report.deliveries.size() << " of the policies of " << report.location
                   << " would be sent to " << report.daemon << "; " << report.unchanged.size() << " unchanged\n";
        else
            io.err << (report.stopped ? "Stopped delivering " : "Delivered ") << report.location << " to "
                   << report.daemon << ": " << acknowledged << " acknowledged, "
                   << (report.deliveries.size() - acknowledged) << " refused, " << report.unchanged.size()
                   << " unchanged\n";
    }
    return code;
}

}  // namespace karmor::cli
