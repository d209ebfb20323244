// Log entries and timestamps of one signature, then cosign's thresholds.
#include "signing/signing_time.hpp"

#include <ctime>
#include <set>

#include "signing/rfc3161.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

CheckOutcome check_entries(const TimeMaterial& material, const SignedContent& content, const TrustedRoot& root,
                           TimeEvidence& evidence, std::vector<const TrustedLog*>& v2_logs, bool& entry_without_set) {
    const auto& entries = *material.tlog_entries;
    if (entries.size() > max_tlog_entries)
        return fail_check(check::well_formed, "it carries " + std::to_string(entries.size()) +
                                                  " log entries, more than " + std::to_string(max_tlog_entries));
    // The same entry twice would count twice towards a threshold.
    for (std::size_t i = 0; i < entries.size(); ++i)
        for (std::size_t j = i + 1; j < entries.size(); ++j)
            if (entries[i].log_id == entries[j].log_id && entries[i].log_index == entries[j].log_index)
                return fail_check(check::transparency_log,
                                  "it lists log entry " + std::to_string(entries[i].log_index) + " twice");
    EntryRequirements requirements;
    requirements.set_required = material.bundle_version == 1;
    requirements.proof_required = material.bundle_version >= 2;
    std::set<std::string> logs;
    for (const auto& entry : entries) {
        auto checked = check_log_entry(entry, root, content, requirements);
        if (!checked.outcome.passed) return checked.outcome;
        logs.insert(entry.log_id);
        if (checked.signed_time)
            evidence.times.push_back({*checked.signed_time, "signed entry timestamp of " + checked.log->base_url});
        else
            entry_without_set = true;
        if (checked.rekor_v2) v2_logs.push_back(checked.log);
    }
    evidence.verified_log_entries = logs.size();
    if (!entries.empty()) {
        evidence.passed.push_back(check::transparency_log);
        evidence.passed.push_back(check::log_entry_body);
    }
    return {};
}

CheckOutcome check_timestamps(const TimeMaterial& material, const SignedContent& content, const TrustedRoot& root,
                              TimeEvidence& evidence, std::vector<std::int64_t>& timestamp_times) {
    const auto& timestamps = *material.rfc3161_timestamps;
    if (timestamps.size() > max_timestamps)
        return fail_check(check::well_formed, "it carries " + std::to_string(timestamps.size()) +
                                                  " RFC 3161 timestamps, more than " + std::to_string(max_timestamps));
    std::set<std::string> authorities;
    for (const auto& timestamp : timestamps) {
        auto verified = verify_rfc3161_timestamp(timestamp, content.signature, root.timestamp_authorities);
        if (!verified) return fail_check(check::timestamp, verified.error().message);
        // A second timestamp by the same authority adds no independent witness (sigstore-go).
        if (!authorities.insert(verified->authority).second) continue;
        evidence.times.push_back({verified->time, "RFC 3161 timestamp of " + verified->authority});
        timestamp_times.push_back(verified->time);
    }
    evidence.verified_timestamps = authorities.size();
    if (!timestamps.empty()) evidence.passed.push_back(check::timestamp);
    return {};
}

}  // namespace

CheckOutcome check_logs_and_timestamps(const TimeMaterial& material, const SignedContent& content,
                                       const TrustedRoot& root, const TransparencyPolicy& policy, bool with_certificate,
                                       TimeEvidence& evidence) {
    static const std::vector<TlogEntry> no_entries;
    static const std::vector<std::string> no_timestamps;
    TimeMaterial present = material;
    if (!present.tlog_entries) present.tlog_entries = &no_entries;
    if (!present.rfc3161_timestamps) present.rfc3161_timestamps = &no_timestamps;

    std::vector<const TrustedLog*> v2_logs;
    bool entry_without_set = false;
    if (auto entries = check_entries(present, content, root, evidence, v2_logs, entry_without_set); !entries.passed)
        return entries;
    std::vector<std::int64_t> timestamp_times;
    if (auto timestamps = check_timestamps(present, content, root, evidence, timestamp_times); !timestamps.passed)
        return timestamps;
    // A Rekor v2 checkpoint carries no time of its own: its log's key must have been valid when
    // the signature was timestamped.
    for (const auto* log : v2_logs)
        for (const auto time : timestamp_times)
            if (!log->valid.contains(time))
                return fail_check(check::transparency_log, "the key of log " + log->base_url + " was not valid at " +
                                                               util::format_rfc3339_utc(time) +
                                                               " (the signature's timestamp) per the trusted root");

    if (!policy.ignore_tlog && evidence.verified_log_entries == 0)
        return fail_check(check::transparency_log,
                          present.tlog_entries->empty()
                              ? "it has no transparency-log entry (pass --insecure-ignore-tlog to accept a signature "
                                "that was never logged, as cosign's flag does)"
                              : "none of its log entries is from a log of the trusted root");
    const bool only_v2_entries = !v2_logs.empty() && v2_logs.size() == present.tlog_entries->size();
    const bool timestamp_required =
        policy.use_signed_timestamps || (with_certificate && !policy.ignore_tlog && only_v2_entries);
    if (timestamp_required && evidence.verified_timestamps == 0)
        return fail_check(check::timestamp,
                          only_v2_entries && !policy.use_signed_timestamps
                              ? "it has no RFC 3161 timestamp, and its Rekor v2 log entry carries no time of its own"
                              : "it has no RFC 3161 timestamp from an authority of the trusted root "
                                "(--use-signed-timestamps)");
    if (!with_certificate) return {};
    if (evidence.times.empty()) {
        if (policy.ignore_tlog && !policy.use_signed_timestamps) {
            evidence.times.push_back({static_cast<std::int64_t>(std::time(nullptr)),
                                      "current time (--insecure-ignore-tlog and no timestamp)"});
            return {};
        }
        if (entry_without_set)
            return fail_check(check::signed_entry_timestamp,
                              "its log entry has no signed entry timestamp (SET), so its integrated time is signed by "
                              "nobody, and no RFC 3161 timestamp gives a time either (an inclusion proof proves "
                              "membership, not time)");
        return fail_check(check::signing_time, "nothing verified says when it was made while the short-lived "
                                               "certificate was valid");
    }
    evidence.passed.push_back(check::signing_time);
    return {};
}

}  // namespace karmor::signing
