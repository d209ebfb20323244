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
#include "signing/trusted_root.hpp"

namespace karmor::signing {

inline constexpr std::size_t max_tlog_entries = 8;
inline constexpr std::size_t max_entry_body_bytes = 64 * 1024;
inline constexpr std::size_t max_proof_hashes = 64;  // a tree of 2^64 leaves needs fewer
inline constexpr std::size_t max_checkpoint_bytes = 8 * 1024;

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

struct Checkpoint {
    std::string origin;
    std::int64_t size = 0;
    std::string root_hash;  // raw
};
// A signed note (origin, size, base64 root hash, optional lines, blank line, "— NAME B64SIG"
// lines) with a signature by `log`'s key (key hint: the first 4 bytes of its key id).
Result<Checkpoint> verify_checkpoint(std::string_view note, const TrustedLog& log);

// What a verifier hands the body check: the signed content and who signed it.
struct SignedContent {
    bool dsse = false;
    std::string payload;  // legacy: the signed payload bytes; DSSE: the envelope payload
    std::string payload_type;
    std::string signature;        // DER
    std::string certificate_der;  // the signing certificate
};
// The entry body (hashedrekord 0.0.1; dsse 0.0.1 or intoto 0.0.2 for DSSE) records exactly this
// signature by this certificate over this content. `why` says what differs.
bool entry_records(const TlogEntry& entry, const SignedContent& content, std::string& why);

}  // namespace karmor::signing
