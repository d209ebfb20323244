// Reading the Sigstore trusted root (protobuf-specs TrustedRoot as JSON).
#include "signing/trusted_root.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <ctime>
#include <limits>
#include <fstream>
#include <sstream>

#include "signing/strict_json.hpp"

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
    const auto start_time = parse_rfc3339_utc(*start);
    if (!start_time) return unexpected(invalid(what + "'s validFor.start \"" + *start + "\" is not an RFC 3339 time"));
    period.start = *start_time;
    if (found->contains("end")) {
        auto end = required_string(*found, "end", what + "'s validFor");
        if (!end) return unexpected(std::move(end).error());
        const auto end_time = parse_rfc3339_utc(*end);
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
    std::shared_ptr<EVP_PKEY> parsed(d2i_PUBKEY(nullptr, &data, static_cast<long>(raw->size())), PkeyFree{});
    ERR_clear_error();
    if (!parsed) return unexpected(invalid(what + "'s publicKey.rawBytes is not a DER public key"));
    const bool ecdsa = log.key_details.rfind("PKIX_ECDSA_", 0) == 0;
    const bool ed25519 = log.key_details == "PKIX_ED25519";
    if ((ecdsa && EVP_PKEY_get_base_id(parsed.get()) != EVP_PKEY_EC) ||
        (ed25519 && EVP_PKEY_get_base_id(parsed.get()) != EVP_PKEY_ED25519))
        return unexpected(invalid(what + "'s public key is not the " + log.key_details + " key its keyDetails name"));
    if (ecdsa || ed25519)
        log.key = std::move(parsed);
    else
        log.unusable = "its key type " + log.key_details + " is not supported (ECDSA and Ed25519 are)";
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
    else if (key_details != "PKIX_ED25519")
        return false;
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
    out.timestamp_authorities = tsas->size();
    if (out.certificate_authorities.empty())
        return unexpected(invalid(source + " lists no certificate authority, so no certificate can chain to it"));
    if (out.tlogs.empty())
        return unexpected(invalid(source + " lists no transparency log, so no signing time can be trusted"));
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

std::optional<std::int64_t> parse_rfc3339_utc(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fraction]Z
    if (text.size() < 20 || text.size() > 40 || text.back() != 'Z') return std::nullopt;
    const auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
        int value = 0;
        for (std::size_t i = at; i < at + count; ++i) {
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
            value = value * 10 + (text[i] - '0');
        }
        return value;
    };
    if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
               minute = digits(14, 2), second = digits(17, 2);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    if (text.size() > 20) {
        if (text[19] != '.' || text.size() == 21) return std::nullopt;
        if (!digits(20, text.size() - 21)) return std::nullopt;
    }
    if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string format_rfc3339_utc(std::int64_t time) {
    const auto seconds = static_cast<std::time_t>(time);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

std::string sha256_raw(std::string_view bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0x0f]);
    }
    return out;
}

X509Ptr parse_der_certificate(std::string_view der) {
    if (der.empty() || der.size() > max_certificate_bytes) return nullptr;
    const auto* data = reinterpret_cast<const unsigned char*>(der.data());
    X509* certificate = d2i_X509(nullptr, &data, static_cast<long>(der.size()));
    ERR_clear_error();
    // Trailing bytes would give the same certificate a second spelling.
    if (certificate && data != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
        X509_free(certificate);
        return nullptr;
    }
    return X509Ptr(certificate, X509Free{});
}

std::string certificate_der(X509* certificate) {
    unsigned char* der = nullptr;
    const int size = i2d_X509(certificate, &der);
    if (size <= 0) return {};
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
    OPENSSL_free(der);
    return out;
}

std::string pem_certificate_der(std::string_view pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    if (!bio) return {};
    X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    ERR_clear_error();
    if (!certificate) return {};
    auto der = certificate_der(certificate);
    X509_free(certificate);
    return der;
}

std::string public_key_der(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int size = i2d_PUBKEY(key, &der);
    if (size <= 0) return {};
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
    OPENSSL_free(der);
    return out;
}

}  // namespace karmor::signing
