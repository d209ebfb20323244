// X.509 parsing and path validation for the keyless and timestamp checks.
#include "signing/certificates.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace karmor::signing {

X509Ptr parse_der_certificate(std::string_view der) {
    if (der.empty() || der.size() > max_certificate_bytes) return nullptr;
    const auto* data = reinterpret_cast<const unsigned char*>(der.data());
    X509* certificate = d2i_X509(nullptr, &data, static_cast<long>(der.size()));
    ERR_clear_error();
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

std::optional<std::string> extension_value(X509* certificate, const char* oid, std::size_t max_bytes) {
    std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> object(OBJ_txt2obj(oid, 1), ASN1_OBJECT_free);
    if (!object) return std::nullopt;
    const int index = X509_get_ext_by_OBJ(certificate, object.get(), -1);
    if (index < 0) return std::nullopt;
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(certificate, index));
    if (!data || ASN1_STRING_length(data) < 0 || static_cast<std::size_t>(ASN1_STRING_length(data)) > max_bytes)
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                       static_cast<std::size_t>(ASN1_STRING_length(data)));
}

std::optional<std::string> der_utf8_extension(X509* certificate, const char* oid) {
    auto raw = extension_value(certificate, oid);
    if (!raw) return std::nullopt;
    const auto* data = reinterpret_cast<const unsigned char*>(raw->data());
    ASN1_UTF8STRING* text = d2i_ASN1_UTF8STRING(nullptr, &data, static_cast<long>(raw->size()));
    ERR_clear_error();
    if (!text) return std::nullopt;
    const bool whole = data == reinterpret_cast<const unsigned char*>(raw->data()) + raw->size();
    std::string out(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                    static_cast<std::size_t>(ASN1_STRING_length(text)));
    ASN1_UTF8STRING_free(text);
    if (!whole) return std::nullopt;
    return out;
}

namespace {

using UsageList = STACK_OF(ASN1_OBJECT);

std::unique_ptr<UsageList, void (*)(UsageList*)> extended_key_usage(X509* certificate, int* critical) {
    auto* usage = static_cast<UsageList*>(X509_get_ext_d2i(certificate, NID_ext_key_usage, critical, nullptr));
    ERR_clear_error();
    return {usage, [](UsageList* list) { sk_ASN1_OBJECT_pop_free(list, ASN1_OBJECT_free); }};
}

}  // namespace

bool has_only_critical_extended_key_usage(X509* certificate, int usage_nid) {
    int critical = 0;
    const auto usage = extended_key_usage(certificate, &critical);
    return usage && critical == 1 && sk_ASN1_OBJECT_num(usage.get()) == 1 &&
           OBJ_obj2nid(sk_ASN1_OBJECT_value(usage.get(), 0)) == usage_nid;
}

bool has_extended_key_usage(X509* certificate, int usage_nid) {
    int critical = 0;
    const auto usage = extended_key_usage(certificate, &critical);
    if (!usage) return false;
    for (int i = 0; i < sk_ASN1_OBJECT_num(usage.get()); ++i)
        if (OBJ_obj2nid(sk_ASN1_OBJECT_value(usage.get(), i)) == usage_nid) return true;
    return false;
}

bool is_ca_certificate(X509* certificate) {
    const bool ca = X509_check_ca(certificate) != 0;
    ERR_clear_error();
    return ca;
}

CertificatePath verify_certificate_path(X509* leaf, const std::vector<X509Ptr>& authority, std::int64_t time,
                                        const std::vector<X509*>& untrusted, int purpose) {
    CertificatePath out;
    if (authority.empty()) {
        out.error = "the authority lists no certificate";
        return out;
    }
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> intermediates(
        sk_X509_new_null(), [](STACK_OF(X509) * stack) { sk_X509_free(stack); });
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> context(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    if (!store || !intermediates || !context) {
        out.error = "out of memory";
        return out;
    }
    // The last certificate of the list is the anchor; the others are intermediates that must lead
    // to it (a partial chain is allowed: the anchor need not be self-signed).
    X509_STORE_add_cert(store.get(), authority.back().get());
    for (std::size_t i = 0; i + 1 < authority.size(); ++i) sk_X509_push(intermediates.get(), authority[i].get());
    for (X509* certificate : untrusted) sk_X509_push(intermediates.get(), certificate);
    if (X509_STORE_CTX_init(context.get(), store.get(), leaf, intermediates.get()) != 1) {
        ERR_clear_error();
        out.error = "OpenSSL could not start the path validation";
        return out;
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(time));  // sets X509_V_FLAG_USE_CHECK_TIME
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    if (purpose != 0) X509_STORE_CTX_set_purpose(context.get(), purpose);
    if (X509_verify_cert(context.get()) == 1) {
        STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(context.get());
        for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
            X509* certificate = sk_X509_value(chain, i);
            X509_up_ref(certificate);
            out.chain.emplace_back(certificate, X509Free{});
        }
        out.valid = true;
        ERR_clear_error();
        return out;
    }
    const int error = X509_STORE_CTX_get_error(context.get());
    out.error = X509_verify_cert_error_string(error);
    out.outside_validity = error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID;
    ERR_clear_error();
    return out;
}

}  // namespace karmor::signing
