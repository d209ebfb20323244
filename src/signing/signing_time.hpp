// When a signature was made, and that it was made in the open: the transparency-log entries and
// RFC 3161 timestamps a signature carries, each checked against the trusted root, and the rules
// for how many are needed (cosign's, see docs/signing.md "Logs and timestamps").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "signing/checks.hpp"
#include "signing/log_entry_bodies.hpp"
#include "signing/transparency_log.hpp"
#include "signing/trusted_root.hpp"

namespace karmor::signing {

// cosign's flags for what a signature must carry.
struct TransparencyPolicy {
    bool ignore_tlog = false;            // --insecure-ignore-tlog: no log entry is required
    bool use_signed_timestamps = false;  // --use-signed-timestamps: an RFC 3161 timestamp is required
};

// A time the signature provably existed at, and who says so.
struct SigningTime {
    std::int64_t time = 0;
    std::string source;  // "RFC 3161 timestamp of URI", "signed entry timestamp of log URL", "current time"
};

struct TimeEvidence {
    std::vector<SigningTime> times;        // each verified one
    std::size_t verified_log_entries = 0;  // from distinct logs
    std::size_t verified_timestamps = 0;   // from distinct authorities
    std::vector<std::string> passed;       // the checks that passed, by name
};

// What a signature carries besides itself, as verify_signature_material needs it.
struct TimeMaterial {
    const std::vector<TlogEntry>* tlog_entries = nullptr;
    const std::vector<std::string>* rfc3161_timestamps = nullptr;  // DER TimeStampResp each
    // A Sigstore bundle's minor version: v0.1 entries need a SET, v0.2 and later an inclusion
    // proof (bundle spec); 0 for cosign's legacy annotations, which carry a SET.
    int bundle_version = 0;
};

// Checks every entry and timestamp that is present (one that does not verify refuses the
// signature, whatever the thresholds) and then the thresholds:
// - a log entry, unless policy.ignore_tlog;
// - an RFC 3161 timestamp, with policy.use_signed_timestamps, or for a certificate whose only log
//   entries are Rekor v2 ones (they carry no time; cosign does the same);
// - for a certificate, at least one verified time: a SET's integrated time or a timestamp's
//   genTime (with ignore_tlog and no timestamp required, cosign's fallback: the current time).
// A Rekor v2 entry needs its log's key valid at every verified timestamp's time.
CheckOutcome check_logs_and_timestamps(const TimeMaterial& material, const SignedContent& content,
                                       const TrustedRoot& root, const TransparencyPolicy& policy, bool with_certificate,
                                       TimeEvidence& evidence);

}  // namespace karmor::signing
