// The legacy `.sig` manifest of cosign (SPEC §9): appending a signature, reading the layers.
#include "signing/legacy_signatures.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "oci/manifest_json.hpp"
#include "signing/simple_signing.hpp"
#include "signing/strict_json.hpp"
#include "util/encoding.hpp"

namespace karmor::signing {
namespace {

// What go-containerregistry's empty image config becomes once layers are appended (cosign
// builds the .sig image that way): zero times, one history entry and one diff_id per layer.
// Verifiers read the layers, not this config; it is written so that image tools see a
// well-formed image.
std::string signature_image_config(const std::vector<Descriptor>& layers) {
    constexpr const char* zero_time = "0001-01-01T00:00:00Z";
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    config["architecture"] = "";
    config["created"] = zero_time;
    auto history = nlohmann::ordered_json::array();
    auto diff_ids = nlohmann::ordered_json::array();
    for (const auto& layer : layers) {
        history.push_back({{"created", zero_time}});
        // The payloads are stored uncompressed: the diff_id is the layer digest.
        diff_ids.push_back(layer.digest.str());
    }
    if (!history.empty()) config["history"] = std::move(history);
    config["os"] = "";
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", std::move(diff_ids)}};
    config["config"] = nlohmann::ordered_json::object();
    return config.dump();
}

// The DER of the one PEM certificate in `pem`, or empty.
std::string single_pem_certificate(const std::string& pem) {
    if (pem.size() > 2 * max_certificate_bytes) return {};
    return pem_certificate_der(pem);
}

void read_keyless_annotations(const Descriptor& descriptor, LegacySignatureLayer& layer) {
    const auto certificate = descriptor.annotations.find(certificate_annotation);
    if (certificate == descriptor.annotations.end()) return;
    layer.certificate_der = single_pem_certificate(certificate->second);
    if (layer.certificate_der.empty()) {
        layer.problem = "the " + std::string(certificate_annotation) + " annotation of layer " +
                        descriptor.digest.str() + " is not a PEM certificate";
        return;
    }
    const auto bundle = descriptor.annotations.find(rekor_bundle_annotation);
    if (bundle == descriptor.annotations.end()) return;
    auto entry = parse_cosign_bundle_annotation(bundle->second);
    if (!entry) {
        layer.problem = entry.error().message;
        return;
    }
    layer.tlog_entries.push_back(std::move(*entry));
}

}  // namespace

std::string legacy_signature_tag(const Digest& signed_digest) {
    return signed_digest.algorithm() + "-" + signed_digest.hex() + ".sig";
}

LegacySignatureManifest append_legacy_signature(const std::optional<Manifest>& existing, const Descriptor& payload,
                                                const std::string& der_signature) {
    LegacySignatureManifest out;
    if (existing) {
        out.manifest = *existing;
    } else {
        out.manifest.schema_version = 2;
    }
    out.manifest.media_type = media_type::oci_manifest;
    Descriptor layer = payload;
    layer.media_type = simple_signing_media_type;
    layer.annotations = {{signature_annotation, util::base64_encode(der_signature)}};
    out.manifest.layers.push_back(std::move(layer));

    out.config.bytes = signature_image_config(out.manifest.layers);
    out.config.descriptor.media_type = media_type::oci_image_config;
    out.config.descriptor.digest = Digest::sha256_of(out.config.bytes);
    out.config.descriptor.size = static_cast<std::int64_t>(out.config.bytes.size());
    out.manifest.config = out.config.descriptor;
    out.bytes = oci::serialize_manifest(out.manifest);
    return out;
}

Result<std::vector<LegacySignatureLayer>> read_legacy_signature_layers(const Manifest& manifest,
                                                                       const std::string& where) {
    if (manifest.is_index())
        return unexpected(Error(ErrorKind::verification, where + " is an image index, not a signature manifest"));
    if (manifest.layers.size() > max_signature_layers)
        return unexpected(Error(ErrorKind::verification,
                                where + " has " + std::to_string(manifest.layers.size()) + " layers, more than the " +
                                    std::to_string(max_signature_layers) +
                                    " a signature manifest may have; none of them is read",
                                "the signature tag was tampered with or grew without bound; delete it and sign again"));
    std::vector<LegacySignatureLayer> layers;
    layers.reserve(manifest.layers.size());
    for (const auto& descriptor : manifest.layers) {
        LegacySignatureLayer layer;
        layer.payload = descriptor;
        const auto annotation = descriptor.annotations.find(signature_annotation);
        if (descriptor.media_type != simple_signing_media_type) {
            layer.problem = "layer " + descriptor.digest.str() + " has media type " + descriptor.media_type + ", not " +
                            simple_signing_media_type;
        } else if (descriptor.size < 0 || static_cast<std::uint64_t>(descriptor.size) > max_payload_bytes) {
            layer.problem = "layer " + descriptor.digest.str() + " is " + std::to_string(descriptor.size) +
                            " bytes, more than the " + std::to_string(max_payload_bytes) + " a payload may have";
        } else if (annotation == descriptor.annotations.end()) {
            layer.problem = "layer " + descriptor.digest.str() + " has no " + signature_annotation + " annotation";
        } else if (auto der = decode_canonical_base64(annotation->second); !der) {
            layer.problem = "the signature of layer " + descriptor.digest.str() + " is not base64";
        } else {
            layer.der_signature = std::move(*der);
            read_keyless_annotations(descriptor, layer);
        }
        layers.push_back(std::move(layer));
    }
    return layers;
}

}  // namespace karmor::signing
