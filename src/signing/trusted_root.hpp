// The Sigstore trusted root (trusted_root.json, protobuf-specs TrustedRoot): the CAs that issue
// signing certificates, the transparency-log keys that sign entry timestamps and checkpoints, the
// CT-log keys that sign SCTs and the timestamp authorities. Read strictly and with bounds from a
// file the user supplies, as Sigstore's TUF repository ships it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"
#include "signing/certificates.hpp"

namespace karmor::signing {

inline constexpr const char* trusted_root_media_type = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
inline constexpr std::size_t max_trusted_root_bytes = 1024 * 1024;
inline constexpr std::size_t max_trusted_root_entries = 64;  // per list: CAs, tlogs, ctlogs, TSAs
// Seconds since the epoch; validFor.start/end of the trusted root.
struct ValidityPeriod {
    std::int64_t start = 0;
    std::optional<std::int64_t> end;  // open-ended when absent
    bool contains(std::int64_t time) const { return time >= start && (!end || time <= *end); }
};

// A transparency log or CT log: its key and the id entries and SCTs name it by.
struct TrustedLog {
    std::string base_url;
    std::string key_id;       // logId.keyId, raw bytes (SHA-256 of the DER public key for Rekor v1 and CT)
    std::string key_details;  // e.g. PKIX_ECDSA_P256_SHA_256, PKIX_ED25519, PKCS1_RSA_PKCS1V5
    ValidityPeriod valid;
    std::shared_ptr<EVP_PKEY> key;  // null when its key type is one karmor does not support
    std::string unusable;           // why `key` is null
    // A signature by this log's key over `message`: ECDSA with the hash its key details name,
    // Ed25519, or RSA PKCS#1 v1.5 with SHA-256.
    bool verify(std::string_view message, std::string_view signature) const;
};

struct CertificateAuthority {
    std::string uri;
    std::vector<X509Ptr> chain;  // as listed: issuing certificate first, root last
    ValidityPeriod valid;
};

struct TrustedRoot {
    std::string source;  // the file, for messages
    std::vector<CertificateAuthority> certificate_authorities;
    std::vector<TrustedLog> tlogs;
    std::vector<TrustedLog> ctlogs;
    // RFC 3161 timestamp authorities: each chain is the authority's signing certificate (when
    // listed), its intermediates, then the anchor.
    std::vector<CertificateAuthority> timestamp_authorities;
    const TrustedLog* find_tlog(std::string_view key_id) const;
    const TrustedLog* find_ctlog(std::string_view key_id) const;
};

// Errors are of kind verification (the root cannot be trusted as given) and name `source`.
Result<TrustedRoot> parse_trusted_root(std::string_view bytes, const std::string& source);
Result<TrustedRoot> load_trusted_root(const std::filesystem::path& file);

}  // namespace karmor::signing
