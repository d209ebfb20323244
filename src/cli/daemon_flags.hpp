// What `apply` and `follow --apply` share (SPEC §12): the daemon's address and TLS flags, the
// applied set, and how a delivery is reported.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/apply.hpp"

namespace karmor::cli {

struct DaemonFlags {
    std::string address;  // --grpc; default KUBEARMOR_SERVICE, else localhost:32767
    std::string tls_ca;
    std::string tls_cert;
    std::string tls_key;
    std::string timeout = "30s";
    std::string state;
    bool prune = false;

    void add_to(CLI::App& command);
    Result<DeliveryOptions> resolve() const;
};

// The applied set's default place: $STATE_DIRECTORY (systemd's StateDirectory=), else
// $XDG_STATE_HOME/karmor, else ~/.local/state/karmor; one file per daemon address.
std::filesystem::path default_state_file(const std::string& address);

// One line per policy on stdout (or one JSON document with --output json), warnings and a
// summary on stderr. Returns the exit code: exit_refused when the daemon refused any, the
// error's when the calls stopped, else 0.
// `one_line`: the JSON document on one line (follow prints JSON lines).
int report_delivery(const DeliveryReport& report, const OutputFlags& output, bool dry_run, Streams& io,
                    bool one_line = false);
nlohmann::ordered_json delivery_json(const DeliveryReport& report);

// FLAG's value as milliseconds: a number with ms, s (the default) or m, not 0.
Result<long> parse_timeout_flag(const std::string& flag, const std::string& text);
// {"kind", "namespace" (when there is one), "name"}, and a list of them.
nlohmann::ordered_json identity_json(const PolicyIdentity& identity);
nlohmann::ordered_json identities_json(const std::vector<PolicyIdentity>& identities);

}  // namespace karmor::cli
