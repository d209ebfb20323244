// Cosign's legacy signature storage (SPEC §9): the `sha256-<hex>.sig` tag beside the signed
// manifest, an OCI image manifest whose layers are signed payloads, each annotated with its
// signature. Building it (appending) and reading it with bounds.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/result.hpp"
#include "signing/transparency_log.hpp"

namespace karmor::signing {

inline constexpr const char* simple_signing_media_type = "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr const char* signature_annotation = "dev.cosignproject.cosign/signature";
// Keyless signatures: the PEM signing certificate, its chain (not trusted: the trusted root names
// the CAs) and the Rekor entry (SET and body) cosign stores beside the signature.
inline constexpr const char* certificate_annotation = "dev.sigstore.cosign/certificate";
inline constexpr const char* chain_annotation = "dev.sigstore.cosign/chain";
inline constexpr const char* rekor_bundle_annotation = "dev.sigstore.cosign/bundle";
// Cosign refuses .sig manifests with more layers than this; so does karmor.
inline constexpr std::size_t max_signature_layers = 1000;

// sha256-<hex>.sig: where cosign looks for the legacy signatures of `signed_digest`.
std::string legacy_signature_tag(const Digest& signed_digest);

struct BuiltBlob {
    Descriptor descriptor;
    std::string bytes;
};

struct LegacySignatureManifest {
    Manifest manifest;
    std::string bytes;
    BuiltBlob config;  // an image config, as cosign writes one (diff_ids = the payloads)
};

// The .sig manifest with one more layer: `payload` annotated with base64(`der_signature`).
// `existing` is the manifest at the tag now (its layers and annotations are kept), or
// std::nullopt when there is none.
LegacySignatureManifest append_legacy_signature(const std::optional<Manifest>& existing, const Descriptor& payload,
                                                const std::string& der_signature);

// One layer of a .sig manifest, checked: a simple-signing payload of at most
// max_payload_bytes with a canonical base64 signature. `problem` says why it cannot count.
struct LegacySignatureLayer {
    Descriptor payload;
    std::string der_signature;
    std::string certificate_der;          // keyless: from certificate_annotation
    std::vector<TlogEntry> tlog_entries;  // keyless: from rekor_bundle_annotation
    std::string problem;                  // empty when the layer can be verified
};

// The layers of a .sig manifest. The whole manifest is refused (an error of kind
// verification) when it is not an image manifest or has more than max_signature_layers layers.
Result<std::vector<LegacySignatureLayer>> read_legacy_signature_layers(const Manifest& manifest,
                                                                       const std::string& where);

}  // namespace karmor::signing
