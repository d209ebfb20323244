// Entry bodies of Rekor v1 and v2, each compared field by field with the signature at hand.
#include "signing/log_entry_bodies.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "signing/certificates.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/signature_schemes.hpp"
#include "signing/strict_json.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"

namespace karmor::signing {
namespace {

using Json = nlohmann::json;

const Json* path(const Json& root, std::initializer_list<const char*> keys) {
    const Json* at = &root;
    for (const char* key : keys) {
        if (!at->is_object()) return nullptr;
        const auto it = at->find(key);
        if (it == at->end()) return nullptr;
        at = &*it;
    }
    return at;
}

const std::string* string_at(const Json& root, std::initializer_list<const char*> keys) {
    const auto* at = path(root, keys);
    return at && at->is_string() ? at->get_ptr<const std::string*>() : nullptr;
}

// The DER of a PEM certificate or public key given base64-encoded (Rekor v1 verifiers).
std::string pem_verifier_der(const std::string& base64_pem) {
    const auto pem = util::base64_decode(base64_pem);
    if (!pem || pem->size() > max_certificate_bytes * 2) return {};
    if (auto certificate = pem_certificate_der(*pem); !certificate.empty()) return certificate;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())),
                                                  BIO_free);
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    ERR_clear_error();
    if (!key) return {};
    auto der = public_key_der(key);
    EVP_PKEY_free(key);
    return der;
}

// The signer as the content names it: its certificate, else its key.
const std::string& signer_der(const SignedContent& content) {
    return content.certificate_der.empty() ? content.public_key_der : content.certificate_der;
}

bool records_signer(const std::string& recorded_der, const SignedContent& content, const char* field,
                    std::string& why) {
    if (recorded_der.empty() || recorded_der != signer_der(content)) {
        why = std::string("its ") + field + " is not this signature's " +
              (content.certificate_der.empty() ? "key" : "certificate");
        return false;
    }
    return true;
}

bool records_hex_hash(const Json& hash, const std::string& algorithm, const std::string& digest, const char* field,
                      std::string& why) {
    const auto* name = string_at(hash, {"algorithm"});
    const auto* value = string_at(hash, {"value"});
    if (!name || !value) {
        why = std::string("its ") + field + " is not a hash";
        return false;
    }
    if (*name != algorithm || *value != util::to_hex(digest)) {
        why = std::string("its ") + field + " is the hash of other content";
        return false;
    }
    return true;
}

// ---- Rekor v1 ----

bool hashedrekord_v1_records(const Json& body, const SignedContent& content, std::string& why) {
    if (content.dsse) {
        why = "it is a hashedrekord 0.0.1 entry, which cannot record a DSSE envelope";
        return false;
    }
    const auto* hash = path(body, {"spec", "data", "hash"});
    const auto* signature = string_at(body, {"spec", "signature", "content"});
    const auto* key = string_at(body, {"spec", "signature", "publicKey", "content"});
    if (!hash || !signature || !key) {
        why = "its hashedrekord body lacks the hash, signature or public key";
        return false;
    }
    const bool message = !content.message_digest.empty();
    if (!records_hex_hash(*hash, message ? content.message_digest_algorithm : "sha256",
                          message ? content.message_digest : util::sha256_raw(content.payload), "data hash", why))
        return false;
    const auto recorded = util::base64_decode(*signature);
    if (!recorded || *recorded != content.signature) {
        why = "it records another signature";
        return false;
    }
    return records_signer(pem_verifier_der(*key), content, "public key", why);
}

bool dsse_v1_records(const Json& body, const SignedContent& content, std::string& why) {
    const auto* hash = path(body, {"spec", "payloadHash"});
    const auto* signatures = path(body, {"spec", "signatures"});
    if (!content.dsse || !hash || !signatures || !signatures->is_array()) {
        why = content.dsse ? "its dsse body lacks the payload hash or the signatures"
                           : "it is a dsse entry, which records a DSSE envelope, not this signature";
        return false;
    }
    if (!records_hex_hash(*hash, "sha256", util::sha256_raw(content.payload), "payload hash", why)) return false;
    for (const auto& recorded : *signatures) {
        const auto* signature = string_at(recorded, {"signature"});
        const auto* verifier = string_at(recorded, {"verifier"});
        if (!signature || !verifier) continue;
        const auto bytes = util::base64_decode(*signature);
        if (!bytes || *bytes != content.signature) continue;
        return records_signer(pem_verifier_der(*verifier), content, "verifier", why);
    }
    why = "it records another signature";
    return false;
}

bool intoto_v2_records(const Json& body, const SignedContent& content, std::string& why) {
    const auto* hash = path(body, {"spec", "content", "payloadHash"});
    const auto* signatures = path(body, {"spec", "content", "envelope", "signatures"});
    const auto* type = path(body, {"spec", "content", "envelope", "payloadType"});
    if (!content.dsse || !hash || !signatures || !signatures->is_array()) {
        why = content.dsse ? "its intoto body lacks the payload hash or the signatures"
                           : "it is an intoto entry, which records a DSSE envelope, not this signature";
        return false;
    }
    if (type && (!type->is_string() || type->get<std::string>() != content.payload_type)) {
        why = "it records another payload type";
        return false;
    }
    if (!records_hex_hash(*hash, "sha256", util::sha256_raw(content.payload), "payload hash", why)) return false;
    for (const auto& recorded : *signatures) {
        const auto* signature = string_at(recorded, {"sig"});
        const auto* key = string_at(recorded, {"publicKey"});
        if (!signature || !key) continue;
        // intoto 0.0.2 stores the envelope's base64 signature base64-encoded once more.
        const auto inner = util::base64_decode(*signature);
        const auto bytes = inner ? util::base64_decode(*inner) : std::nullopt;
        if (!bytes || *bytes != content.signature) continue;
        return records_signer(pem_verifier_der(*key), content, "public key", why);
    }
    why = "it records another signature";
    return false;
}

// ---- Rekor v2 (protobuf JSON of rekor-tiles' Entry) ----

std::string protobuf_hash_name(const std::string& algorithm) {
    if (algorithm == "SHA2_256") return "sha256";
    if (algorithm == "SHA2_384") return "sha384";
    if (algorithm == "SHA2_512") return "sha512";
    return {};
}

struct EvpKeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<EVP_PKEY, EvpKeyFree> signer_key(const SignedContent& content) {
    if (!content.certificate_der.empty()) {
        auto certificate = parse_der_certificate(content.certificate_der);
        return std::unique_ptr<EVP_PKEY, EvpKeyFree>(certificate ? X509_get_pubkey(certificate.get()) : nullptr);
    }
    const auto* data = reinterpret_cast<const unsigned char*>(content.public_key_der.data());
    std::unique_ptr<EVP_PKEY, EvpKeyFree> key(
        d2i_PUBKEY(nullptr, &data, static_cast<long>(content.public_key_der.size())));
    ERR_clear_error();
    return key;
}

// A v2 verifier: {"keyDetails": NAME, "x509Certificate"|"publicKey": {"rawBytes": B64}}. Sets
// `hash_name` to the hash its key details imply.
bool v2_verifier_matches(const Json& verifier, const SignedContent& content, std::string& hash_name, std::string& why) {
    if (!require_only_fields(verifier, {"keyDetails", "x509Certificate", "publicKey"}, "verifier") ||
        !string_at(verifier, {"keyDetails"})) {
        why = "its verifier is not keyDetails and a certificate or key";
        return false;
    }
    const bool certificate = verifier.contains("x509Certificate");
    const auto* raw = string_at(verifier, {certificate ? "x509Certificate" : "publicKey", "rawBytes"});
    const auto* holder = path(verifier, {certificate ? "x509Certificate" : "publicKey"});
    if (!raw || certificate == verifier.contains("publicKey") ||
        !require_only_fields(*holder, {"rawBytes"}, "verifier")) {
        why = "its verifier is not exactly one certificate or key";
        return false;
    }
    const auto der = decode_canonical_base64(*raw);
    if (!der || !records_signer(*der, content, "verifier", why)) return false;
    const auto key = signer_key(content);
    hash_name = key ? hashedrekord_hash_for(key.get(), *string_at(verifier, {"keyDetails"})) : std::string();
    if (hash_name.empty()) {
        why = "its verifier's key details " + *string_at(verifier, {"keyDetails"}) + " do not fit this signature's " +
              (key ? describe_key(key.get()) : std::string("key"));
        return false;
    }
    return true;
}

// What a hashedrekord 0.0.2 entry's data.digest must be: the hash (under the key's algorithm) of
// what was signed. DSSE envelopes are logged by the hash of their PAE (rekor-v2-spec).
std::string expected_v2_digest(const SignedContent& content, const std::string& hash_name, std::string& why) {
    if (!content.message_digest.empty()) {
        if (content.message_digest_algorithm != hash_name) {
            why = "it records a " + hash_name + " digest, and the bundle's message digest is " +
                  content.message_digest_algorithm;
            return {};
        }
        return content.message_digest;
    }
    return util::digest_raw(hash_name,
                            content.dsse ? dsse_pae(content.payload_type, content.payload) : content.payload);
}

bool hashedrekord_v2_records(const Json& body, const SignedContent& content, std::string& why) {
    const auto* spec = path(body, {"spec", "hashedRekordV002"});
    if (!spec || !require_only_fields(*path(body, {"spec"}), {"hashedRekordV002"}, "spec") ||
        !require_only_fields(*spec, {"data", "signature"}, "hashedRekordV002")) {
        why = "its body is not a hashedRekordV002 spec";
        return false;
    }
    const auto* algorithm = string_at(*spec, {"data", "algorithm"});
    const auto* digest = string_at(*spec, {"data", "digest"});
    const auto* signature = string_at(*spec, {"signature", "content"});
    const auto* verifier = path(*spec, {"signature", "verifier"});
    if (!algorithm || !digest || !signature || !verifier ||
        !require_only_fields(*path(*spec, {"data"}), {"algorithm", "digest"}, "data") ||
        !require_only_fields(*path(*spec, {"signature"}), {"content", "verifier"}, "signature")) {
        why = "its hashedrekord body lacks the digest, signature or verifier";
        return false;
    }
    const auto recorded = decode_canonical_base64(*signature);
    if (!recorded || *recorded != content.signature) {
        why = "it records another signature";
        return false;
    }
    std::string hash_name;
    if (!v2_verifier_matches(*verifier, content, hash_name, why)) return false;
    if (protobuf_hash_name(*algorithm) != hash_name) {
        why = "its digest algorithm " + *algorithm + " is not the one its key details imply";
        return false;
    }
    const auto expected = expected_v2_digest(content, hash_name, why);
    if (expected.empty()) return false;
    const auto recorded_digest = decode_canonical_base64(*digest);
    if (!recorded_digest || *recorded_digest != expected) {
        why = "its digest is the hash of other content";
        return false;
    }
    return true;
}

bool dsse_v2_records(const Json& body, const SignedContent& content, std::string& why) {
    const auto* spec = path(body, {"spec", "dsseV002"});
    if (!content.dsse) {
        why = "it is a dsse entry, which records a DSSE envelope, not this signature";
        return false;
    }
    if (!spec || !require_only_fields(*path(body, {"spec"}), {"dsseV002"}, "spec") ||
        !require_only_fields(*spec, {"payloadHash", "signatures"}, "dsseV002")) {
        why = "its body is not a dsseV002 spec";
        return false;
    }
    const auto* algorithm = string_at(*spec, {"payloadHash", "algorithm"});
    const auto* digest = string_at(*spec, {"payloadHash", "digest"});
    const auto* signatures = path(*spec, {"signatures"});
    if (!algorithm || !digest || !signatures || !signatures->is_array()) {
        why = "its dsse body lacks the payload hash or the signatures";
        return false;
    }
    const auto hash_name = protobuf_hash_name(*algorithm);
    const auto recorded_digest = decode_canonical_base64(*digest);
    if (hash_name.empty() || !recorded_digest || *recorded_digest != util::digest_raw(hash_name, content.payload)) {
        why = "its payload hash is the hash of other content";
        return false;
    }
    for (const auto& recorded : *signatures) {
        const auto* signature = string_at(recorded, {"content"});
        const auto* verifier = path(recorded, {"verifier"});
        if (!signature || !verifier) continue;
        const auto bytes = decode_canonical_base64(*signature);
        if (!bytes || *bytes != content.signature) continue;
        // A DSSE signature is over the PAE itself, so the key details name the plain scheme;
        // only the certificate or key is compared.
        const auto* raw =
            string_at(*verifier, {verifier->contains("x509Certificate") ? "x509Certificate" : "publicKey", "rawBytes"});
        const auto der = raw ? decode_canonical_base64(*raw) : std::nullopt;
        return records_signer(der ? *der : std::string(), content, "verifier", why);
    }
    why = "it records another signature";
    return false;
}

}  // namespace

bool is_rekor_v2_kind(std::string_view kind, std::string_view version) {
    return version == "0.0.2" && (kind == "hashedrekord" || kind == "dsse");
}

bool entry_records(std::string_view body_bytes, std::string_view entry_kind, std::string_view entry_version,
                   const SignedContent& content, std::string& why) {
    // An empty signature or signer would match an entry that records nothing.
    if (content.signature.empty() || signer_der(content).empty()) {
        why = "there is no signature or certificate to look for";
        return false;
    }
    auto body = parse_strict_json(body_bytes, max_entry_body_bytes, "the log entry body", 16);
    if (!body || !body->is_object()) {
        why = "its body is not a JSON object";
        return false;
    }
    const auto kind = body->value("kind", "");
    const auto version = body->value("apiVersion", "");
    if (!entry_kind.empty() && (entry_kind != kind || entry_version != version)) {
        why = "its kindVersion says " + std::string(entry_kind) + " " + std::string(entry_version) +
              " but its body is " + kind + " " + version;
        return false;
    }
    if (kind == "hashedrekord" && version == "0.0.1") return hashedrekord_v1_records(*body, content, why);
    if (kind == "dsse" && version == "0.0.1") return dsse_v1_records(*body, content, why);
    if (kind == "intoto" && version == "0.0.2") return intoto_v2_records(*body, content, why);
    if (is_rekor_v2_kind(kind, version)) {
        if (!require_only_fields(*body, {"apiVersion", "kind", "spec"}, "the log entry body")) {
            why = "its body has fields a Rekor v2 entry does not";
            return false;
        }
        return kind == "hashedrekord" ? hashedrekord_v2_records(*body, content, why)
                                      : dsse_v2_records(*body, content, why);
    }
    why = "it is a " + kind + " " + version + " entry, which karmor does not read";
    return false;
}

}  // namespace karmor::signing
