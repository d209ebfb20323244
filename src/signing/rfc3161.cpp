// RFC 3161 timestamp verification through OpenSSL's TS API (TS_RESP_verify_signature checks the
// CMS signature, the ESS signing-certificate binding and the signer's path with the
// timestamp-signing purpose); the rest of the rules are checked here by name.
#include "signing/rfc3161.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

Error refused(const std::string& why) {
    return Error(ErrorKind::verification, "its RFC 3161 timestamp " + why);
}

struct TsRespFree {
    void operator()(TS_RESP* response) const { TS_RESP_free(response); }
};
using TsRespPtr = std::unique_ptr<TS_RESP, TsRespFree>;
using X509Stack = STACK_OF(X509);
using X509StackPtr = std::unique_ptr<X509Stack, void (*)(X509Stack*)>;

X509StackPtr new_stack() {
    return {sk_X509_new_null(), [](X509Stack* stack) { sk_X509_free(stack); }};
}

std::string last_openssl_error() {
    const unsigned long code = ERR_peek_last_error();
    const char* reason = code ? ERR_reason_error_string(code) : nullptr;
    ERR_clear_error();
    return reason ? reason : "OpenSSL refused it";
}

// The hash the imprint names, by the names util::digest_raw takes.
std::string imprint_hash_name(const X509_ALGOR* algorithm) {
    const ASN1_OBJECT* object = nullptr;
    X509_ALGOR_get0(&object, nullptr, nullptr, algorithm);
    switch (OBJ_obj2nid(object)) {
        case NID_sha256: return "sha256";
        case NID_sha384: return "sha384";
        case NID_sha512: return "sha512";
        default: return {};
    }
}

std::optional<std::int64_t> generalized_time(const ASN1_GENERALIZEDTIME* time) {
    std::tm tm{};
    if (!time || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
    return static_cast<std::int64_t>(timegm(&tm));
}

// The configured parts of an authority as sigstore-go reads them: a first certificate that is not
// a CA is the authority's own signing certificate, the last one the anchor, the others between.
struct AuthorityParts {
    X509* leaf = nullptr;
    std::vector<X509Ptr> path_to_anchor;  // intermediates then the anchor
};

AuthorityParts parts_of(const CertificateAuthority& authority) {
    AuthorityParts parts;
    std::size_t first = 0;
    if (authority.chain.size() > 1 && !is_ca_certificate(authority.chain.front().get())) {
        parts.leaf = authority.chain.front().get();
        first = 1;
    }
    parts.path_to_anchor.assign(authority.chain.begin() + static_cast<std::ptrdiff_t>(first), authority.chain.end());
    return parts;
}

// RFC 3161 §2.3 and the timestamp-authority's EKU chaining rule.
std::string signer_problem(X509* signer, const std::vector<X509Ptr>& path) {
    if (is_ca_certificate(signer)) return "is signed by a CA certificate, not a timestamping end-entity certificate";
    if (!has_only_critical_extended_key_usage(signer, NID_time_stamp))
        return "is signed by a certificate whose extended key usage is not exactly timeStamping, marked critical";
    for (std::size_t i = 1; i + 1 < path.size(); ++i) {
        X509* intermediate = path[i].get();
        if (X509_get_ext_by_NID(intermediate, NID_ext_key_usage, -1) < 0) continue;
        if (!has_extended_key_usage(intermediate, NID_time_stamp) &&
            !has_extended_key_usage(intermediate, NID_anyExtendedKeyUsage))
            return "is signed under an intermediate CA whose extended key usage does not allow timestamping";
    }
    return {};
}

// The token verified under one authority: an empty string, or why not.
std::string verify_under(PKCS7* token, const CertificateAuthority& authority, std::int64_t time, X509** signer_out) {
    const auto parts = parts_of(authority);
    if (parts.path_to_anchor.empty()) return "lists no certificate";
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    auto known = new_stack();
    if (!store || !known) return "out of memory";
    X509_STORE_add_cert(store.get(), parts.path_to_anchor.back().get());
    X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
    // The signer's path must hold at the time it vouches for, not now: a timestamp outlives its
    // authority's certificate.
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(time));
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    if (parts.leaf) sk_X509_push(known.get(), parts.leaf);
    for (std::size_t i = 0; i + 1 < parts.path_to_anchor.size(); ++i)
        sk_X509_push(known.get(), parts.path_to_anchor[i].get());
    X509* signer = nullptr;
    if (TS_RESP_verify_signature(token, known.get(), store.get(), &signer) != 1) {
        X509_free(signer);
        return "does not verify: " + last_openssl_error();
    }
    std::unique_ptr<X509, decltype(&X509_free)> owned(signer, X509_free);
    if (parts.leaf && X509_cmp(signer, parts.leaf) != 0)
        return "is signed by another certificate than the authority's own";
    // The path again, to see its intermediates (TS_RESP_verify_signature keeps it to itself).
    std::vector<X509*> embedded;
    const STACK_OF(X509)* token_certificates = token->d.sign ? token->d.sign->cert : nullptr;
    for (int i = 0; token_certificates && i < sk_X509_num(token_certificates) && i < 16; ++i)
        embedded.push_back(sk_X509_value(token_certificates, i));
    std::vector<X509Ptr> authority_path = parts.path_to_anchor;
    const auto path = verify_certificate_path(signer, authority_path, time, embedded, X509_PURPOSE_TIMESTAMP_SIGN);
    if (!path.valid) return "does not chain: " + path.error;
    if (auto problem = signer_problem(signer, path.chain); !problem.empty()) return problem;
    if (!authority.valid.contains(time))
        return "was made at " + util::format_rfc3339_utc(time) +
               ", outside the authority's validity in the trusted root";
    *signer_out = owned.release();
    return {};
}

}  // namespace

Result<VerifiedTimestamp> verify_rfc3161_timestamp(std::string_view response_der, std::string_view signature,
                                                   const std::vector<CertificateAuthority>& authorities) {
    if (response_der.empty() || response_der.size() > max_timestamp_bytes)
        return unexpected(refused("is empty or larger than " + std::to_string(max_timestamp_bytes) + " bytes"));
    const auto* data = reinterpret_cast<const unsigned char*>(response_der.data());
    TsRespPtr response(d2i_TS_RESP(nullptr, &data, static_cast<long>(response_der.size())));
    const bool whole =
        response && data == reinterpret_cast<const unsigned char*>(response_der.data()) + response_der.size();
    ERR_clear_error();
    if (!whole) return unexpected(refused("is not a DER TimeStampResp"));
    const ASN1_INTEGER* status = TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response.get()));
    const long status_value = status ? ASN1_INTEGER_get(status) : -1;
    if (status_value != TS_STATUS_GRANTED && status_value != TS_STATUS_GRANTED_WITH_MODS)
        return unexpected(refused("says the authority did not grant it (status " + std::to_string(status_value) + ")"));
    PKCS7* token = TS_RESP_get_token(response.get());
    TS_TST_INFO* info = TS_RESP_get_tst_info(response.get());
    if (!token || !info || !PKCS7_type_is_signed(token)) return unexpected(refused("has no signed TSTInfo"));
    if (TS_TST_INFO_get_version(info) != 1) return unexpected(refused("is not a version 1 TSTInfo"));

    TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info);
    const auto hash_name = imprint_hash_name(TS_MSG_IMPRINT_get_algo(imprint));
    if (hash_name.empty())
        return unexpected(refused("hashes with an algorithm other than SHA-256, SHA-384 or SHA-512 (SHA-1 is weak)"));
    const ASN1_OCTET_STRING* message = TS_MSG_IMPRINT_get_msg(imprint);
    const std::string recorded(reinterpret_cast<const char*>(ASN1_STRING_get0_data(message)),
                               static_cast<std::size_t>(ASN1_STRING_length(message)));
    if (signature.empty() || recorded != util::digest_raw(hash_name, signature))
        return unexpected(refused("is of other bytes than this signature (its message imprint differs): it "
                                  "timestamps another signature"));
    const auto time = generalized_time(TS_TST_INFO_get_time(info));
    if (!time) return unexpected(refused("has no readable genTime"));

    if (authorities.empty())
        return unexpected(refused("cannot be checked: the trusted root lists no timestamp authority"));
    std::string reasons;
    for (const auto& authority : authorities) {
        X509* signer = nullptr;
        const auto why = verify_under(token, authority, *time, &signer);
        if (why.empty()) {
            X509_free(signer);
            return VerifiedTimestamp{*time, authority.uri};
        }
        reasons += (reasons.empty() ? "" : "; ") + (authority.uri.empty() ? std::string("authority") : authority.uri) +
                   ": " + why;
    }
    return unexpected(refused("is not from a timestamp authority of the trusted root (" + reasons + ")"));
}

}  // namespace karmor::signing
