// Rekor entries: reading them from both signature formats, SETs, inclusion proofs, checkpoints
// and entry bodies.
#include "signing/transparency_log.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <limits>

#include "signing/strict_json.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

Error invalid(const std::string& message) {
    return Error(ErrorKind::verification, message);
}

// protobuf JSON writes int64 as a string; cosign's annotation as a number. Either, non-negative.
Result<std::int64_t> read_count(const nlohmann::json& object, const char* key, const std::string& what) {
    const auto it = object.find(key);
    if (it == object.end()) return unexpected(invalid(what + " has no \"" + std::string(key) + "\""));
    if (it->is_number_unsigned()) {
        const auto value = it->get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return unexpected(invalid(what + ": \"" + key + "\" is out of range"));
        return static_cast<std::int64_t>(value);
    }
    if (it->is_string()) {
        const auto text = it->get<std::string>();
        if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0'))
            return unexpected(invalid(what + ": \"" + key + "\" is not a count"));
        std::int64_t value = 0;
        for (const char c : text) {
            if (c < '0' || c > '9') return unexpected(invalid(what + ": \"" + key + "\" is not a count"));
            value = value * 10 + (c - '0');
        }
        return value;
    }
    return unexpected(invalid(what + ": \"" + key + "\" is not a non-negative integer"));
}

// protobuf JSON leaves out a field whose value is zero (the first entry of a log has logIndex 0).
Result<std::int64_t> read_count_or_zero(const nlohmann::json& object, const char* key, const std::string& what) {
    if (!object.contains(key)) return std::int64_t{0};
    return read_count(object, key, what);
}

Result<std::string> read_base64(const nlohmann::json& object, const char* key, const std::string& what,
                                std::size_t max_bytes) {
    auto text = required_string(object, key, what);
    if (!text) return unexpected(std::move(text).error());
    auto bytes = decode_canonical_base64(*text);
    if (!bytes) return unexpected(invalid(what + ": \"" + key + "\" is not base64"));
    if (bytes->size() > max_bytes) return unexpected(invalid(what + ": \"" + key + "\" is too large"));
    return std::move(*bytes);
}

std::string node_hash(const std::string& left, const std::string& right) {
    return util::sha256_raw(std::string(1, '\x01') + left + right);
}

}  // namespace

Result<TlogEntry> parse_cosign_bundle_annotation(std::string_view text) {
    const std::string what = "the dev.sigstore.cosign/bundle annotation";
    auto parsed = parse_strict_json(text, max_entry_body_bytes * 2, what, 8);
    if (!parsed) return unexpected(std::move(parsed).error());
    if (auto only = require_only_fields(*parsed, {"SignedEntryTimestamp", "Payload"}, what); !only)
        return unexpected(std::move(only).error());
    TlogEntry entry;
    if (parsed->contains("SignedEntryTimestamp")) {
        auto set = read_base64(*parsed, "SignedEntryTimestamp", what, 1024);
        if (!set) return unexpected(std::move(set).error());
        entry.signed_entry_timestamp = std::move(*set);
    }
    const auto payload = parsed->find("Payload");
    if (payload == parsed->end()) return unexpected(invalid(what + " has no Payload"));
    const auto payload_what = what + "'s Payload";
    if (auto only = require_only_fields(*payload, {"body", "integratedTime", "logIndex", "logID"}, payload_what); !only)
        return unexpected(std::move(only).error());
    auto body = read_base64(*payload, "body", payload_what, max_entry_body_bytes);
    if (!body) return unexpected(std::move(body).error());
    entry.canonical_body = std::move(*body);
    auto time = read_count(*payload, "integratedTime", payload_what);
    if (!time) return unexpected(std::move(time).error());
    entry.integrated_time = *time;
    auto index = read_count(*payload, "logIndex", payload_what);
    if (!index) return unexpected(std::move(index).error());
    entry.log_index = *index;
    auto log_id = required_string(*payload, "logID", payload_what);
    if (!log_id) return unexpected(std::move(log_id).error());
    auto raw = util::hex_decode(*log_id);
    if (!raw || raw->size() != 32) return unexpected(invalid(payload_what + ": logID is not 64 lower-case hex digits"));
    entry.log_id = std::move(*raw);
    return entry;
}

Result<TlogEntry> parse_bundle_tlog_entry(const nlohmann::json& json, const std::string& what) {
    if (auto only = require_only_fields(json,
                                        {"logIndex", "logId", "kindVersion", "integratedTime", "inclusionPromise",
                                         "inclusionProof", "canonicalizedBody"},
                                        what);
        !only)
        return unexpected(std::move(only).error());
    TlogEntry entry;
    auto index = read_count_or_zero(json, "logIndex", what);
    if (!index) return unexpected(std::move(index).error());
    entry.log_index = *index;
    const auto log_id = json.find("logId");
    if (log_id == json.end()) return unexpected(invalid(what + " has no logId"));
    if (auto only = require_only_fields(*log_id, {"keyId"}, what + "'s logId"); !only)
        return unexpected(std::move(only).error());
    auto key_id = read_base64(*log_id, "keyId", what + "'s logId", 64);
    if (!key_id) return unexpected(std::move(key_id).error());
    entry.log_id = std::move(*key_id);
    if (const auto kind = json.find("kindVersion"); kind != json.end()) {
        if (auto only = require_only_fields(*kind, {"kind", "version"}, what + "'s kindVersion"); !only)
            return unexpected(std::move(only).error());
        entry.kind = kind->value("kind", "");
        entry.version = kind->value("version", "");
    }
    if (json.contains("integratedTime")) {
        auto time = read_count(json, "integratedTime", what);
        if (!time) return unexpected(std::move(time).error());
        entry.integrated_time = *time;
    }
    auto body = read_base64(json, "canonicalizedBody", what, max_entry_body_bytes);
    if (!body) return unexpected(std::move(body).error());
    entry.canonical_body = std::move(*body);
    if (const auto promise = json.find("inclusionPromise"); promise != json.end()) {
        if (auto only = require_only_fields(*promise, {"signedEntryTimestamp"}, what + "'s inclusionPromise"); !only)
            return unexpected(std::move(only).error());
        auto set = read_base64(*promise, "signedEntryTimestamp", what + "'s inclusionPromise", 1024);
        if (!set) return unexpected(std::move(set).error());
        entry.signed_entry_timestamp = std::move(*set);
    }
    if (const auto proof = json.find("inclusionProof"); proof != json.end()) {
        const auto proof_what = what + "'s inclusionProof";
        if (auto only =
                require_only_fields(*proof, {"logIndex", "rootHash", "treeSize", "hashes", "checkpoint"}, proof_what);
            !only)
            return unexpected(std::move(only).error());
        InclusionProof out;
        auto proof_index = read_count_or_zero(*proof, "logIndex", proof_what);
        if (!proof_index) return unexpected(std::move(proof_index).error());
        out.log_index = *proof_index;
        auto size = read_count(*proof, "treeSize", proof_what);
        if (!size) return unexpected(std::move(size).error());
        out.tree_size = *size;
        auto root = read_base64(*proof, "rootHash", proof_what, 64);
        if (!root) return unexpected(std::move(root).error());
        out.root_hash = std::move(*root);
        const auto hashes = proof->find("hashes");
        if (hashes != proof->end()) {
            if (!hashes->is_array() || hashes->size() > max_proof_hashes)
                return unexpected(
                    invalid(proof_what + ": hashes is not a list of at most " + std::to_string(max_proof_hashes)));
            for (const auto& hash : *hashes) {
                if (!hash.is_string()) return unexpected(invalid(proof_what + ": a hash is not a string"));
                auto raw = decode_canonical_base64(hash.get<std::string>());
                if (!raw || raw->size() != 32) return unexpected(invalid(proof_what + ": a hash is not 32 bytes"));
                out.hashes.push_back(std::move(*raw));
            }
        }
        const auto checkpoint = proof->find("checkpoint");
        if (checkpoint == proof->end())
            return unexpected(invalid(proof_what + " has no checkpoint, so its root hash is signed by nobody"));
        if (auto only = require_only_fields(*checkpoint, {"envelope"}, proof_what + "'s checkpoint"); !only)
            return unexpected(std::move(only).error());
        auto envelope = required_string(*checkpoint, "envelope", proof_what + "'s checkpoint");
        if (!envelope) return unexpected(std::move(envelope).error());
        if (envelope->size() > max_checkpoint_bytes)
            return unexpected(invalid(proof_what + "'s checkpoint is too large"));
        out.checkpoint = std::move(*envelope);
        entry.inclusion_proof = std::move(out);
    }
    return entry;
}

std::string set_signed_payload(const TlogEntry& entry) {
    // Keys sorted, no spaces: the canonical JSON Rekor signs.
    nlohmann::ordered_json payload = nlohmann::ordered_json::object();
    payload["body"] = util::base64_encode(entry.canonical_body);
    payload["integratedTime"] = entry.integrated_time;
    payload["logID"] = util::to_hex(entry.log_id);
    payload["logIndex"] = entry.log_index;
    return payload.dump();
}

std::string merkle_leaf_hash(std::string_view data) {
    return util::sha256_raw(std::string(1, '\0') + std::string(data));
}

bool verify_inclusion(std::int64_t index, std::int64_t size, const std::string& leaf_hash,
                      const std::vector<std::string>& proof, const std::string& root) {
    if (index < 0 || size <= 0 || index >= size || leaf_hash.size() != 32 || root.size() != 32) return false;
    auto fn = static_cast<std::uint64_t>(index);
    auto sn = static_cast<std::uint64_t>(size - 1);
    std::string r = leaf_hash;
    for (const auto& p : proof) {
        if (sn == 0 || p.size() != 32) return false;
        if ((fn & 1) != 0 || fn == sn) {
            r = node_hash(p, r);
            if ((fn & 1) == 0)
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            r = node_hash(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && r == root;
}

bool entry_records(const TlogEntry& entry, const SignedContent& content, std::string& why) {
    return entry_records(entry.canonical_body, entry.kind, entry.version, content, why);
}

LogEntryCheck check_log_entry(const TlogEntry& entry, const TrustedRoot& root, const SignedContent& content,
                              const EntryRequirements& requirements) {
    LogEntryCheck out;
    const auto fail = [&](const char* name, std::string reason) {
        out.outcome = fail_check(name, std::move(reason));
        return out;
    };
    out.log = root.find_tlog(entry.log_id);
    if (!out.log)
        return fail(check::transparency_log, "its log entry is from log " + util::to_hex(entry.log_id) +
                                                 ", which is not in the trusted root " + root.source);
    const auto& log = *out.log;
    if (!log.key) return fail(check::transparency_log, "the log " + log.base_url + " cannot be used: " + log.unusable);
    out.rekor_v2 = is_rekor_v2_kind(entry.kind, entry.version);
    if (out.rekor_v2 && !entry.signed_entry_timestamp.empty())
        return fail(check::signed_entry_timestamp, "its Rekor v2 log entry carries a SET, which Rekor v2 never writes");
    if (!entry.signed_entry_timestamp.empty()) {
        if (!log.verify(set_signed_payload(entry), entry.signed_entry_timestamp))
            return fail(check::signed_entry_timestamp,
                        "its signed entry timestamp (SET) does not verify under the key of log " + log.base_url +
                            " from the trusted root");
        if (!log.valid.contains(entry.integrated_time))
            return fail(check::signed_entry_timestamp, "the key of log " + log.base_url + " was not valid at " +
                                                           util::format_rfc3339_utc(entry.integrated_time) +
                                                           " per the trusted root");
        out.signed_time = entry.integrated_time;
    } else if (requirements.set_required && !out.rekor_v2) {
        return fail(check::signed_entry_timestamp,
                    "its log entry has no signed entry timestamp (SET), which a v0.1 bundle must carry");
    }
    if (!entry.inclusion_proof) {
        if (out.rekor_v2)
            return fail(check::inclusion_proof,
                        "its Rekor v2 log entry has no inclusion proof, the only thing that shows it was logged");
        if (requirements.proof_required)
            return fail(check::inclusion_proof,
                        "its log entry has no inclusion proof, which a bundle of v0.2 or later must carry");
        if (entry.signed_entry_timestamp.empty())
            return fail(check::signed_entry_timestamp,
                        "its log entry has neither a signed entry timestamp nor an inclusion proof");
    } else {
        const auto& proof = *entry.inclusion_proof;
        auto checkpoint = verify_checkpoint(proof.checkpoint, log,
                                            out.rekor_v2 ? CheckpointStyle::rekor_v2 : CheckpointStyle::rekor_v1);
        if (!checkpoint) return fail(check::checkpoint, checkpoint.error().message);
        if (checkpoint->size != proof.tree_size || checkpoint->root_hash != proof.root_hash)
            return fail(check::checkpoint, "the signed checkpoint is of another tree (size " +
                                               std::to_string(checkpoint->size) + ") than the inclusion proof's (" +
                                               std::to_string(proof.tree_size) + ")");
        if (proof.log_index != entry.log_index && out.rekor_v2)
            return fail(check::inclusion_proof, "the inclusion proof is of entry " + std::to_string(proof.log_index) +
                                                    ", not of entry " + std::to_string(entry.log_index));
        if (!verify_inclusion(proof.log_index, proof.tree_size, merkle_leaf_hash(entry.canonical_body), proof.hashes,
                              proof.root_hash))
            return fail(check::inclusion_proof, "the inclusion proof of entry " + std::to_string(proof.log_index) +
                                                    " does not lead to the signed root hash of a tree of " +
                                                    std::to_string(proof.tree_size));
    }
    std::string why;
    if (!entry_records(entry, content, why))
        return fail(check::log_entry_body,
                    "the log entry " + std::to_string(entry.log_index) + " does not record this signature: " + why);
    return out;
}

}  // namespace karmor::signing
