// The named checks a signature goes through (SPEC §9), in the order they run. A signature counts
// only when each one that applies passes; the first that fails refuses it with its name (exit code
// 8) and says why. docs/signing.md lists what each one stops.
#pragma once

#include <string>

namespace karmor::signing {

namespace check {
// Reading: bounds, canonical encodings, a bundle that parses strictly.
inline constexpr const char* well_formed = "well-formed";
// Who signed: a certificate to check (keyless), and the signature over the exact bytes under a
// given key or the certificate's key.
inline constexpr const char* certificate = "certificate";
inline constexpr const char* signature = "signature";
// That it was logged, and when: each transparency-log entry and RFC 3161 timestamp that is present
// must verify, and cosign's thresholds must be met.
inline constexpr const char* transparency_log = "transparency-log";
inline constexpr const char* signed_entry_timestamp = "signed-entry-timestamp";
inline constexpr const char* checkpoint = "checkpoint";
inline constexpr const char* inclusion_proof = "inclusion-proof";
inline constexpr const char* log_entry_body = "log-entry";
inline constexpr const char* timestamp = "timestamp";
inline constexpr const char* signing_time = "signing-time";
// The certificate at that time and whom it names.
inline constexpr const char* certificate_chain = "certificate-chain";
inline constexpr const char* sct = "sct";
inline constexpr const char* certificate_identity = "certificate-identity";
inline constexpr const char* certificate_issuer = "certificate-oidc-issuer";
inline constexpr const char* github_workflow = "github-workflow";
// What was signed: a cosign image signature names this digest, repository and annotations; a
// Sigstore bundle verified on its own (verify_sigstore_bundle) covers the given artifact.
inline constexpr const char* payload = "payload";
inline constexpr const char* digest = "digest";
inline constexpr const char* identity = "identity";
inline constexpr const char* annotations = "annotations";
inline constexpr const char* artifact = "artifact";
}  // namespace check

// One check's verdict: passed, or the check's name and why not.
struct CheckOutcome {
    bool passed = true;
    const char* check = nullptr;
    std::string reason;
};

inline CheckOutcome fail_check(const char* name, std::string reason) {
    return {false, name, std::move(reason)};
}

}  // namespace karmor::signing
