// Reading the Sigstore trusted root (protobuf-specs TrustedRoot as JSON).
#include "signing/trusted_root.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <limits>
#include <fstream>
#include <sstream>

#include "signing/strict_json.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

Error invalid(const std::string& message) {
    return Error(ErrorKind::verification, message,
                 "give the trusted_root.json of your Sigstore deployment (for the public one, as `cosign trusted-root "
                 "create` or the sigstore TUF repository writes it)");
}

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

Result<std::string> decode_field(const nlohmann::json& object, const char* key, const std::string& what,
                                 std::size_t max_bytes) {
    auto text = required_string(object, key, what);
    if (!text) return unexpected(std::move(text).error());
    auto bytes = decode_canonical_base64(*text);
    if (!bytes) return unexpected(invalid(what + ": \"" + key + "\" is not base64"));
    if (bytes->size() > max_bytes)
        return unexpected(invalid(what + ": \"" + key + "\" is " + std::to_string(bytes->size()) +
                                  " bytes, more than " + std::to_string(max_bytes)));
    return std::move(*bytes);
}

Result<ValidityPeriod> parse_validity(const nlohmann::json& object, const std::string& what) {
    ValidityPeriod period;
    const auto found = object.find("validFor");
    // validFor is optional in protobuf-specs (older roots leave it out of log keys): always valid.
    if (found == object.end()) {
        period.start = std::numeric_limits<std::int64_t>::min();
        return period;
    }
    if (auto only = require_only_fields(*found, {"start", "end"}, what + "'s validFor"); !only)
        return unexpected(std::move(only).error());
    auto start = required_string(*found, "start", what + "'s validFor");
    if (!start) return unexpected(std::move(start).error());
    const auto start_time = util::parse_rfc3339_utc(*start);
    if (!start_time) return unexpected(invalid(what + "'s validFor.start \"" + *start + "\" is not an RFC 3339 time"));
    period.start = *start_time;
    // protobuf JSON may spell an absent end as null (an open period).
    if (found->contains("end") && !(*found)["end"].is_null()) {
        auto end = required_string(*found, "end", what + "'s validFor");
        if (!end) return unexpected(std::move(end).error());
        const auto end_time = util::parse_rfc3339_utc(*end);
        if (!end_time) return unexpected(invalid(what + "'s validFor.end \"" + *end + "\" is not an RFC 3339 time"));
        period.end = *end_time;
    }
    return period;
}

Result<TrustedLog> parse_log(const nlohmann::json& object, const std::string& what) {
    if (auto only = require_only_fields(
            object, {"baseUrl", "hashAlgorithm", "publicKey", "logId", "checkpointKeyId", "operator"}, what);
        !only)
        return unexpected(std::move(only).error());
    TrustedLog log;
    if (const auto url = object.find("baseUrl"); url != object.end() && url->is_string())
        log.base_url = url->get<std::string>();
    const auto id = object.find("logId");
    if (id == object.end()) return unexpected(invalid(what + " has no logId"));
    if (auto only = require_only_fields(*id, {"keyId"}, what + "'s logId"); !only)
        return unexpected(std::move(only).error());
    auto key_id = decode_field(*id, "keyId", what + "'s logId", 64);
    if (!key_id) return unexpected(std::move(key_id).error());
    log.key_id = std::move(*key_id);
    const auto key = object.find("publicKey");
    if (key == object.end()) return unexpected(invalid(what + " has no publicKey"));
    if (auto only = require_only_fields(*key, {"rawBytes", "keyDetails", "validFor"}, what + "'s publicKey"); !only)
        return unexpected(std::move(only).error());
    auto details = required_string(*key, "keyDetails", what + "'s publicKey");
    if (!details) return unexpected(std::move(details).error());
    log.key_details = std::move(*details);
    auto valid = parse_validity(*key, what + "'s publicKey");
    if (!valid) return unexpected(std::move(valid).error());
    log.valid = *valid;
    auto raw = decode_field(*key, "rawBytes", what + "'s publicKey", 4096);
    if (!raw) return unexpected(std::move(raw).error());
    const auto* data = reinterpret_cast<const unsigned char*>(raw->data());
    // PKCS1_* keys are a bare RSAPublicKey; the others a SubjectPublicKeyInfo.
    const bool pkcs1 = log.key_details.rfind("PKCS1_RSA_", 0) == 0;
    std::shared_ptr<EVP_PKEY> parsed(pkcs1 ? d2i_PublicKey(EVP_PKEY_RSA, nullptr, &data, static_cast<long>(raw->size()))
                                           : d2i_PUBKEY(nullptr, &data, static_cast<long>(raw->size())),
                                     PkeyFree{});
    ERR_clear_error();
    if (!parsed) return unexpected(invalid(what + "'s publicKey.rawBytes is not a DER public key"));
    const bool ecdsa = log.key_details.rfind("PKIX_ECDSA_", 0) == 0;
    const bool ed25519 = log.key_details == "PKIX_ED25519";
    const bool rsa = pkcs1 || log.key_details.rfind("PKIX_RSA_PKCS1V15_", 0) == 0;
    const int type = EVP_PKEY_get_base_id(parsed.get());
    if ((ecdsa && type != EVP_PKEY_EC) || (ed25519 && type != EVP_PKEY_ED25519) || (rsa && type != EVP_PKEY_RSA))
        return unexpected(invalid(what + "'s public key is not the " + log.key_details + " key its keyDetails name"));
    if (ecdsa || ed25519 || rsa)
        log.key = std::move(parsed);
    else
        log.unusable = "its key type " + log.key_details + " is not supported (ECDSA, Ed25519 and RSA PKCS#1 v1.5 are)";
    return log;
}

Result<CertificateAuthority> parse_authority(const nlohmann::json& object, const std::string& what) {
    if (auto only = require_only_fields(object, {"subject", "uri", "certChain", "validFor", "operator"}, what); !only)
        return unexpected(std::move(only).error());
    CertificateAuthority authority;
    if (const auto uri = object.find("uri"); uri != object.end() && uri->is_string())
        authority.uri = uri->get<std::string>();
    auto valid = parse_validity(object, what);
    if (!valid) return unexpected(std::move(valid).error());
    authority.valid = *valid;
    const auto chain = object.find("certChain");
    if (chain == object.end()) return unexpected(invalid(what + " has no certChain"));
    if (auto only = require_only_fields(*chain, {"certificates"}, what + "'s certChain"); !only)
        return unexpected(std::move(only).error());
    const auto certificates = chain->find("certificates");
    if (certificates == chain->end() || !certificates->is_array() || certificates->empty())
        return unexpected(invalid(what + "'s certChain has no certificates"));
    if (certificates->size() > max_chain_certificates)
        return unexpected(invalid(what + "'s certChain has " + std::to_string(certificates->size()) +
                                  " certificates, more than " + std::to_string(max_chain_certificates)));
    for (const auto& certificate : *certificates) {
        if (auto only = require_only_fields(certificate, {"rawBytes"}, what + "'s certificate"); !only)
            return unexpected(std::move(only).error());
        auto der = decode_field(certificate, "rawBytes", what + "'s certificate", max_certificate_bytes);
        if (!der) return unexpected(std::move(der).error());
        auto parsed = parse_der_certificate(*der);
        if (!parsed) return unexpected(invalid(what + " lists a certificate that is not DER X.509"));
        authority.chain.push_back(std::move(parsed));
    }
    return authority;
}

template <class T, class Parse>
Result<std::vector<T>> parse_list(const nlohmann::json& root, const char* key, const std::string& source,
                                  const char* singular, Parse parse) {
    std::vector<T> out;
    const auto list = root.find(key);
    if (list == root.end()) return out;
    if (!list->is_array()) return unexpected(invalid(source + ": \"" + key + "\" is not an array"));
    if (list->size() > max_trusted_root_entries)
        return unexpected(invalid(source + " lists " + std::to_string(list->size()) + " " + key + ", more than " +
                                  std::to_string(max_trusted_root_entries)));
    for (std::size_t i = 0; i < list->size(); ++i) {
        auto item = parse((*list)[i], source + " " + singular + " " + std::to_string(i + 1));
        if (!item) return unexpected(std::move(item).error());
        out.push_back(std::move(*item));
    }
    return out;
}

}  // namespace

bool TrustedLog::verify(std::string_view message, std::string_view signature) const {
    if (!key) return false;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!context) return false;
    const EVP_MD* md = nullptr;
    if (key_details.find("SHA_256") != std::string::npos)
        md = EVP_sha256();
    else if (key_details.find("SHA_384") != std::string::npos)
        md = EVP_sha384();
    else if (key_details.find("SHA_512") != std::string::npos)
        md = EVP_sha512();
    else if (key_details != "PKIX_ED25519" &&
             !(key_details.rfind("PKCS1_RSA_", 0) == 0 || key_details.rfind("PKIX_RSA_PKCS1V15_", 0) == 0))
        return false;
    if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA) md = EVP_sha256();
    const bool ok =
        EVP_DigestVerifyInit(context.get(), nullptr, md, nullptr, key.get()) == 1 &&
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    ERR_clear_error();
    return ok;
}

const TrustedLog* TrustedRoot::find_tlog(std::string_view key_id) const {
    for (const auto& log : tlogs)
        if (log.key_id == key_id) return &log;
    return nullptr;
}

const TrustedLog* TrustedRoot::find_ctlog(std::string_view key_id) const {
    for (const auto& log : ctlogs)
        if (log.key_id == key_id) return &log;
    return nullptr;
}

Result<TrustedRoot> parse_trusted_root(std::string_view bytes, const std::string& source) {
    auto parsed = parse_strict_json(bytes, max_trusted_root_bytes, source, 16);
    if (!parsed) return unexpected(std::move(parsed).error());
    const auto& root = *parsed;
    if (auto only = require_only_fields(
            root, {"mediaType", "tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"}, source);
        !only)
        return unexpected(std::move(only).error());
    auto type = required_string(root, "mediaType", source);
    if (!type) return unexpected(std::move(type).error());
    if (*type != trusted_root_media_type && *type != "application/vnd.dev.sigstore.trustedroot.v0.1+json" &&
        *type != "application/vnd.dev.sigstore.trustedroot.v0.2+json")
        return unexpected(invalid(source + " has media type \"" + *type + "\", not " + trusted_root_media_type));
    TrustedRoot out;
    out.source = source;
    auto authorities = parse_list<CertificateAuthority>(root, "certificateAuthorities", source, "certificate authority",
                                                        parse_authority);
    if (!authorities) return unexpected(std::move(authorities).error());
    out.certificate_authorities = std::move(*authorities);
    auto tlogs = parse_list<TrustedLog>(root, "tlogs", source, "tlog", parse_log);
    if (!tlogs) return unexpected(std::move(tlogs).error());
    out.tlogs = std::move(*tlogs);
    auto ctlogs = parse_list<TrustedLog>(root, "ctlogs", source, "ctlog", parse_log);
    if (!ctlogs) return unexpected(std::move(ctlogs).error());
    out.ctlogs = std::move(*ctlogs);
    auto tsas =
        parse_list<CertificateAuthority>(root, "timestampAuthorities", source, "timestamp authority", parse_authority);
    if (!tsas) return unexpected(std::move(tsas).error());
    out.timestamp_authorities = std::move(*tsas);
    // A root for keys and a private timestamp authority may list no CA and no log; one that lists
    // nothing at all is a mistake. What a signature needs is checked when it is verified.
    if (out.certificate_authorities.empty() && out.tlogs.empty() && out.timestamp_authorities.empty())
        return unexpected(invalid(source + " lists no certificate authority, transparency log or timestamp "
                                           "authority: there is nothing to verify against"));
    return out;
}

Result<TrustedRoot> load_trusted_root(const std::filesystem::path& file) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (error)
        return unexpected(Error(ErrorKind::io, "cannot read the trusted root " + file.string() + ": " + error.message(),
                                "check the path given to --trusted-root"));
    if (size > max_trusted_root_bytes)
        return unexpected(invalid(file.string() + " is " + std::to_string(size) + " bytes, more than the " +
                                  std::to_string(max_trusted_root_bytes) + " a trusted root may have"));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) return unexpected(Error(ErrorKind::io, "cannot read the trusted root " + file.string()));
    return parse_trusted_root(text.str(), file.string());
}

}  // namespace karmor::signing
