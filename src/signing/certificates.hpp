// X.509 certificates as Sigstore material carries them: DER and PEM parsing with bounds, their
// extensions, and path validation (RFC 5280, through OpenSSL) at a time that is not now.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karmor::signing {

inline constexpr std::size_t max_certificate_bytes = 16 * 1024;
inline constexpr std::size_t max_chain_certificates = 10;

struct X509Free {
    void operator()(X509* certificate) const { X509_free(certificate); }
};
using X509Ptr = std::shared_ptr<X509>;

// One DER certificate of at most max_certificate_bytes and nothing after it (trailing bytes would
// give the same certificate a second spelling); null otherwise.
X509Ptr parse_der_certificate(std::string_view der);
std::string certificate_der(X509* certificate);
// The DER of the first certificate in a PEM text (a Rekor verifier, a cosign annotation), or empty.
std::string pem_certificate_der(std::string_view pem);
// The DER SubjectPublicKeyInfo of a key.
std::string public_key_der(EVP_PKEY* key);

// The raw value (the OCTET STRING's content) of the extension `oid`, at most `max_bytes`; nullopt
// when absent or larger.
std::optional<std::string> extension_value(X509* certificate, const char* oid, std::size_t max_bytes = 4096);
// An extension whose value is a DER UTF8String (Fulcio's newer claims), decoded; nullopt when
// absent or not exactly one UTF8String.
std::optional<std::string> der_utf8_extension(X509* certificate, const char* oid);

// True when the certificate's extended key usage is present, critical, and names exactly
// `usage_nid` (RFC 3161 §2.3 asks this of a timestamping certificate).
bool has_only_critical_extended_key_usage(X509* certificate, int usage_nid);
// True when the certificate has an extended key usage naming `usage_nid`.
bool has_extended_key_usage(X509* certificate, int usage_nid);
bool is_ca_certificate(X509* certificate);

struct CertificatePath {
    bool valid = false;
    std::string error;              // why not, for people
    bool outside_validity = false;  // a certificate of the path was not valid at the time
    std::vector<X509Ptr> chain;     // leaf first, anchor last, when valid
};

// Validates `leaf` up to the last certificate of `authority` (the trust anchor, as the trusted
// root lists it: issuing certificate first, root last), the others of `authority` and `untrusted`
// serving as intermediates, every certificate valid at `time` (the "hybrid model": the time a
// signature was made, not now). `purpose` is an X509_PURPOSE_* to enforce, or 0.
CertificatePath verify_certificate_path(X509* leaf, const std::vector<X509Ptr>& authority, std::int64_t time,
                                        const std::vector<X509*>& untrusted = {}, int purpose = 0);

}  // namespace karmor::signing
