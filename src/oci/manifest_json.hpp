// JSON forms of descriptors, manifests and indexes (OCI image spec).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "karmor/oci_types.hpp"
#include "karmor/result.hpp"

namespace karmor::oci {

nlohmann::ordered_json descriptor_to_json(const Descriptor& descriptor);
Result<Descriptor> descriptor_from_json(const nlohmann::json& value, const std::string& where);

// The bytes to push: fields in the spec's order, compact.
std::string serialize_manifest(const Manifest& manifest);

// Reads an image manifest or an image index. `media_type_header` is the Content-Type the
// registry sent, used when the document has no mediaType field.
Result<Manifest> parse_manifest(std::string_view bytes, const std::string& media_type_header, const std::string& where);

}  // namespace karmor::oci
