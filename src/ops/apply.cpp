// SPEC §12: pull (by digest, verified), validate, then deliver the difference to the applied
// set through the KubeArmor daemon's gRPC service.
#include "daemon/applied_set.hpp"
#include "daemon/policy_service.hpp"
#include "karmor/apply.hpp"
#include "ops/apply_source.hpp"

namespace karmor {
namespace {

// Sends the plan's events in order; each acknowledged one goes into `set`. A refusal is
// reported and the next event sent; an error without a status stops the calls.
void send_events(daemon::DeliveryPlan& plan, daemon::AppliedSet& set, const DeliveryOptions& options,
                 DeliveryReport& report) {
    std::unique_ptr<oci::HttpTransport> transport;
    std::optional<daemon::PolicyServiceClient> client;
    for (auto& planned : plan.events) {
        PolicyDelivery delivery{planned.identity, planned.event, planned.rpc, std::nullopt};
        if (options.dry_run) {
            report.deliveries.push_back(std::move(delivery));
            continue;
        }
        if (!client) {
            // Connected at the first event: an apply with nothing to send needs no daemon.
            transport = daemon::make_daemon_transport(options.daemon);
            client.emplace(*transport, options.daemon);
        }
        auto status = client->send(planned.rpc, planned.payload);
        if (!status) {
            report.stopped = std::move(status).error();
            return;
        }
        delivery.status = *status;
        report.deliveries.push_back(std::move(delivery));
        if (planned.event == PolicyEvent::deleted) {
            // NotExist: the daemon does not hold it either, so the set no longer has it.
            if (*status == PolicyStatus::deleted || *status == PolicyStatus::not_exist)
                set.policies.erase(planned.identity);
        } else if (!is_refusal(*status)) {
            set.policies[planned.identity] = std::move(planned.applied);
        }
    }
}

}  // namespace

const char* to_string(PolicyStatus status) {
    switch (status) {
        case PolicyStatus::failure: return "Failure";
        case PolicyStatus::applied: return "Applied";
        case PolicyStatus::deleted: return "Deleted";
        case PolicyStatus::modified: return "Modified";
        case PolicyStatus::not_exist: return "NotExist";
        case PolicyStatus::invalid: return "Invalid";
        case PolicyStatus::not_enabled: return "NotEnabled";
    }
    return "Unknown";
}

bool is_refusal(PolicyStatus status) {
    return status != PolicyStatus::applied && status != PolicyStatus::deleted && status != PolicyStatus::modified;
}

const char* to_string(PolicyEvent event) {
    switch (event) {
        case PolicyEvent::added: return "ADDED";
        case PolicyEvent::modified: return "MODIFIED";
        case PolicyEvent::deleted: return "DELETED";
    }
    return "";
}

bool DeliveryReport::refused() const {
    for (const auto& delivery : deliveries)
        if (delivery.status && is_refusal(*delivery.status)) return true;
    return false;
}

namespace {

Result<DeliveryReport> deliver(const std::vector<Policy>& policies, const Digest& digest, const std::string& location,
                               const DeliveryOptions& options) {
    std::optional<daemon::AppliedSetLock> lock;
    if (!options.dry_run) {
        auto taken = daemon::AppliedSetLock::take(options.state_file);
        if (!taken) return unexpected(std::move(taken).error());
        lock.emplace(std::move(*taken));
    }
    auto earlier = daemon::read_applied_set(options.state_file);
    if (!earlier) return unexpected(std::move(earlier).error());
    if (*earlier && !(*earlier)->policies.empty() && (*earlier)->daemon != options.daemon.address)
        return unexpected(Error(ErrorKind::usage,
                                "the applied set " + options.state_file.string() + " records what " +
                                    (*earlier)->daemon + " was given, not " + options.daemon.address,
                                "keep one --state file per daemon (the default is one per address); if it is the "
                                "same daemon under another name, use the name it was applied with"));
    daemon::AppliedSet set = earlier->value_or(daemon::AppliedSet{});
    auto plan = daemon::plan_delivery(policies, set.policies, options.prune);

    DeliveryReport report;
    report.digest = digest;
    report.location = location;
    report.daemon = options.daemon.address;
    report.unchanged = plan.unchanged;
    report.not_deliverable = plan.not_deliverable;
    report.not_pruned = plan.not_pruned;
    const auto before = set.policies.size();
    send_events(plan, set, options, report);
    if (options.dry_run) return report;

    const bool acted = !report.deliveries.empty();
    set.complete = !report.stopped && !report.refused();
    const bool news = !*earlier || set.digest != digest.str() || set.complete != (*earlier)->complete ||
                      set.daemon != options.daemon.address;
    // The state records only what the daemon acknowledged: untouched when nothing was.
    if (acted || (news && !report.stopped)) {
        set.daemon = options.daemon.address;
        set.digest = digest.str();
        set.reference = location;
        if (auto saved = daemon::write_applied_set(options.state_file, set); !saved) {
            auto error = std::move(saved).error();
            error.message += "; the daemon holds " + std::to_string(set.policies.size()) + " policies (was " +
                             std::to_string(before) + ") that the state does not record";
            return unexpected(std::move(error));
        }
    }
    return report;
}

}  // namespace

Result<DeliveryReport> apply_policies(const ApplyOptions& options) {
    auto pulled = ops::pull_for_apply(options);
    if (!pulled) return unexpected(std::move(pulled).error());
    auto report = deliver(pulled->policies, pulled->digest, pulled->location, options.delivery);
    if (report) report->signatures = std::move(pulled->signatures);
    return report;
}

Result<DeliveryReport> apply_policy_directory(const std::filesystem::path& directory, const Digest& digest,
                                              const std::string& location, const DeliveryOptions& options) {
    auto policies = ops::load_followed_directory(directory);
    if (!policies) return unexpected(std::move(policies).error());
    return deliver(*policies, digest, location, options);
}

}  // namespace karmor
