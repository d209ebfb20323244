// What the KubeArmor daemon was given (SPEC §12): the applied-set state file, the JSON event
// each policy is delivered as, and the plan that turns a policy set into the events that make
// the daemon hold exactly it.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "karmor/apply.hpp"
#include "karmor/policy.hpp"
#include "karmor/result.hpp"

namespace karmor::daemon {

struct AppliedPolicy {
    std::string sha256;  // hex of the policy's compact JSON as delivered
    // The object as delivered: a DELETED event carries it, as a Kubernetes watch event would.
    nlohmann::ordered_json object;
};

struct AppliedSet {
    std::string daemon;     // the address it was delivered to
    std::string digest;     // the artifact delivered last
    std::string reference;  // REF@DIGEST, for people
    bool complete = false;  // every policy of `digest` that has an RPC is in `policies`
    std::map<PolicyIdentity, AppliedPolicy> policies;
};

// std::nullopt when the file does not exist; an unreadable file is an error of kind io whose
// hint says what deleting it means.
Result<std::optional<AppliedSet>> read_applied_set(const std::filesystem::path& file);
// Atomic (a reader sees the old set or the new one); creates the directory.
Result<void> write_applied_set(const std::filesystem::path& file, const AppliedSet& set);

// The RPC for a kind: containerPolicy, hostPolicy, networkPolicy; "" for KubeArmorClusterPolicy,
// which the daemon takes only from Kubernetes.
std::string rpc_for_kind(const std::string& kind);

// The policy as JSON: the YAML document as Kubernetes reads it (YAML 1.1 scalars resolved as
// go-yaml does, comments and null values dropped), keys in the document's order, compact.
std::string policy_json(const nlohmann::ordered_json& document);
// {"type":"ADDED|MODIFIED|DELETED","object":POLICY}
std::string event_payload(PolicyEvent event, const nlohmann::ordered_json& object);

struct PlannedEvent {
    PolicyIdentity identity;
    PolicyEvent event = PolicyEvent::added;
    std::string rpc;
    std::string payload;
    AppliedPolicy applied;  // what the state records once the daemon acknowledged it
};

struct DeliveryPlan {
    std::vector<PlannedEvent> events;  // ADDED and MODIFIED by identity, then DELETED
    std::vector<PolicyIdentity> unchanged;
    std::vector<PolicyIdentity> not_deliverable;
    std::vector<PolicyIdentity> not_pruned;
};

// Policies with their parsed documents; `applied` what the daemon holds according to the state.
DeliveryPlan plan_delivery(const std::vector<Policy>& policies, const std::map<PolicyIdentity, AppliedPolicy>& applied,
                           bool prune);

// Holds an exclusive lock on FILE.lock: one apply per applied set at a time.
class AppliedSetLock {
public:
    static Result<AppliedSetLock> take(const std::filesystem::path& file);
    AppliedSetLock(AppliedSetLock&& other) noexcept;
    AppliedSetLock(const AppliedSetLock&) = delete;
    AppliedSetLock& operator=(const AppliedSetLock&) = delete;
    AppliedSetLock& operator=(AppliedSetLock&&) = delete;
    ~AppliedSetLock();

private:
    explicit AppliedSetLock(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace karmor::daemon
