// RFC 3161 signed timestamps as Sigstore bundles carry them
// (verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp: a DER
// TimeStampResp whose token is a CMS SignedData of a TSTInfo), verified through OpenSSL's TS API
// against the timestamp authorities of the trusted root, as sigstore-go and the
// timestamp-authority's own verifier judge them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"
#include "signing/trusted_root.hpp"

namespace karmor::signing {

inline constexpr std::size_t max_timestamp_bytes = 32 * 1024;
inline constexpr std::size_t max_timestamps = 8;  // per signature

struct VerifiedTimestamp {
    std::int64_t time = 0;  // genTime, seconds since the epoch (a fraction is dropped)
    std::string authority;  // the timestamp authority's URI in the trusted root
};

// A timestamp counts when, in this order:
// - it is a TimeStampResp with status granted (or grantedWithMods) and a TSTInfo of version 1;
// - its message imprint is the SHA-256, SHA-384 or SHA-512 (SHA-1 and others are refused) of
//   `signature`, the exact bytes of the artifact signature it vouches for;
// - its CMS signature verifies, with an ESS signing-certificate attribute that names the signer,
//   and the signer (embedded in the token or, when not embedded, the authority's leaf) chains to
//   the last certificate of an authority of `authorities` with every certificate valid at genTime;
// - the signer is an end-entity certificate whose one extended key usage is timeStamping, marked
//   critical (RFC 3161 §2.3), and each intermediate of its path has no extended key usage or one
//   that allows timestamping; when the authority lists its leaf, the signer is that certificate;
// - genTime lies in the authority's validFor (both ends inclusive).
// The error (kind verification) says which of these failed.
Result<VerifiedTimestamp> verify_rfc3161_timestamp(std::string_view response_der, std::string_view signature,
                                                   const std::vector<CertificateAuthority>& authorities);

}  // namespace karmor::signing
