// What a transparency-log entry records, read from its canonicalized body: the Rekor v1 kinds
// cosign and Sigstore clients write (hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2) and the Rekor v2
// ones (hashedrekord 0.0.2; dsse 0.0.2, which earlier rekor-tiles logs wrote and v2.3 no longer
// accepts). An entry counts for a signature only when it records exactly that signature, by that
// certificate or key, over that content.
#pragma once

#include <string>
#include <string_view>

namespace karmor::signing {

inline constexpr std::size_t max_entry_body_bytes = 64 * 1024;

// What a verifier hands the body check: the signed content and who signed it.
struct SignedContent {
    // A DSSE envelope (`payload`, `payload_type`); otherwise `payload` holds the signed bytes, or,
    // for a Sigstore message signature, `message_digest` says what was signed by hash.
    bool dsse = false;
    std::string payload;
    std::string payload_type;
    std::string message_digest;            // raw
    std::string message_digest_algorithm;  // "sha256", "sha384", "sha512"
    std::string signature;                 // raw (DER for ECDSA)
    std::string certificate_der;           // the signing certificate, or
    std::string public_key_der;            // the signing key (DER SubjectPublicKeyInfo)
};

// True when the entry body (`kind` and `version` as the entry's kindVersion says, checked against
// the body's own) records this signature by this certificate or key over this content; `why`
// says what differs.
bool entry_records(std::string_view body, std::string_view kind, std::string_view version, const SignedContent& content,
                   std::string& why);

// True for the kinds a Rekor v2 log writes: no integrated time, no SET, an inclusion proof only.
bool is_rekor_v2_kind(std::string_view kind, std::string_view version);

}  // namespace karmor::signing
