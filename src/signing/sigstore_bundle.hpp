// Cosign 3's signature format (SPEC §9): an in-toto Statement v1 about the manifest digest in a
// DSSE envelope, in a Sigstore bundle v0.3, stored as an OCI referrer of the signed manifest.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/result.hpp"
#include "signing/keys.hpp"
#include "signing/rfc3161.hpp"
#include "signing/transparency_log.hpp"

namespace karmor::signing {

inline constexpr const char* bundle_media_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
// The other spelling sigstore clients accept for the same version.
inline constexpr const char* bundle_media_type_alternate = "application/vnd.dev.sigstore.bundle+json;version=0.3";
inline constexpr const char* in_toto_payload_type = "application/vnd.in-toto+json";
inline constexpr const char* in_toto_statement_type = "https://in-toto.io/Statement/v1";
inline constexpr const char* cosign_sign_predicate_type = "https://sigstore.dev/cosign/sign/v1";
inline constexpr const char* bundle_content_annotation = "dev.sigstore.bundle.content";
inline constexpr const char* bundle_predicate_annotation = "dev.sigstore.bundle.predicateType";
inline constexpr std::size_t max_bundle_bytes = 1024 * 1024;
inline constexpr std::size_t max_statement_bytes = 64 * 1024;
inline constexpr std::size_t max_dsse_signatures = 16;

// {"_type":STATEMENT_V1,"subject":[{"name":NAME,"digest":{"sha256":HEX},"annotations":{…}}],
// "predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}. Cosign keeps the -a
// annotations on the subject (where `cosign verify -a` looks for them); `name` is
// REGISTRY/REPOSITORY, the identity karmor checks (cosign writes none).
std::string make_sign_statement(const std::string& name, const Digest& digest,
                                const std::map<std::string, std::string>& annotations);

// DSSE's pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(payload)> <payload>".
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

// The public key hint of a Sigstore bundle as cosign writes it: base64 of the SHA-256 of the
// DER SubjectPublicKeyInfo.
std::string sigstore_key_hint(const PublicKey& key);

// A bundle v0.3 with verificationMaterial.publicKey.hint and a DSSE envelope of `statement`.
std::string make_sigstore_bundle(std::string_view statement, const std::string& der_signature,
                                 const std::string& key_hint);

struct StatementClaims {
    std::string name;                                // subject name; empty when absent
    std::map<std::string, std::string> digests;      // subject digest: algorithm → hex
    std::map<std::string, std::string> annotations;  // string-valued subject annotations
};

// A cosign sign/v1 statement, read strictly: exactly one subject, known fields only, the
// exact _type and predicateType, an empty predicate, no key twice.
Result<StatementClaims> parse_sign_statement(std::string_view bytes);

// The subjects' digests (algorithm → hex) of any in-toto Statement (v0.1 or v1), read strictly
// enough to have one meaning: no key twice, at most max_statement_subjects subjects, each with a
// digest. What a bundle of an attestation is checked against (verify_artifact_signature).
inline constexpr std::size_t max_statement_subjects = 1024;
Result<std::vector<std::map<std::string, std::string>>> parse_statement_subjects(std::string_view bytes);

// A Sigstore bundle v0.1 to v0.3, read strictly (at most max_bundle_bytes, known fields only,
// canonical base64), as protobuf-specs' Bundle: a DSSE envelope or a message signature, the
// verification material (a public key hint, a certificate, or for v0.1 and v0.2 a certificate chain
// whose first certificate is the signer's and which must not contain a root), the
// transparency-log entries and the RFC 3161 timestamps.
struct SigstoreBundle {
    int version = 0;  // N of v0.N
    // Content: a DSSE envelope, or a message signature.
    bool message_signature = false;
    std::string message_digest_algorithm;  // "sha256", "sha384", "sha512"; empty when the bundle gives none
    std::string message_digest;            // raw
    std::string payload_type;
    std::string payload;                      // decoded: the bytes the signatures cover (through PAE)
    std::vector<std::string> der_signatures;  // decoded
    std::string key_hint;                     // verificationMaterial.publicKey.hint; may be empty
    std::string certificate_der;              // the signing certificate (keyless)
    std::vector<TlogEntry> tlog_entries;
    std::vector<std::string> rfc3161_timestamps;  // DER TimeStampResp each
};
Result<SigstoreBundle> parse_sigstore_bundle(std::string_view bytes);

// A cosign image signature: a Sigstore bundle with a DSSE envelope. A bundle with a message
// signature is refused: it names no manifest.
using DsseBundle = SigstoreBundle;
Result<DsseBundle> parse_dsse_bundle(std::string_view bytes);

// The referrer that carries a bundle: artifactType and the one layer of the bundle media
// type, the empty config, `subject`, and the annotations cosign writes.
Manifest make_bundle_referrer(const Descriptor& subject, const Descriptor& bundle_blob, const std::string& created);

// The empty config blob `{}` (image-spec "Guidance for an empty descriptor").
Descriptor empty_config_descriptor();
inline constexpr const char* empty_config_bytes = "{}";

}  // namespace karmor::signing
