// Content for tests of --attach: a small container image and an SBOM-style referrer, pushed
// with the registry client the way other tools would.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "oci/manifest_json.hpp"
#include "oci/registry_client.hpp"

namespace karmor::testing {

inline Descriptor describe_bytes(const std::string& media_type, const std::string& bytes) {
    return Descriptor{media_type,  Digest::sha256_of(bytes), static_cast<std::int64_t>(bytes.size()), "", {},
                      std::nullopt};
}

// Pushes a one-layer image under `tag` and returns its descriptor (the subject to attach to).
inline Descriptor push_test_image(oci::RegistryClient& client, const std::string& tag, const std::string& label) {
    const std::string config = R"({"architecture":"amd64","os":"linux","config":{"Labels":{"name":")" + label +
                               R"("}},"rootfs":{"type":"layers","diff_ids":[]}})";
    const std::string layer = "layer of " + label;
    Manifest image;
    image.media_type = media_type::oci_manifest;
    image.config = describe_bytes(media_type::oci_image_config, config);
    image.layers = {describe_bytes("application/vnd.oci.image.layer.v1.tar", layer)};
    EXPECT_TRUE(client.upload_blob(*image.config, config));
    EXPECT_TRUE(client.upload_blob(image.layers[0], layer));
    const auto bytes = oci::serialize_manifest(image);
    auto digest = client.put_manifest(tag, media_type::oci_manifest, bytes);
    EXPECT_TRUE(digest) << digest.error().message;
    return describe_bytes(media_type::oci_manifest, bytes);
}

// An SBOM attached to `subject` by another tool (untagged); returns the manifest's bytes.
inline std::string push_test_sbom(oci::RegistryClient& client, const Descriptor& subject, const std::string& created) {
    const std::string sbom = R"({"spdxVersion":"SPDX-2.3","name":"test"})";
    const std::string empty = "{}";
    Manifest m;
    m.media_type = media_type::oci_manifest;
    m.artifact_type = "application/spdx+json";
    m.config = describe_bytes(media_type::oci_empty, empty);
    m.layers = {describe_bytes("application/spdx+json", sbom)};
    m.subject = subject;
    m.annotations[annotation::created] = created;
    EXPECT_TRUE(client.upload_blob(*m.config, empty));
    EXPECT_TRUE(client.upload_blob(m.layers[0], sbom));
    const auto bytes = oci::serialize_manifest(m);
    EXPECT_TRUE(client.put_manifest(Digest::sha256_of(bytes).str(), media_type::oci_manifest, bytes));
    return bytes;
}

}  // namespace karmor::testing
