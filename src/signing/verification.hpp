// Signature verification as a pipeline of named checks (SPEC §9, signing/checks.hpp), in the style
// of sigstore-go: each check passes or says precisely why not, and a signature counts only when
// every check that applies passes. Pure: the signatures are collected by ops/ (or read from a
// bundle file) and handed in here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "karmor/digest.hpp"
#include "signing/checks.hpp"
#include "signing/keys.hpp"
#include "signing/signing_time.hpp"
#include "signing/transparency_log.hpp"
#include "signing/trusted_root.hpp"

namespace karmor::signing {

enum class SignatureFormat { legacy, bundle };
const char* to_string(SignatureFormat format);

// What the user asked for: the digest REF resolved to (once), the repository (REGISTRY/REPO,
// or --signed-identity), the tag when REF named one, and the -a KEY=VALUE requirements.
struct ExpectedSubject {
    Digest digest;
    std::string repository;
    std::string tag;
    std::map<std::string, std::string> annotations;
};

// What a Sigstore bundle verified on its own must cover (cosign verify-blob, the conformance
// vectors): an artifact given by its bytes, or by its SHA-256 alone.
struct ExpectedArtifact {
    std::optional<std::string> bytes;
    std::string sha256;  // raw; computed from `bytes` when they are given
};

// One signature found beside the artifact, as collected (nothing checked yet).
struct SignatureCandidate {
    SignatureFormat format = SignatureFormat::legacy;
    std::string source;        // where it was found, for people
    std::string payload;       // legacy: the simple-signing payload; bundle: the DSSE payload
    std::string payload_type;  // bundle: the DSSE payload type
    // A bundle's messageSignature (a signed blob, not an envelope): what it says was signed.
    bool message_signature = false;
    std::string message_digest_algorithm;  // "sha256", "sha384", "sha512"
    std::string message_digest;            // raw
    std::vector<std::string> der_signatures;
    std::string key_hint;  // bundle: verificationMaterial.publicKey.hint
    std::string problem;   // set when it could not even be read (then nothing else is)
    // Keyless: the signing certificate (DER). Empty: a signature made with a key.
    std::string certificate_der;
    // Evidence of when and that it was logged: transparency-log entries and RFC 3161 timestamps
    // (DER TimeStampResp).
    std::vector<TlogEntry> tlog_entries;
    std::vector<std::string> rfc3161_timestamps;
    int bundle_version = 0;  // the N of a Sigstore bundle v0.N; 0 for the legacy format
};

struct KeylessPolicy;

// What signatures are checked against: public keys (any one suffices), certificates under a
// keyless policy, the trusted root whose logs and timestamp authorities are checked (for keys as
// well, when one is given), and cosign's rules for logs and timestamps.
struct VerificationPolicy {
    std::vector<PublicKey> keys;
    std::shared_ptr<const KeylessPolicy> keyless;
    std::shared_ptr<const TrustedRoot> trusted_root;
    TransparencyPolicy transparency;
};

struct SignatureVerdict {
    SignatureCandidate candidate;
    bool verified = false;
    std::vector<std::string> keys;           // the given keys it verifies under (their sources)
    std::string failed_check;                // empty when verified
    std::string reason;                      // why that check failed
    std::vector<std::string> passed_checks;  // in order, up to the one that failed
    // Claims read from a payload whose signature verified.
    std::string signed_identity;
    std::map<std::string, std::string> signed_annotations;
    // Keyless: who the certificate names.
    std::string certificate_identity;
    std::string certificate_issuer;
    // The verified times (SETs, RFC 3161 timestamps) the certificate was checked at; logged_at is
    // the first one.
    std::vector<SigningTime> signing_times;
    std::int64_t logged_at = 0;
};

// Every check, for a cosign signature of an image: who signed, logs and timestamps, the
// certificate, then payload, digest, identity and annotations.
SignatureVerdict verify_image_signature(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                                        const ExpectedSubject& expected);

// Every check, for a Sigstore bundle of a blob or an in-toto attestation: who signed, logs and
// timestamps, the certificate, then that it covers the artifact (artifact).
SignatureVerdict verify_artifact_signature(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                                           const ExpectedArtifact& expected);

// The key-based checks alone (no trusted root): verify_image_signature with only `keys`.
SignatureVerdict verify_signature(const SignatureCandidate& candidate, const std::vector<PublicKey>& keys,
                                  const ExpectedSubject& expected);

// REGISTRY/REPOSITORY with Docker Hub's aliases folded into docker.io, for comparisons.
std::string canonical_repository(const std::string& registry, const std::string& repository);

// True when `reference` spells a tag: a ':' after the last '/', before any '@' (Reference::parse
// fills in "latest" when none is spelled).
bool spells_a_tag(const std::string& reference);

// True when `claimed` (a docker-reference or a statement subject name: REGISTRY/REPO[:TAG][@DIGEST])
// names `expected.repository`, and its tag (if any) is the requested tag, and its digest (if
// any) is the expected digest. `why` says what differs.
bool identity_matches(const std::string& claimed, const ExpectedSubject& expected, std::string& why);

}  // namespace karmor::signing
