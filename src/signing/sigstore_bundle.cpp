// Sigstore bundles with DSSE-wrapped in-toto statements, as cosign 3 signs images (SPEC §9).
#include "signing/sigstore_bundle.hpp"

#include <nlohmann/json.hpp>

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

Result<DsseBundle> parse_dsse_bundle(std::string_view bytes) {
    const std::string what = "the Sigstore bundle";
    auto parsed = parse_strict_json(bytes, max_bundle_bytes, what, 32);
    if (!parsed) return unexpected(std::move(parsed).error());
    const auto& root = *parsed;
    if (auto only =
            require_only_fields(root, {"mediaType", "verificationMaterial", "dsseEnvelope", "messageSignature"}, what);
        !only)
        return unexpected(std::move(only).error());
    auto type = required_string(root, "mediaType", what);
    if (!type) return unexpected(std::move(type).error());
    if (*type != bundle_media_type && *type != bundle_media_type_alternate)
        return unexpected(invalid(what + " has media type \"" + *type + "\", not " + bundle_media_type));
    if (root.contains("messageSignature"))
        return unexpected(invalid(what + " holds a message signature, which names no manifest; an image signature "
                                         "is a DSSE envelope"));

    DsseBundle out;
    const auto material = root.find("verificationMaterial");
    if (material == root.end() || !material->is_object())
        return unexpected(invalid(what + " has no verificationMaterial"));
    if (auto only = require_only_fields(
            *material, {"publicKey", "certificate", "x509CertificateChain", "tlogEntries", "timestampVerificationData"},
            what + "'s verificationMaterial");
        !only)
        return unexpected(std::move(only).error());
    if (const auto key = material->find("publicKey"); key != material->end()) {
        if (auto only = require_only_fields(*key, {"hint"}, what + "'s publicKey"); !only)
            return unexpected(std::move(only).error());
        if (const auto hint = key->find("hint"); hint != key->end() && hint->is_string())
            out.key_hint = hint->get<std::string>();
    }

    if (const auto certificate = material->find("certificate"); certificate != material->end()) {
        if (auto only = require_only_fields(*certificate, {"rawBytes"}, what + "'s certificate"); !only)
            return unexpected(std::move(only).error());
        auto raw = required_string(*certificate, "rawBytes", what + "'s certificate");
        if (!raw) return unexpected(std::move(raw).error());
        auto der = decode_canonical_base64(*raw);
        if (!der || der->size() > max_certificate_bytes)
            return unexpected(invalid(what + "'s certificate is not base64 of at most " +
                                      std::to_string(max_certificate_bytes) + " bytes"));
        out.certificate_der = std::move(*der);
    }
    if (const auto chain = material->find("x509CertificateChain"); chain != material->end()) {
        // Bundles before v0.3 carry the leaf first in a chain; the trusted root supplies the CAs.
        if (auto only = require_only_fields(*chain, {"certificates"}, what + "'s x509CertificateChain"); !only)
            return unexpected(std::move(only).error());
        const auto certificates = chain->find("certificates");
        if (certificates == chain->end() || !certificates->is_array() || certificates->empty() ||
            certificates->size() > max_chain_certificates || !certificates->front().is_object())
            return unexpected(invalid(what + "'s x509CertificateChain is not a list of 1 to " +
                                      std::to_string(max_chain_certificates) + " certificates"));
        auto raw = required_string(certificates->front(), "rawBytes", what + "'s certificate");
        if (!raw) return unexpected(std::move(raw).error());
        auto der = decode_canonical_base64(*raw);
        if (!der || der->size() > max_certificate_bytes)
            return unexpected(invalid(what + "'s certificate is not base64 of at most " +
                                      std::to_string(max_certificate_bytes) + " bytes"));
        if (!out.certificate_der.empty())
            return unexpected(invalid(what + " has both a certificate and a certificate chain"));
        out.certificate_der = std::move(*der);
    }
    if (const auto entries = material->find("tlogEntries"); entries != material->end()) {
        if (!entries->is_array() || entries->size() > max_tlog_entries)
            return unexpected(invalid(what + "'s tlogEntries is not a list of at most " +
                                      std::to_string(max_tlog_entries) + " entries"));
        for (std::size_t i = 0; i < entries->size(); ++i) {
            auto entry = parse_bundle_tlog_entry((*entries)[i], what + "'s tlog entry " + std::to_string(i + 1));
            if (!entry) return unexpected(std::move(entry).error());
            out.tlog_entries.push_back(std::move(*entry));
        }
    }

    const auto envelope = root.find("dsseEnvelope");
    if (envelope == root.end()) return unexpected(invalid(what + " has no dsseEnvelope"));
    if (auto only = require_only_fields(*envelope, {"payload", "payloadType", "signatures"}, what + "'s dsseEnvelope");
        !only)
        return unexpected(std::move(only).error());
    auto payload_type = required_string(*envelope, "payloadType", what + "'s dsseEnvelope");
    if (!payload_type) return unexpected(std::move(payload_type).error());
    out.payload_type = std::move(*payload_type);
    auto payload = required_string(*envelope, "payload", what + "'s dsseEnvelope");
    if (!payload) return unexpected(std::move(payload).error());
    auto decoded = decode_canonical_base64(*payload);
    if (!decoded) return unexpected(invalid(what + "'s DSSE payload is not base64"));
    out.payload = std::move(*decoded);
    const auto signatures = envelope->find("signatures");
    if (signatures == envelope->end() || !signatures->is_array() || signatures->empty())
        return unexpected(invalid(what + "'s DSSE envelope has no signatures"));
    if (signatures->size() > max_dsse_signatures)
        return unexpected(invalid(what + "'s DSSE envelope has " + std::to_string(signatures->size()) +
                                  " signatures, more than " + std::to_string(max_dsse_signatures)));
    for (const auto& signature : *signatures) {
        if (auto only = require_only_fields(signature, {"sig", "keyid"}, what + "'s DSSE signature"); !only)
            return unexpected(std::move(only).error());
        auto sig = required_string(signature, "sig", what + "'s DSSE signature");
        if (!sig) return unexpected(std::move(sig).error());
        auto der = decode_canonical_base64(*sig);
        if (!der) return unexpected(invalid(what + "'s DSSE signature is not base64"));
        out.der_signatures.push_back(std::move(*der));
    }
    return out;
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
