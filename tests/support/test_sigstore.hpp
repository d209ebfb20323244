// A private "Sigstore" for the keyless tests (issue 16), made with OpenSSL: a root and an
// intermediate CA issuing Fulcio-style leaf certificates (SAN, issuer and GitHub workflow
// extensions, an embedded SCT from a test CT log), a transparency log (signed entry timestamps,
// an RFC 6962 Merkle tree, signed checkpoints), the matching trusted_root.json, and producers of
// both cosign signature formats with knobs that break one link each. Nothing here verifies:
// the verdicts come from karmor, @sigstore/verify and cosign.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "karmor/digest.hpp"
#include "karmor/oci_types.hpp"

namespace karmor::oci {
class Target;
}

namespace karmor::testing::sigstore {

// OIDs of the Fulcio certificate extensions (fulcio docs/oid-info.md).
inline constexpr const char* oid_issuer_v1 = "1.3.6.1.4.1.57264.1.1";  // raw string (deprecated)
inline constexpr const char* oid_issuer_v2 = "1.3.6.1.4.1.57264.1.8";  // DER UTF8String
inline constexpr const char* oid_sct_list = "1.3.6.1.4.1.11129.2.4.2";

inline constexpr const char* github_issuer = "https://token.actions.githubusercontent.com";
inline constexpr const char* default_identity =
    "https://github.com/karmor-test/policies/.github/workflows/release.yml@refs/heads/main";

// An ECDSA key (P-256 unless said otherwise). Copies share the key.
class EcKey {
public:
    static EcKey generate(int curve_nid = 0);  // 0: P-256
    std::string public_der() const;            // DER SubjectPublicKeyInfo
    std::string public_pem() const;
    // ECDSA over SHA-256 (SHA-384 for a P-384 key), DER-encoded.
    std::string sign(std::string_view message) const;
    // SHA-256 of the DER SubjectPublicKeyInfo: a log ID (RFC 6962, Rekor).
    std::string key_id() const;
    std::string private_pem() const;          // PKCS#8
    void* evp() const { return key_.get(); }  // EVP_PKEY*

private:
    std::shared_ptr<void> key_;
};

// An Ed25519 key (Rekor v2 log keys). Copies share the key.
class EdKey {
public:
    static EdKey generate();
    std::string public_der() const;   // DER SubjectPublicKeyInfo
    std::string raw_public() const;   // the 32 bytes
    std::string private_pem() const;  // PKCS#8, as rekor-server's --signer-filepath reads it
    std::string sign(std::string_view message) const;
    // The C2SP signed-note key ID under `name`: SHA-256(name || "\n" || 0x01 || key), whose first
    // 4 bytes name the key on a checkpoint's signature line; Rekor v2's log ID.
    std::string note_key_id(const std::string& name) const;

private:
    std::shared_ptr<void> key_;
};

struct Certificate {
    std::string der;
    std::string pem;
    std::int64_t not_before = 0;  // unix seconds
    std::int64_t not_after = 0;
};

// A timestamp authority's signing certificate (critical timeStamping EKU) and its root, both valid
// from `not_before` to `not_after`, made with OpenSSL.
struct TimestampAuthorityMaterial {
    EcKey key;
    Certificate leaf;
    Certificate root;
};
TimestampAuthorityMaterial make_timestamp_authority(std::int64_t not_before, std::int64_t not_after);

// A Fulcio-style leaf: what to put in it.
struct LeafOptions {
    std::string san_uri = default_identity;  // a URI SAN, or
    std::string san_email;                   // an e-mail SAN (used when san_uri is empty)
    std::string issuer = github_issuer;      // both issuer extensions; empty: neither
    // GitHub workflow values: the raw-string extensions .2-.6 and the DER ones .9-.22, set from
    // san_uri when true (trigger "push", sha, workflow name "release", repository, ref).
    bool github_workflow = true;
    std::int64_t not_before = 0;  // 0: TestSigstore::base_time()
    std::int64_t lifetime_seconds = 600;
};

// What the signer of an artifact gives: the leaf and its key.
struct Leaf {
    EcKey key;
    Certificate certificate;
};

// One broken link each; all false is a good signature.
struct Knobs {
    bool unknown_ca = false;           // leaf issued by a CA that is not in the trusted root
    bool expired_at_log_time = false;  // integrated time after the leaf's notAfter
    bool before_validity = false;      // integrated time before the leaf's notBefore
    bool bad_set = false;              // SET does not verify (signed over another integratedTime)
    bool set_by_unknown_log = false;   // SET and checkpoint by a log key not in the root (logID of the known log)
    bool no_set = false;               // inclusion proof and checkpoint, no inclusionPromise (bundle only)
    bool bad_inclusion_proof = false;  // one proof hash altered
    bool bad_checkpoint = false;       // checkpoint signature does not verify
    bool no_sct = false;               // leaf without the SCT extension
    bool sct_by_unknown_log = false;   // SCT signed by a CT log key not in the root
    bool bad_sct = false;              // SCT over another TBS (signature does not verify)
    // The log entry of another signing by the same leaf (another manifest; signature and
    // payload hash consistent with each other), replayed.
    bool entry_other_signature = false;
    // The log entry records this signature with another certificate (same identity).
    bool entry_other_certificate = false;
    bool entry_other_payload = false;     // the log entry records another payload digest
    bool signature_by_other_key = false;  // the artifact signature is not by the leaf's key
    // Signed (leaf, SCT, log entry) before the CA's validFor in the trusted root starts, while
    // the CA certificates themselves and the logs were already valid.
    bool before_ca_validity = false;
    bool no_code_signing_eku = false;  // leaf whose extended key usage is serverAuth, not codeSigning
    // RFC 3161 timestamps (issue 24; bundles only).
    bool timestamp = false;                       // add a timestamp of the signature by the test TSA
    bool timestamp_without_certificate = false;   // … whose token does not embed the TSA's certificate
    bool timestamp_of_other_signature = false;    // … over other bytes (swapped from another signature)
    bool timestamp_by_unknown_authority = false;  // … by a TSA that is not in the trusted root
    bool timestamp_outside_tsa_validity = false;  // … made before the TSA's validFor in the root starts
    bool timestamp_after_leaf_expired = false;    // … made after the leaf's notAfter
    // Rekor v2 (issue 24; bundles only): a hashedrekord 0.0.2 entry in the test's Rekor v2 log (an
    // Ed25519 key, checkpoints named after the log's host), with no SET and no integrated time.
    bool rekor_v2 = false;
    bool rekor_v2_checkpoint_by_unknown_key = false;  // its checkpoint signed by an Ed25519 key not in the root
};

struct SignOptions {
    LeafOptions leaf;
    Knobs knobs;
    // Seconds after the leaf's notBefore that the log integrated the entry.
    std::int64_t integrated_after = 30;
};

// A transparency-log entry as both formats carry it.
struct LogEntry {
    std::string kind;     // "dsse" or "hashedrekord"
    std::string version;  // "0.0.1"
    std::string body;     // canonicalized body (JSON bytes, not base64)
    std::int64_t integrated_time = 0;
    std::int64_t log_index = 0;
    std::string log_id;  // 32 raw bytes
    std::string set;     // DER ECDSA signature; empty when knobs.no_set
    // Inclusion proof at `tree_size` (bundles only).
    std::int64_t tree_size = 0;
    std::string root_hash;            // raw
    std::vector<std::string> hashes;  // raw
    std::string checkpoint;           // signed note
};

struct KeylessBundle {
    std::string json;       // the Sigstore bundle v0.3
    std::string timestamp;  // the RFC 3161 TimeStampResp it carries, if any
    std::string statement;  // the in-toto statement (DSSE payload)
    Leaf leaf;
    LogEntry entry;
};

struct LegacyMaterial {
    std::string payload;            // simple-signing JSON, the signed bytes
    std::string signature;          // DER
    std::string certificate_pem;    // dev.sigstore.cosign/certificate
    std::string chain_pem;          // dev.sigstore.cosign/chain: intermediate then root
    std::string rekor_bundle_json;  // dev.sigstore.cosign/bundle
    Leaf leaf;
    LogEntry entry;
};

// A Sigstore of its own. Generating keys takes a few milliseconds; make one per test suite.
class TestSigstore {
public:
    // `base_time`: the notBefore of leaves by default (unix seconds; 0: now minus 10 minutes).
    explicit TestSigstore(std::int64_t base_time = 0);

    std::int64_t base_time() const { return base_time_; }
    // The trusted root's CA validFor starts here (the CA certificates a month earlier).
    std::int64_t ca_valid_from() const { return base_time_ - 86400; }
    const Certificate& root() const { return root_; }
    const Certificate& intermediate() const { return intermediate_; }
    const EcKey& log_key() const { return log_key_; }
    const EcKey& ct_key() const { return ct_key_; }
    const Certificate& tsa_certificate() const { return tsa_.leaf; }
    const Certificate& tsa_root() const { return tsa_.root; }
    // The trusted root's validFor of the timestamp authority starts here.
    std::int64_t tsa_valid_from() const { return base_time_ - 2 * 3600; }
    std::string rekor_v2_host() const { return "log2.karmor.test"; }
    std::string log_origin() const;  // "rekor.karmor.test - 1193050959916656506"
    std::string log_url() const { return "https://rekor.karmor.test"; }

    // The trusted root (protobuf-specs TrustedRoot JSON, version 0.1): this instance's CA
    // chain, its Rekor v1 (ECDSA) and v2 (Ed25519) logs, CT log and timestamp authority.
    std::string trusted_root_json() const;

    // A DER TimeStampResp (RFC 3161) over the SHA-256 of `bytes`, made with OpenSSL's TS API by the
    // test TSA (or by one not in the root), at `time`.
    std::string timestamp(std::string_view bytes, std::int64_t time, bool embed_certificate = true,
                          bool unknown_authority = false) const;

    // A leaf from the intermediate (or from the unknown CA), with or without an SCT.
    Leaf issue_leaf(const LeafOptions& options, const Knobs& knobs = {});

    // Cosign 3's format: a bundle v0.3 with a DSSE envelope of the same in-toto statement karmor
    // writes (make_sign_statement: subject `name`, `digest`), the leaf certificate, one `dsse`
    // v0.0.1 tlog entry with inclusionPromise and inclusionProof + checkpoint.
    KeylessBundle make_bundle(const std::string& name, const Digest& digest, const SignOptions& options = {});

    // Cosign's legacy format: a simple-signing payload for `identity` (REGISTRY/REPOSITORY) and
    // `digest`, its signature, the certificate, chain and Rekor bundle annotations
    // (a `hashedrekord` v0.0.1 entry with a SET; legacy signatures carry no inclusion proof).
    LegacyMaterial make_legacy(const std::string& identity, const Digest& digest, const SignOptions& options = {});

    // The Merkle tree (RFC 6962 hashing): the leaf hashes appended so far.
    std::int64_t tree_size() const { return static_cast<std::int64_t>(leaves_.size()); }

private:
    LogEntry log_entry(std::string kind, std::string body, std::int64_t integrated_time, const Knobs& knobs,
                       bool with_proof);
    std::string checkpoint(std::int64_t size, const std::string& root, const EcKey& key) const;

    std::string rekor_v2_checkpoint(std::int64_t size, const std::string& root, bool unknown_key) const;
    LogEntry rekor_v2_entry(std::string body, const Knobs& knobs);

    std::int64_t base_time_;
    EcKey root_key_, intermediate_key_, log_key_, ct_key_;
    EcKey rogue_ca_key_, rogue_log_key_, rogue_ct_key_;
    EdKey log2_key_, rogue_log2_key_;  // the Rekor v2 log's Ed25519 key, and another
    Certificate root_, intermediate_, rogue_ca_;
    TimestampAuthorityMaterial tsa_, rogue_tsa_;
    std::vector<std::string> leaves_;   // leaf hashes
    std::vector<std::string> leaves2_;  // the Rekor v2 log's leaf hashes
};

// RFC 6962 §2.1: the Merkle tree hash of `leaf_hashes` and the audit path of leaf `index`.
std::string merkle_root(const std::vector<std::string>& leaf_hashes);
std::vector<std::string> merkle_inclusion_proof(const std::vector<std::string>& leaf_hashes, std::size_t index);
std::string merkle_leaf_hash(std::string_view entry);

// One case of the verdict matrix: material made with `options`, checked against
// `identity`/`issuer`; `good` when every verifier must accept it.
struct Case {
    std::string name;
    SignOptions options;
    std::string identity = default_identity;
    std::string issuer = github_issuer;
    // When set, the identity is matched by this regular expression instead (cosign's
    // --certificate-identity-regexp).
    std::string identity_regexp;
    // More policy flags in cosign's spelling, which karmor shares
    // (--certificate-github-workflow-repository REPO …); @sigstore/verify has none of them.
    std::vector<std::string> flags;
    bool good = false;
    // The check `karmor oci verify` must name when it refuses the case (issue 16: "says which
    // check failed"); empty for a good case.
    std::string check;
    bool bundle = true;  // the case applies to the bundle format
    bool legacy = true;  // … and to the legacy format
};
// Every link of issue 16 broken once, and the good signatures (URI and e-mail SAN).
std::vector<Case> standard_cases();

// The artifact the keyless and Sigstore-services tests sign: examples/policies/ksp-block-shell.yaml
// pushed by the karmor binary to REPOSITORY:v1 (SOURCE_DATE_EPOCH=1000, so always the same
// digest); its digest, or an empty Digest after a failed test assertion.
Digest push_example_artifact(const std::string& repository);
// A registry repository on 127.0.0.1 over plain HTTP, opened for pushing.
std::unique_ptr<oci::Target> open_plain_http(const std::string& repository);
// The descriptor of the manifest `digest` of `target` (what a referrer's subject names).
Descriptor manifest_descriptor(oci::Target& target, const Digest& digest);

// Placing material in a registry (the artifact itself is pushed with karmor first).
// The bundle as a referrer of `subject` (OCI 1.1 referrer, listed in the fallback tag).
// Returns an empty string, or what failed.
std::string put_bundle_referrer(oci::Target& target, const Descriptor& subject, const std::string& bundle_json);
// The legacy signature at sha256-<hex>.sig, appended to whatever is there.
std::string put_legacy_signature(oci::Target& target, const Digest& subject, const LegacyMaterial& material);

// `message` signed by `key` with `digest` (null for Ed25519), PKCS#1 v1.5 or (`pss`) PSS for RSA:
// the signature of any key type cosign verifies with. A failure fails the current test.
std::string sign_message(EVP_PKEY* key, const EVP_MD* digest, std::string_view message, bool pss = false);

}  // namespace karmor::testing::sigstore
