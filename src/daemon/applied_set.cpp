#include "daemon/applied_set.hpp"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "karmor/digest.hpp"
#include "util/atomic_file.hpp"
#include "util/json_text.hpp"

namespace karmor::daemon {

namespace fs = std::filesystem;

Result<std::optional<AppliedSet>> read_applied_set(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(file, ec))) return std::optional<AppliedSet>();
    const auto corrupt = [&](const std::string& why) {
        return unexpected(Error(ErrorKind::io, "cannot read the applied set " + file.string() + ": " + why,
                                "delete it to start over: the next apply then sends every policy as ADDED and "
                                "cannot prune what was applied before"));
    };
    std::ifstream in(file, std::ios::binary);
    if (!in) return corrupt("cannot open it");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    try {
        const auto json = nlohmann::ordered_json::parse(buffer.str());
        if (json.at("version").get<int>() != 1) return corrupt("version " + json.at("version").dump() + " is unknown");
        AppliedSet set;
        set.daemon = json.at("daemon").get<std::string>();
        set.digest = json.at("digest").get<std::string>();
        set.reference = json.at("reference").get<std::string>();
        set.complete = json.at("complete").get<bool>();
        for (const auto& entry : json.at("policies")) {
            PolicyIdentity identity{entry.at("kind").get<std::string>(), entry.at("namespace").get<std::string>(),
                                    entry.at("name").get<std::string>()};
            set.policies[identity] = {entry.at("sha256").get<std::string>(), entry.at("object")};
        }
        return std::optional<AppliedSet>(std::move(set));
    } catch (const nlohmann::json::exception& e) {
        return corrupt(e.what());
    }
}

Result<void> write_applied_set(const fs::path& file, const AppliedSet& set) {
    nlohmann::ordered_json json = {{"version", 1},
                                   {"daemon", set.daemon},
                                   {"digest", set.digest},
                                   {"reference", set.reference},
                                   {"complete", set.complete},
                                   {"policies", nlohmann::ordered_json::array()}};
    for (const auto& [identity, applied] : set.policies)
        json["policies"].push_back({{"kind", identity.kind},
                                    {"namespace", identity.namespace_name},
                                    {"name", identity.name},
                                    {"sha256", applied.sha256},
                                    {"object", applied.object}});
    std::error_code ec;
    if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
    if (ec)
        return unexpected(Error(ErrorKind::io, "cannot create " + file.parent_path().string() + ": " + ec.message(),
                                "pass --state FILE in a writable directory"));
    return util::write_file_atomically(file, util::dump_json(json, 1) + "\n", 0644);
}

std::string rpc_for_kind(const std::string& kind) {
    if (kind == "KubeArmorPolicy") return "containerPolicy";
    if (kind == "KubeArmorHostPolicy") return "hostPolicy";
    if (kind == "KubeArmorNetworkPolicy") return "networkPolicy";
    return {};
}

std::string policy_json(const nlohmann::ordered_json& document) {
    return document.dump();
}

std::string event_payload(PolicyEvent event, const nlohmann::ordered_json& object) {
    // Written by hand so that the object's bytes are exactly policy_json's.
    return std::string("{\"type\":\"") + to_string(event) + "\",\"object\":" + policy_json(object) + "}";
}

DeliveryPlan plan_delivery(const std::vector<Policy>& policies, const std::map<PolicyIdentity, AppliedPolicy>& applied,
                           bool prune) {
    DeliveryPlan plan;
    std::map<PolicyIdentity, const Policy*> wanted;
    for (const auto& policy : policies) wanted[policy.identity] = &policy;
    for (const auto& [identity, policy] : wanted) {
        auto rpc = rpc_for_kind(identity.kind);
        if (rpc.empty()) {
            plan.not_deliverable.push_back(identity);
            continue;
        }
        AppliedPolicy now{Digest::sha256_of(policy_json(policy->document)).hex(), policy->document};
        const auto before = applied.find(identity);
        if (before != applied.end() && before->second.sha256 == now.sha256) {
            plan.unchanged.push_back(identity);
            continue;
        }
        const auto event = before == applied.end() ? PolicyEvent::added : PolicyEvent::modified;
        plan.events.push_back({identity, event, std::move(rpc), event_payload(event, now.object), std::move(now)});
    }
    for (const auto& [identity, before] : applied) {
        if (wanted.contains(identity) && !rpc_for_kind(identity.kind).empty()) continue;
        if (!prune) {
            plan.not_pruned.push_back(identity);
            continue;
        }
        plan.events.push_back({identity, PolicyEvent::deleted, rpc_for_kind(identity.kind),
                               event_payload(PolicyEvent::deleted, before.object), before});
    }
    return plan;
}

Result<AppliedSetLock> AppliedSetLock::take(const fs::path& file) {
    std::error_code ec;
    if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
    const auto path = fs::path(file.string() + ".lock");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return unexpected(
            Error(ErrorKind::io, "cannot create " + path.string(), "pass --state FILE in a writable directory"));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return unexpected(
            Error(ErrorKind::io, "cannot lock " + path.string() + ": another apply is delivering this set",
                  "wait for it to finish; run one `karmor oci apply` or `follow --apply` per state file"));
    }
    return AppliedSetLock(fd);
}

AppliedSetLock::AppliedSetLock(AppliedSetLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

AppliedSetLock::~AppliedSetLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace karmor::daemon
