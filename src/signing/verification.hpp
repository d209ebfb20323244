// Signature verification as a pipeline of named checks (SPEC §9), in the style of sigstore-go:
// each check passes or says precisely why not, and a signature counts only when every check
// passes. Pure: the signatures are collected by ops/ and handed in here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "karmor/digest.hpp"
#include "signing/keys.hpp"
#include "signing/transparency_log.hpp"

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

// One signature found beside the artifact, as collected (nothing checked yet).
struct SignatureCandidate {
    SignatureFormat format = SignatureFormat::legacy;
    std::string source;        // where it was found, for people
    std::string payload;       // legacy: the simple-signing payload; bundle: the statement
    std::string payload_type;  // bundle: the DSSE payload type
    std::vector<std::string> der_signatures;
    std::string key_hint;  // bundle: verificationMaterial.publicKey.hint
    std::string problem;   // set when it could not even be read (then nothing else is)
    // Keyless: the signing certificate (DER) and the transparency-log entries that came with it.
    // Empty certificate_der: a signature made with a key.
    std::string certificate_der;
    std::vector<TlogEntry> tlog_entries;
};

// The names of the checks, in the order they run.
namespace check {
inline constexpr const char* well_formed = "well-formed";
inline constexpr const char* signature = "signature";
inline constexpr const char* payload = "payload";
inline constexpr const char* digest = "digest";
inline constexpr const char* identity = "identity";
inline constexpr const char* annotations = "annotations";
}  // namespace check

struct SignatureVerdict {
    SignatureCandidate candidate;
    bool verified = false;
    std::vector<std::string> keys;  // the given keys it verifies under (their sources)
    std::string failed_check;       // empty when verified
    std::string reason;             // why that check failed
    // Claims read from a payload whose signature verified.
    std::string signed_identity;
    std::map<std::string, std::string> signed_annotations;
    // Keyless: who the certificate names and when the log saw the signature (once its chain
    // verified at that time).
    std::string certificate_identity;
    std::string certificate_issuer;
    std::int64_t logged_at = 0;
};

// Runs every check on one candidate.
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
