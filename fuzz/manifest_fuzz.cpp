// Invariant: a manifest that parses serializes to bytes that parse to the same manifest.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/manifest_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto manifest = karmor::oci::parse_manifest(bytes, "", "fuzz");
    if (!manifest) return 0;
    const auto serialized = karmor::oci::serialize_manifest(*manifest);
    auto again = karmor::oci::parse_manifest(serialized, "", "fuzz");
    if (!again || karmor::oci::serialize_manifest(*again) != serialized) std::abort();
    return 0;
}
