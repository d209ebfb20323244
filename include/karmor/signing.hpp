// Signing and verifying artifacts in the formats cosign writes and reads (SPEC §9): the legacy
// `sha256-<hex>.sig` tag and the Sigstore bundle stored as a referrer.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "karmor/digest.hpp"
#include "karmor/layout.hpp"
#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"

namespace karmor {
namespace signing {
class SigningKey;
}

enum class SignatureFormats { legacy, bundle, both };

// Asks for the password of an encrypted key; `confirm` asks twice. The CLI reads
// KARMOR_PASSWORD, then COSIGN_PASSWORD, then a no-echo prompt on a terminal.
using KeyPasswordSource = std::function<Result<std::string>(bool confirm)>;

// A private key read (and decrypted) ahead of the work that needs it, so that `push --sign`
// fails on a bad key or password before anything is sent.
using LoadedSigningKey = std::shared_ptr<const signing::SigningKey>;
Result<LoadedSigningKey> load_key_for_signing(const std::filesystem::path& key_file, const KeyPasswordSource& password);

struct SignOptions {
    // The artifact (or any manifest) to sign; a tag is resolved to its digest once.
    Reference reference;
    std::optional<LayoutReference> layout;  // --oci-layout
    std::filesystem::path key_file;         // an ECDSA P-256 private key (cosign's formats, PKCS#8, SEC1)
    KeyPasswordSource password;             // asked only for an encrypted key
    LoadedSigningKey loaded_key;            // when set, used instead of key_file and password
    // -a KEY=VALUE: signed claims (`optional` of the legacy payload, the statement subject's
    // annotations in a bundle), which `verify -a` can require.
    std::map<std::string, std::string> annotations;
    SignatureFormats formats = SignatureFormats::both;
    // REGISTRY/REPOSITORY the signature names; the reference's by default. Required with a layout.
    std::string signed_identity;
    RemoteOptions remote;
};

struct WrittenSignature {
    std::string format;    // "legacy" or "bundle"
    std::string location;  // REPO:sha256-….sig, or REPO@DIGEST of the bundle referrer
    // A signature by this key over the same claims was already there: nothing was written.
    bool already_present = false;
    std::string indexing;  // bundle: "referrers API", "fallback tag sha256-…", "image layout"
};

struct SignResult {
    std::string location;  // REPO@DIGEST that was signed
    Digest digest;
    std::string signed_identity;
    std::string key_hint;  // the Sigstore hint of the public key (base64 SHA-256 of its DER)
    std::vector<WrittenSignature> signatures;
};

Result<SignResult> sign_artifact(const SignOptions& options);

// --trusted-root and what it is checked for, offline. Keyless signatures (issue 16): a certificate
// from a CA of the trusted root, naming this identity and issuer. For every signature, keyless or
// made with a key (issue 24): its transparency-log entries and RFC 3161 timestamps, against the
// root's logs and timestamp authorities, as `cosign verify --trusted-root` checks them.
struct KeylessRequirements {
    std::filesystem::path trusted_root;  // Sigstore trusted_root.json
    // Exactly one of each pair: the certificate's SAN (URI or e-mail) and its OIDC issuer, equal
    // to the text or containing a match of the ECMAScript regular expression (as cosign's -regexp).
    std::string identity;
    std::string identity_regexp;
    std::string oidc_issuer;
    std::string oidc_issuer_regexp;
    // Fulcio's GitHub workflow claims, exact when given.
    std::string github_workflow_trigger;
    std::string github_workflow_sha;
    std::string github_workflow_name;
    std::string github_workflow_repository;
    std::string github_workflow_ref;
    bool insecure_ignore_sct = false;  // accept a certificate without a valid embedded SCT
    // cosign's --insecure-ignore-tlog: no transparency-log entry is required (one that is there
    // must still verify).
    bool insecure_ignore_tlog = false;
    // cosign's --use-signed-timestamps: an RFC 3161 timestamp from an authority of the root is
    // required, and its time is a signing time.
    bool use_signed_timestamps = false;
    // No identity: with keys, the root only says which logs and timestamp authorities to check.
    bool checks_certificates() const {
        return !identity.empty() || !identity_regexp.empty() || !oidc_issuer.empty() || !oidc_issuer_regexp.empty();
    }
};

// What a signature must satisfy to count (SPEC §9).
struct SignatureRequirements {
    std::vector<std::filesystem::path> public_keys;  // PEM SubjectPublicKeyInfo; any one suffices
    std::optional<KeylessRequirements> keyless;      // certificates count too (any one suffices)
    std::map<std::string, std::string> annotations;  // -a KEY=VALUE: every one must be signed
    // --signed-identity REGISTRY/REPO: the repository signatures must name instead of the
    // requested one (a mirror). Required with a layout.
    std::string signed_identity;
};

struct SignatureReport {
    std::string format;  // "legacy" or "bundle"
    std::string source;  // where it was found
    std::string key_hint;
    bool verified = false;
    std::vector<std::string> keys;  // the given keys it verifies under
    std::string failed_check;       // "signature", "digest", "identity", … when not verified
    std::string reason;
    std::string signed_identity;  // claims, when its signature verified
    std::map<std::string, std::string> signed_annotations;
    // Keyless: the certificate's identity (SAN) and OIDC issuer, and the first verified signing
    // time (RFC 3339), once its chain verified.
    std::string certificate_identity;
    std::string certificate_issuer;
    std::string logged_at;
    // The named checks it passed, in order (SPEC §9), and each verified signing time with who
    // vouches for it ("2026-12-04T10:00:00Z (RFC 3161 timestamp of URI)").
    std::vector<std::string> checks_passed;
    std::vector<std::string> signing_times;
};

struct VerifyOptions {
    Reference reference;
    std::optional<LayoutReference> layout;
    SignatureRequirements requirements;
    RemoteOptions remote;
};

struct VerifyResult {
    std::string location;  // REPO@DIGEST that was verified
    Digest digest;
    std::vector<SignatureReport> signatures;  // every signature found, verified or not
    std::vector<std::string> problems;        // signature stores that could not be read
    bool verified() const;
};

// Fails closed: an error of kind verification (exit code 8) unless at least one signature
// passes every check; its details list each signature found and why it did not count.
Result<VerifyResult> verify_artifact(const VerifyOptions& options);

// One Sigstore bundle (v0.1 to v0.3) verified on its own, offline, as `cosign verify-blob
// --bundle` and sigstore-go verify it: a message signature of the artifact, or a DSSE in-toto
// statement one of whose subjects is the artifact. No registry is involved.
struct BundleVerifyOptions {
    std::string bundle;                     // the bundle's JSON bytes
    std::string source = "bundle";          // names it in messages
    std::optional<std::string> artifact;    // the artifact's bytes, or
    std::optional<Digest> artifact_digest;  // its sha256 digest alone
    SignatureRequirements requirements;     // keys and/or --trusted-root with an identity
};

struct BundleVerifyResult {
    SignatureReport signature;
};

// An error of kind verification (exit code 8) unless the bundle passes every check; usage errors
// for missing keys, root or artifact.
Result<BundleVerifyResult> verify_sigstore_bundle(const BundleVerifyOptions& options);

}  // namespace karmor
