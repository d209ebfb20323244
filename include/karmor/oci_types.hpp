// OCI image-spec value types and the media types of the KubeArmor artifact (SPEC §4).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "karmor/digest.hpp"

namespace karmor {

namespace media_type {
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* oci_image_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* docker_image_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* oci_empty = "application/vnd.oci.empty.v1+json";
inline constexpr const char* helm_config = "application/vnd.cncf.helm.config.v1+json";

inline constexpr const char* kubearmor_config = "application/vnd.cncf.kubearmor.config.v1+json";
inline constexpr const char* kubearmor_layer_yaml = "application/vnd.cncf.kubearmor.policy.layer.v1.yaml";
inline constexpr const char* kubearmor_layer_json = "application/vnd.cncf.kubearmor.policy.layer.v1.json";
inline constexpr const char* kubearmor_layer_tar_gzip = "application/vnd.cncf.kubearmor.policy.layer.v1.tar+gzip";
}  // namespace media_type

namespace annotation {
inline constexpr const char* title = "org.opencontainers.image.title";
inline constexpr const char* created = "org.opencontainers.image.created";
inline constexpr const char* ref_name = "org.opencontainers.image.ref.name";
}  // namespace annotation

struct Descriptor {
    std::string media_type;
    Digest digest;
    std::int64_t size = 0;
    std::string artifact_type;  // empty when absent
    std::map<std::string, std::string> annotations;
    std::optional<std::string> platform_json;  // kept verbatim for index entries

    friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

// An image manifest or an image index: `layers` is used by the former, `manifests` by the
// latter. Unknown fields of a manifest we read are not kept; manifests we write are ours.
struct Manifest {
    int schema_version = 2;
    std::string media_type;
    std::string artifact_type;
    std::optional<Descriptor> config;
    std::vector<Descriptor> layers;
    std::vector<Descriptor> manifests;
    std::optional<Descriptor> subject;
    std::map<std::string, std::string> annotations;

    bool is_index() const;
};

}  // namespace karmor
