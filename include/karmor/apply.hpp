// Delivering policies to the KubeArmor daemon outside Kubernetes (SPEC §12): `karmor oci apply`
// and `follow --apply`. The daemon's gRPC service policy.PolicyService takes one policy per
// unary call as a Kubernetes-style watch event; an applied-set state file remembers what the
// daemon was given, so that each apply sends only the difference.
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "karmor/digest.hpp"
#include "karmor/layout.hpp"
#include "karmor/options.hpp"
#include "karmor/policy.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "karmor/signing.hpp"

namespace karmor {

// The daemon's reply, enum PolicyStatus of its protobuf (values as on the wire).
enum class PolicyStatus {
    failure = 0,
    applied = 1,
    deleted = 2,
    modified = 3,
    not_exist = 4,
    invalid = 5,
    not_enabled = 6
};
const char* to_string(PolicyStatus status);  // "Failure", "Applied", … as the daemon names them
// Failure, Invalid, NotEnabled and NotExist: the daemon did not do what was asked.
bool is_refusal(PolicyStatus status);

enum class PolicyEvent { added, modified, deleted };
const char* to_string(PolicyEvent event);  // "ADDED", "MODIFIED", "DELETED"

// KUBEARMOR_SERVICE's default, and the daemon's own.
inline constexpr const char* default_daemon_address = "localhost:32767";

struct DaemonOptions {
    std::string address = default_daemon_address;  // HOST:PORT
    // Any of these set: TLS (HTTP/2 by ALPN), verified against tls_ca (else the system's CAs),
    // with the client certificate for mutual TLS. None: plaintext HTTP/2.
    std::string tls_ca;
    std::string tls_cert;
    std::string tls_key;
    long timeout_ms = 30'000;  // the deadline of each call (sent as grpc-timeout)
    long connect_timeout_ms = 5'000;
    const std::atomic<bool>* cancel = nullptr;
};

struct DeliveryOptions {
    DaemonOptions daemon;
    // The applied set (SPEC §12): what this daemon was given and acknowledged.
    std::filesystem::path state_file;
    bool prune = false;    // DELETED for policies applied before that the set no longer has
    bool dry_run = false;  // plan only: no call, the state unchanged
};

struct PolicyDelivery {
    PolicyIdentity identity;
    PolicyEvent event = PolicyEvent::added;
    std::string rpc;                     // containerPolicy, hostPolicy or networkPolicy
    std::optional<PolicyStatus> status;  // none in a dry run
};

struct DeliveryReport {
    Digest digest;                                // the artifact delivered
    std::string location;                         // REF@DIGEST
    std::string daemon;                           // the address
    std::vector<PolicyDelivery> deliveries;       // in the order sent
    std::vector<PolicyIdentity> unchanged;        // applied before with this content: not sent
    std::vector<PolicyIdentity> not_deliverable;  // cluster policies: no RPC outside Kubernetes
    std::vector<PolicyIdentity> not_pruned;       // applied before, gone from the set, no --prune
    std::vector<SignatureReport> signatures;      // with verification
    // The calls stopped here (daemon down, TLS, a deadline): the deliveries before it were made
    // and are in the state; the rest were not sent.
    std::optional<Error> stopped;
    bool refused() const;  // some delivery has a refusal status
};

// Where `apply` takes its policies from: what both deliveries (to the daemon, into a cluster)
// pull, verify and validate the same way before anything is sent.
struct PolicySource {
    Reference reference;
    std::optional<LayoutReference> layout;        // --oci-layout
    std::optional<SignatureRequirements> verify;  // checked before anything is sent
    LoadOptions load;
    RemoteOptions remote;
};

struct ApplyOptions : PolicySource {
    DeliveryOptions delivery;
};

// Pulls REF by digest (verified when asked), validates it and delivers the difference to the
// applied set. An error before the first call leaves the daemon and the state untouched.
Result<DeliveryReport> apply_policies(const ApplyOptions& options);

// `follow --apply`: delivers the policies of a directory (the version follow switched to).
Result<DeliveryReport> apply_policy_directory(const std::filesystem::path& directory, const Digest& digest,
                                              const std::string& location, const DeliveryOptions& options);

}  // namespace karmor
