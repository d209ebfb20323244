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

bool records_certificate(const std::string& base64_pem, const std::string& certificate, const char* field,
                         std::string& why) {
    const auto pem = util::base64_decode(base64_pem);
    if (!pem || pem->size() > max_certificate_bytes * 2 || pem_certificate_der(*pem) != certificate) {
        why = std::string("its ") + field + " is not this signature's certificate";
        return false;
    }
    return true;
}

bool records_sha256(const nlohmann::json& hash, std::string_view content, const char* field, std::string& why) {
    if (!hash.is_object() || hash.value("algorithm", "") != "sha256" || !hash.contains("value") ||
        !hash["value"].is_string()) {
        why = std::string("its ") + field + " is not a sha256 hash";
        return false;
    }
    if (hash["value"].get<std::string>() != util::to_hex(util::sha256_raw(content))) {
        why = std::string("its ") + field + " is the hash of other content";
        return false;
    }
    return true;
}

const nlohmann::json* path(const nlohmann::json& root, std::initializer_list<const char*> keys) {
    const nlohmann::json* at = &root;
    for (const char* key : keys) {
        if (!at->is_object()) return nullptr;
        const auto it = at->find(key);
        if (it == at->end()) return nullptr;
        at = &*it;
    }
    return at;
}

bool hashedrekord_records(const nlohmann::json& body, const SignedContent& content, std::string& why) {
    if (content.dsse) {
        why = "it is a hashedrekord entry, which cannot record a DSSE envelope";
        return false;
    }
    const auto* hash = path(body, {"spec", "data", "hash"});
    const auto* signature = path(body, {"spec", "signature", "content"});
    const auto* key = path(body, {"spec", "signature", "publicKey", "content"});
    if (!hash || !signature || !key || !signature->is_string() || !key->is_string()) {
        why = "its hashedrekord body lacks the hash, signature or public key";
        return false;
    }
    if (!records_sha256(*hash, content.payload, "data hash", why)) return false;
    const auto recorded = util::base64_decode(signature->get<std::string>());
    if (!recorded || *recorded != content.signature) {
        why = "it records another signature";
        return false;
    }
    return records_certificate(key->get<std::string>(), content.certificate_der, "public key", why);
}

bool dsse_records(const nlohmann::json& body, const SignedContent& content, std::string& why) {
    const auto* hash = path(body, {"spec", "payloadHash"});
    const auto* signatures = path(body, {"spec", "signatures"});
    if (!hash || !signatures || !signatures->is_array()) {
        why = "its dsse body lacks the payload hash or the signatures";
        return false;
    }
    if (!records_sha256(*hash, content.payload, "payload hash", why)) return false;
    for (const auto& recorded : *signatures) {
        const auto* signature = path(recorded, {"signature"});
        const auto* verifier = path(recorded, {"verifier"});
        if (!signature || !verifier || !signature->is_string() || !verifier->is_string()) continue;
        const auto bytes = util::base64_decode(signature->get<std::string>());
        if (!bytes || *bytes != content.signature) continue;
        return records_certificate(verifier->get<std::string>(), content.certificate_der, "verifier", why);
    }
    why = "it records another signature";
    return false;
}

bool intoto_records(const nlohmann::json& body, const SignedContent& content, std::string& why) {
    const auto* hash = path(body, {"spec", "content", "payloadHash"});
    const auto* signatures = path(body, {"spec", "content", "envelope", "signatures"});
    const auto* type = path(body, {"spec", "content", "envelope", "payloadType"});
    if (!hash || !signatures || !signatures->is_array()) {
        why = "its intoto body lacks the payload hash or the signatures";
        return false;
    }
    if (type && (!type->is_string() || type->get<std::string>() != content.payload_type)) {
        why = "it records another payload type";
        return false;
    }
    if (!records_sha256(*hash, content.payload, "payload hash", why)) return false;
    for (const auto& recorded : *signatures) {
        const auto* signature = path(recorded, {"sig"});
        const auto* key = path(recorded, {"publicKey"});
        if (!signature || !key || !signature->is_string() || !key->is_string()) continue;
        // intoto 0.0.2 stores the envelope's base64 signature base64-encoded once more.
        const auto inner = util::base64_decode(signature->get<std::string>());
        const auto bytes = inner ? util::base64_decode(*inner) : std::nullopt;
        if (!bytes || *bytes != content.signature) continue;
        return records_certificate(key->get<std::string>(), content.certificate_der, "public key", why);
    }
    why = "it records another signature";
    return false;
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
    auto index = read_count(json, "logIndex", what);
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
        auto proof_index = read_count(*proof, "logIndex", proof_what);
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

Result<Checkpoint> verify_checkpoint(std::string_view note, const TrustedLog& log) {
    const auto bad = [](const std::string& why) { return unexpected(invalid("the checkpoint " + why)); };
    if (note.size() > max_checkpoint_bytes) return bad("is too large");
    const auto split = note.find("\n\n");
    if (split == std::string_view::npos) return bad("has no signature block");
    const auto text = note.substr(0, split + 1);
    // The body: origin, tree size, base64 root hash, then optional extension lines.
    std::vector<std::string_view> lines;
    for (std::size_t at = 0; at < text.size();) {
        const auto end = text.find('\n', at);
        lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    if (lines.size() < 3 || lines[0].empty()) return bad("body is not origin, size and root hash");
    Checkpoint out;
    out.origin = std::string(lines[0]);
    if (lines[1].empty() || lines[1].size() > 19 || (lines[1].size() > 1 && lines[1][0] == '0'))
        return bad("tree size is not a number");
    for (const char c : lines[1]) {
        if (c < '0' || c > '9') return bad("tree size is not a number");
        out.size = out.size * 10 + (c - '0');
    }
    auto root = decode_canonical_base64(lines[2]);
    if (!root || root->size() != 32) return bad("root hash is not 32 bytes of base64");
    out.root_hash = std::move(*root);

    const std::string key_hint = log.key_id.substr(0, 4);
    constexpr std::string_view dash = "\xe2\x80\x94 ";  // U+2014 EM DASH and a space
    auto signatures = note.substr(split + 2);
    bool signed_by_log = false;
    std::size_t count = 0;
    while (!signatures.empty()) {
        const auto end = signatures.find('\n');
        if (end == std::string_view::npos) return bad("signature lines do not end with a newline");
        const auto line = signatures.substr(0, end);
        signatures.remove_prefix(end + 1);
        if (++count > 16) return bad("has more than 16 signatures");
        if (line.substr(0, dash.size()) != dash) return bad("has a signature line that does not start with \"— \"");
        const auto rest = line.substr(dash.size());
        const auto space = rest.rfind(' ');
        if (space == std::string_view::npos) return bad("has a signature line without a signature");
        const auto raw = decode_canonical_base64(rest.substr(space + 1));
        if (!raw || raw->size() < 5) return bad("has a signature that is not base64");
        if (raw->substr(0, 4) != key_hint) continue;
        if (log.verify(text, raw->substr(4))) signed_by_log = true;
    }
    if (!signed_by_log)
        return unexpected(invalid("the checkpoint is not signed by the log's key " +
                                  util::to_hex(log.key_id).substr(0, 16) + "… from the trusted root"));
    return out;
}

bool entry_records(const TlogEntry& entry, const SignedContent& content, std::string& why) {
    // An empty signature or certificate would match an entry that records nothing.
    if (content.signature.empty() || content.certificate_der.empty()) {
        why = "there is no signature or certificate to look for";
        return false;
    }
    auto body = parse_strict_json(entry.canonical_body, max_entry_body_bytes, "the log entry body", 16);
    if (!body || !body->is_object()) {
        why = "its body is not a JSON object";
        return false;
    }
    const auto kind = body->value("kind", "");
    const auto version = body->value("apiVersion", "");
    if (!entry.kind.empty() && (entry.kind != kind || entry.version != version)) {
        why = "its kindVersion says " + entry.kind + " " + entry.version + " but its body is " + kind + " " + version;
        return false;
    }
    if (kind == "hashedrekord" && version == "0.0.1") return hashedrekord_records(*body, content, why);
    if (kind == "dsse" && version == "0.0.1" && content.dsse) return dsse_records(*body, content, why);
    if (kind == "intoto" && version == "0.0.2" && content.dsse) return intoto_records(*body, content, why);
    why = "it is a " + kind + " " + version + " entry, which karmor does not read for a " +
          (content.dsse ? "DSSE bundle" : "legacy signature");
    return false;
}

}  // namespace karmor::signing
