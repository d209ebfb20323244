// Rekor transparency-log entries as signatures carry them (cosign's legacy bundle annotation,
// Sigstore bundle tlogEntries) and the checks on them: the signed entry timestamp (SET), the
// RFC 6962 inclusion proof, the signed checkpoint, and what the entry body records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "karmor/result.hpp"
#include "signing/checkpoint.hpp"
#include "signing/checks.hpp"
#include "signing/log_entry_bodies.hpp"
#include "signing/trusted_root.hpp"

namespace karmor::signing {

inline constexpr std::size_t max_tlog_entries = 8;
inline constexpr std::size_t max_proof_hashes = 64;  // a tree of 2^64 leaves needs fewer

struct InclusionProof {
    std::int64_t log_index = 0;  // index in the tree the root hash is of
    std::int64_t tree_size = 0;
    std::string root_hash;            // raw
    std::vector<std::string> hashes;  // raw, leaf to root
    std::string checkpoint;           // the signed note
};

struct TlogEntry {
    std::int64_t log_index = 0;
    std::string log_id;  // raw key id of the log
    std::int64_t integrated_time = 0;
    std::string canonical_body;          // decoded
    std::string signed_entry_timestamp;  // DER signature; empty when the entry has none
    std::optional<InclusionProof> inclusion_proof;
    std::string kind;  // bundles: kindVersion; empty in cosign's legacy annotation
    std::string version;
};

// Cosign's `dev.sigstore.cosign/bundle` annotation: {"SignedEntryTimestamp":B64,"Payload":{"body":B64,
// "integratedTime":N,"logIndex":N,"logID":HEX}}.
Result<TlogEntry> parse_cosign_bundle_annotation(std::string_view text);

// One element of a Sigstore bundle's verificationMaterial.tlogEntries.
Result<TlogEntry> parse_bundle_tlog_entry(const nlohmann::json& entry, const std::string& what);

// The bytes a SET signs: canonical JSON {"body","integratedTime","logID","logIndex"}.
std::string set_signed_payload(const TlogEntry& entry);

// RFC 6962 / RFC 9162 §2.1.3.2: does `leaf_hash` at `index` in a tree of `size` hash to `root`?
bool verify_inclusion(std::int64_t index, std::int64_t size, const std::string& leaf_hash,
                      const std::vector<std::string>& proof, const std::string& root);
// RFC 6962 leaf hash: SHA-256(0x00 || data).
std::string merkle_leaf_hash(std::string_view data);

// entry_records of log_entry_bodies.hpp on the entry's body and kindVersion.
bool entry_records(const TlogEntry& entry, const SignedContent& content, std::string& why);

// What a bundle's version asks of its Rekor v1 entries (v0.1: a SET; v0.2 and later: an
// inclusion proof). A Rekor v2 entry always needs an inclusion proof and never has a SET.
struct EntryRequirements {
    bool set_required = false;
    bool proof_required = false;
};

struct LogEntryCheck {
    CheckOutcome outcome;
    const TrustedLog* log = nullptr;          // the log of the trusted root it is from
    bool rekor_v2 = false;                    // a Rekor v2 entry (no time of its own)
    std::optional<std::int64_t> signed_time;  // the integrated time, when a SET vouches for it
};

// One entry, in this order: from a log of the trusted root (transparency-log); its SET over body,
// integrated time, log ID and index verifies under that log's key, valid at that time
// (signed-entry-timestamp); its checkpoint is signed by the log (checkpoint) and names the tree of
// its inclusion proof, whose RFC 6962 audit path leads from the entry to that root
// (inclusion-proof); its body records this signature by this signer over this content (log-entry).
LogEntryCheck check_log_entry(const TlogEntry& entry, const TrustedRoot& root, const SignedContent& content,
                              const EntryRequirements& requirements);

}  // namespace karmor::signing
