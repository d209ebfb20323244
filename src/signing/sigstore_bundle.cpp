// Sigstore bundles with DSSE-wrapped in-toto statements, as cosign 3 signs images (SPEC §9).
#include "signing/sigstore_bundle.hpp"

#include <nlohmann/json.hpp>

#include <openssl/x509v3.h>

#include "signing/certificates.hpp"
#include "signing/strict_json.hpp"
#include "util/encoding.hpp"

namespace karmor::signing {
namespace {

Error invalid(const std::string& message) {
    return Error(ErrorKind::verification, message);
}

}  // namespace

std::string make_sign_statement(const std::string& name, const Digest& digest,
                                const std::map<std::string, std::string>& annotations) {
    nlohmann::ordered_json subject = nlohmann::ordered_json::object();
    subject["name"] = name;
    subject["digest"] = {{digest.algorithm(), digest.hex()}};
    auto subject_annotations = nlohmann::ordered_json::object();
    for (const auto& [key, value] : annotations) subject_annotations[key] = value;
    subject["annotations"] = std::move(subject_annotations);
    nlohmann::ordered_json statement = nlohmann::ordered_json::object();
    statement["_type"] = in_toto_statement_type;
    statement["subject"] = nlohmann::ordered_json::array({std::move(subject)});
    statement["predicateType"] = cosign_sign_predicate_type;
    statement["predicate"] = nlohmann::ordered_json::object();
    return statement.dump();
}

std::string dsse_pae(std::string_view payload_type, std::string_view payload) {
    std::string out = "DSSEv1 ";
    out += std::to_string(payload_type.size());
    out += ' ';
    out += payload_type;
    out += ' ';
    out += std::to_string(payload.size());
    out += ' ';
    out += payload;
    return out;
}

std::string sigstore_key_hint(const PublicKey& key) {
    // The PEM body is the base64 of the DER SubjectPublicKeyInfo.
    std::string body;
    const std::string pem = key.pem();
    std::size_t at = 0;
    while (at < pem.size()) {
        const auto end = std::min(pem.find('\n', at), pem.size());
        const auto line = pem.substr(at, end - at);
        if (line.rfind("-----", 0) != 0) body += line;
        at = end + 1;
    }
    const auto der = util::base64_decode(body);
    if (!der) return {};
    const auto digest = Digest::sha256_of(*der);
    std::string raw;
    for (std::size_t i = 0; i + 1 < digest.hex().size(); i += 2)
        raw.push_back(static_cast<char>(std::stoi(digest.hex().substr(i, 2), nullptr, 16)));
    return util::base64_encode(raw);
}

std::string make_sigstore_bundle(std::string_view statement, const std::string& der_signature,
                                 const std::string& key_hint) {
    nlohmann::ordered_json bundle = nlohmann::ordered_json::object();
    bundle["mediaType"] = bundle_media_type;
    bundle["verificationMaterial"] = {{"publicKey", {{"hint", key_hint}}}};
    nlohmann::ordered_json envelope = nlohmann::ordered_json::object();
    envelope["payload"] = util::base64_encode(statement);
    envelope["payloadType"] = in_toto_payload_type;
    envelope["signatures"] = nlohmann::ordered_json::array({{{"sig", util::base64_encode(der_signature)}}});
    bundle["dsseEnvelope"] = std::move(envelope);
    return bundle.dump();
}

Result<StatementClaims> parse_sign_statement(std::string_view bytes) {
    const std::string what = "the signed statement";
    auto parsed = parse_strict_json(bytes, max_statement_bytes, what);
    if (!parsed) return unexpected(std::move(parsed).error());
    const auto& root = *parsed;
    if (auto only = require_only_fields(root, {"_type", "subject", "predicateType", "predicate"}, what); !only)
        return unexpected(std::move(only).error());
    auto type = required_string(root, "_type", what);
    if (!type) return unexpected(std::move(type).error());
    if (*type != in_toto_statement_type)
        return unexpected(invalid(what + " has _type \"" + *type + "\", not \"" + in_toto_statement_type + "\""));
    auto predicate_type = required_string(root, "predicateType", what);
    if (!predicate_type) return unexpected(std::move(predicate_type).error());
    if (*predicate_type != cosign_sign_predicate_type)
        return unexpected(invalid(what + " has predicateType \"" + *predicate_type + "\", not \"" +
                                  cosign_sign_predicate_type + "\""));
    // sign/v1 says nothing in its predicate; content there would be a claim karmor ignores.
    if (const auto predicate = root.find("predicate");
        predicate != root.end() && !(predicate->is_object() && predicate->empty()))
        return unexpected(invalid(what + " has a non-empty predicate; a cosign image signature has none"));
    const auto subjects = root.find("subject");
    if (subjects == root.end() || !subjects->is_array() || subjects->size() != 1)
        return unexpected(invalid(what + " does not have exactly one subject"));
    const auto& subject = subjects->front();
    if (auto only = require_only_fields(subject, {"name", "digest", "annotations"}, what + "'s subject"); !only)
        return unexpected(std::move(only).error());

    StatementClaims claims;
    if (const auto name = subject.find("name"); name != subject.end()) {
        if (!name->is_string()) return unexpected(invalid(what + "'s subject name is not a string"));
        claims.name = name->get<std::string>();
    }
    const auto digest = subject.find("digest");
    if (digest == subject.end() || !digest->is_object() || digest->empty())
        return unexpected(invalid(what + "'s subject has no digest"));
    for (const auto& [algorithm, hex] : digest->items()) {
        if (!hex.is_string()) return unexpected(invalid(what + "'s subject digest " + algorithm + " is not a string"));
        claims.digests[algorithm] = hex.get<std::string>();
    }
    if (const auto annotations = subject.find("annotations"); annotations != subject.end()) {
        if (!annotations->is_object() && !annotations->is_null())
            return unexpected(invalid(what + "'s subject annotations are not an object"));
        if (annotations->is_object())
            for (const auto& [key, value] : annotations->items())
                if (value.is_string()) claims.annotations[key] = value.get<std::string>();
    }
    return claims;
}

Result<std::vector<std::map<std::string, std::string>>> parse_statement_subjects(std::string_view bytes) {
    const std::string what = "the signed statement";
    auto parsed = parse_strict_json(bytes, max_bundle_bytes, what, 32);
    if (!parsed) return unexpected(std::move(parsed).error());
    if (!parsed->is_object()) return unexpected(invalid(what + " is not a JSON object"));
    const auto type = parsed->value("_type", "");
    if (type != in_toto_statement_type && type != "https://in-toto.io/Statement/v0.1")
        return unexpected(invalid(what + " has _type \"" + type + "\", not an in-toto Statement"));
    const auto subjects = parsed->find("subject");
    if (subjects == parsed->end() || !subjects->is_array() || subjects->empty() ||
        subjects->size() > max_statement_subjects)
        return unexpected(
            invalid(what + " does not have 1 to " + std::to_string(max_statement_subjects) + " subjects"));
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& subject : *subjects) {
        const auto digest = subject.is_object() ? subject.find("digest") : subject.end();
        if (!subject.is_object() || digest == subject.end() || !digest->is_object())
            return unexpected(invalid(what + " has a subject without a digest"));
        std::map<std::string, std::string> digests;
        for (const auto& [algorithm, hex] : digest->items())
            if (hex.is_string()) digests[algorithm] = hex.get<std::string>();
        out.push_back(std::move(digests));
    }
    return out;
}

namespace {

// protobuf-specs' media types: "…bundle+json;version=0.N" and, from v0.3, "…bundle.v0.N+json".
int bundle_version(const std::string& media_type) {
    if (media_type == "application/vnd.dev.sigstore.bundle+json;version=0.1") return 1;
    if (media_type == "application/vnd.dev.sigstore.bundle+json;version=0.2") return 2;
    if (media_type == bundle_media_type_alternate || media_type == bundle_media_type) return 3;
    return 0;
}

Result<std::string> read_certificate(const nlohmann::json& certificate, const std::string& what) {
    if (!certificate.is_object()) return unexpected(invalid(what + " is not an object"));
    if (auto only = require_only_fields(certificate, {"rawBytes"}, what); !only)
        return unexpected(std::move(only).error());
    auto raw = required_string(certificate, "rawBytes", what);
    if (!raw) return unexpected(std::move(raw).error());
    auto der = decode_canonical_base64(*raw);
    if (!der || der->empty() || der->size() > max_certificate_bytes)
        return unexpected(invalid(what + " is not base64 of 1 to " + std::to_string(max_certificate_bytes) + " bytes"));
    return std::move(*der);
}

Result<void> read_material(const nlohmann::json& material, int version, const std::string& what, SigstoreBundle& out) {
    if (auto only = require_only_fields(
            material, {"publicKey", "certificate", "x509CertificateChain", "tlogEntries", "timestampVerificationData"},
            what);
        !only)
        return unexpected(std::move(only).error());
    const int kinds = static_cast<int>(material.contains("publicKey")) +
                      static_cast<int>(material.contains("certificate")) +
                      static_cast<int>(material.contains("x509CertificateChain"));
    if (kinds != 1)
        return unexpected(invalid(what + " has " + std::to_string(kinds) +
                                  " of publicKey, certificate and x509CertificateChain; it needs exactly one"));
    if (const auto key = material.find("publicKey"); key != material.end()) {
        if (auto only = require_only_fields(*key, {"hint"}, what + "'s publicKey"); !only)
            return unexpected(std::move(only).error());
        if (const auto hint = key->find("hint"); hint != key->end() && hint->is_string())
            out.key_hint = hint->get<std::string>();
    }
    if (const auto certificate = material.find("certificate"); certificate != material.end()) {
        auto der = read_certificate(*certificate, what + "'s certificate");
        if (!der) return unexpected(std::move(der).error());
        out.certificate_der = std::move(*der);
    }
    if (const auto chain = material.find("x509CertificateChain"); chain != material.end()) {
        // v0.1 and v0.2 carry the leaf first in a chain; the trusted root supplies the CAs. v0.3
        // carries the leaf alone.
        if (version >= 3) return unexpected(invalid(what + " has a certificate chain, which a v0.3 bundle may not"));
        if (auto only = require_only_fields(*chain, {"certificates"}, what + "'s x509CertificateChain"); !only)
            return unexpected(std::move(only).error());
        const auto certificates = chain->find("certificates");
        if (certificates == chain->end() || !certificates->is_array() || certificates->empty() ||
            certificates->size() > max_chain_certificates)
            return unexpected(invalid(what + "'s x509CertificateChain is not a list of 1 to " +
                                      std::to_string(max_chain_certificates) + " certificates"));
        for (std::size_t i = 0; i < certificates->size(); ++i) {
            auto der = read_certificate((*certificates)[i], what + "'s certificate " + std::to_string(i + 1));
            if (!der) return unexpected(std::move(der).error());
            auto parsed = parse_der_certificate(*der);
            if (!parsed) return unexpected(invalid(what + "'s certificate " + std::to_string(i + 1) + " is not X.509"));
            // A root in the chain would be trust the bundle brings itself; the trusted root names them.
            if (X509_check_issued(parsed.get(), parsed.get()) == X509_V_OK)
                return unexpected(invalid(what + "'s certificate chain contains a self-signed (root) certificate"));
            if (i == 0) out.certificate_der = std::move(*der);
        }
    }
    if (const auto entries = material.find("tlogEntries"); entries != material.end()) {
        if (!entries->is_array() || entries->size() > max_tlog_entries)
            return unexpected(invalid(what + "'s tlogEntries is not a list of at most " +
                                      std::to_string(max_tlog_entries) + " entries"));
        for (std::size_t i = 0; i < entries->size(); ++i) {
            auto entry = parse_bundle_tlog_entry((*entries)[i], what + "'s tlog entry " + std::to_string(i + 1));
            if (!entry) return unexpected(std::move(entry).error());
            out.tlog_entries.push_back(std::move(*entry));
        }
    }
    if (const auto data = material.find("timestampVerificationData"); data != material.end()) {
        const auto data_what = what + "'s timestampVerificationData";
        if (auto only = require_only_fields(*data, {"rfc3161Timestamps"}, data_what); !only)
            return unexpected(std::move(only).error());
        const auto timestamps = data->find("rfc3161Timestamps");
        if (timestamps != data->end()) {
            if (!timestamps->is_array() || timestamps->size() > max_timestamps)
                return unexpected(invalid(data_what + ": rfc3161Timestamps is not a list of at most " +
                                          std::to_string(max_timestamps)));
            for (const auto& timestamp : *timestamps) {
                if (auto only = require_only_fields(timestamp, {"signedTimestamp"}, data_what); !only)
                    return unexpected(std::move(only).error());
                auto text = required_string(timestamp, "signedTimestamp", data_what);
                if (!text) return unexpected(std::move(text).error());
                // As protobuf JSON readers do, line breaks are skipped (`base64` wraps its output; the
                // DER inside is what is verified, so a second spelling gives nothing away).
                std::string unwrapped;
                for (const char c : *text)
                    if (c != '\n' && c != '\r') unwrapped.push_back(c);
                auto der = decode_canonical_base64(unwrapped);
                if (!der || der->empty() || der->size() > max_timestamp_bytes)
                    return unexpected(invalid(data_what + ": a signedTimestamp is not base64 of 1 to " +
                                              std::to_string(max_timestamp_bytes) + " bytes"));
                out.rfc3161_timestamps.push_back(std::move(*der));
            }
        }
    }
    return {};
}

Result<void> read_envelope(const nlohmann::json& envelope, const std::string& what, SigstoreBundle& out) {
    if (auto only = require_only_fields(envelope, {"payload", "payloadType", "signatures"}, what); !only)
        return unexpected(std::move(only).error());
    auto payload_type = required_string(envelope, "payloadType", what);
    if (!payload_type) return unexpected(std::move(payload_type).error());
    out.payload_type = std::move(*payload_type);
    auto payload = required_string(envelope, "payload", what);
    if (!payload) return unexpected(std::move(payload).error());
    auto decoded = decode_canonical_base64(*payload);
    if (!decoded) return unexpected(invalid(what + "'s payload is not base64"));
    out.payload = std::move(*decoded);
    const auto signatures = envelope.find("signatures");
    if (signatures == envelope.end() || !signatures->is_array() || signatures->empty())
        return unexpected(invalid(what + " has no signatures"));
    if (signatures->size() > max_dsse_signatures)
        return unexpected(invalid(what + " has " + std::to_string(signatures->size()) + " signatures, more than " +
                                  std::to_string(max_dsse_signatures)));
    for (const auto& signature : *signatures) {
        if (auto only = require_only_fields(signature, {"sig", "keyid"}, what + "'s signature"); !only)
            return unexpected(std::move(only).error());
        auto sig = required_string(signature, "sig", what + "'s signature");
        if (!sig) return unexpected(std::move(sig).error());
        auto der = decode_canonical_base64(*sig);
        if (!der || der->empty()) return unexpected(invalid(what + "'s signature is not base64"));
        out.der_signatures.push_back(std::move(*der));
    }
    return {};
}

Result<void> read_message_signature(const nlohmann::json& message, const std::string& what, SigstoreBundle& out) {
    if (auto only = require_only_fields(message, {"messageDigest", "signature"}, what); !only)
        return unexpected(std::move(only).error());
    out.message_signature = true;
    auto signature = required_string(message, "signature", what);
    if (!signature) return unexpected(std::move(signature).error());
    auto raw = decode_canonical_base64(*signature);
    if (!raw || raw->empty()) return unexpected(invalid(what + "'s signature is not base64"));
    out.der_signatures.push_back(std::move(*raw));
    if (const auto digest = message.find("messageDigest"); digest != message.end()) {
        if (auto only = require_only_fields(*digest, {"algorithm", "digest"}, what + "'s messageDigest"); !only)
            return unexpected(std::move(only).error());
        auto algorithm = required_string(*digest, "algorithm", what + "'s messageDigest");
        auto value = required_string(*digest, "digest", what + "'s messageDigest");
        if (!algorithm || !value) return unexpected(invalid(what + "'s messageDigest lacks algorithm or digest"));
        const std::pair<const char*, const char*> names[] = {
            {"SHA2_256", "sha256"}, {"SHA2_384", "sha384"}, {"SHA2_512", "sha512"}};
        for (const auto& [protobuf, name] : names)
            if (*algorithm == protobuf) out.message_digest_algorithm = name;
        auto bytes = decode_canonical_base64(*value);
        if (out.message_digest_algorithm.empty() || !bytes || bytes->size() > 64)
            return unexpected(invalid(what + "'s messageDigest is not a SHA-2 digest"));
        out.message_digest = std::move(*bytes);
    }
    return {};
}

}  // namespace

Result<SigstoreBundle> parse_sigstore_bundle(std::string_view bytes) {
    const std::string what = "the Sigstore bundle";
    auto parsed = parse_strict_json(bytes, max_bundle_bytes, what, 32);
    if (!parsed) return unexpected(std::move(parsed).error());
    const auto& root = *parsed;
    if (!root.is_object()) return unexpected(invalid(what + " is not a JSON object"));
    if (auto only =
            require_only_fields(root, {"mediaType", "verificationMaterial", "dsseEnvelope", "messageSignature"}, what);
        !only)
        return unexpected(std::move(only).error());
    auto type = required_string(root, "mediaType", what);
    if (!type) return unexpected(std::move(type).error());
    SigstoreBundle out;
    out.version = bundle_version(*type);
    if (out.version == 0)
        return unexpected(invalid(what + " has media type \"" + *type + "\", not a Sigstore bundle v0.1 to v0.3"));
    const auto material = root.find("verificationMaterial");
    if (material == root.end() || !material->is_object())
        return unexpected(invalid(what + " has no verificationMaterial"));
    if (auto read = read_material(*material, out.version, what + "'s verificationMaterial", out); !read)
        return unexpected(std::move(read).error());
    const auto envelope = root.find("dsseEnvelope");
    const auto message = root.find("messageSignature");
    if ((envelope == root.end()) == (message == root.end()))
        return unexpected(invalid(what + " needs exactly one of dsseEnvelope and messageSignature"));
    if (envelope != root.end()) {
        if (auto read = read_envelope(*envelope, what + "'s DSSE envelope", out); !read)
            return unexpected(std::move(read).error());
    } else if (auto read = read_message_signature(*message, what + "'s messageSignature", out); !read) {
        return unexpected(std::move(read).error());
    }
    // The bundle spec: v0.1 entries carry a SET, later ones an inclusion proof (checked with the
    // entries themselves, signing_time.cpp).
    return out;
}

Result<DsseBundle> parse_dsse_bundle(std::string_view bytes) {
    auto bundle = parse_sigstore_bundle(bytes);
    if (!bundle) return bundle;
    if (bundle->message_signature)
        return unexpected(invalid("the Sigstore bundle holds a message signature, which names no manifest; an image "
                                  "signature is a DSSE envelope"));
    return bundle;
}

Descriptor empty_config_descriptor() {
    Descriptor d;
    d.media_type = media_type::oci_empty;
    d.digest = Digest::sha256_of(empty_config_bytes);
    d.size = 2;
    return d;
}

Manifest make_bundle_referrer(const Descriptor& subject, const Descriptor& bundle_blob, const std::string& created) {
    Manifest m;
    m.schema_version = 2;
    m.media_type = media_type::oci_manifest;
    m.artifact_type = bundle_media_type;
    m.config = empty_config_descriptor();
    Descriptor layer = bundle_blob;
    layer.media_type = bundle_media_type;
    layer.annotations = {
        {annotation::title, bundle_blob.digest.algorithm() + "-" + bundle_blob.digest.hex() + ".sigstore.json"}};
    m.layers.push_back(std::move(layer));
    m.subject = subject;
    m.annotations = {{bundle_content_annotation, "dsse-envelope"},
                     {bundle_predicate_annotation, cosign_sign_predicate_type},
                     {annotation::created, created}};
    return m;
}

}  // namespace karmor::signing
