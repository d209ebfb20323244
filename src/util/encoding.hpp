// Small text encodings: base64 (registry auth, Sigstore material), hex (digests, log IDs),
// percent-encoding (query values).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace karmor::util {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string url_encode(std::string_view text);
// Lower-case hex of raw bytes, and back; hex_decode takes lower-case digits only, so each value has
// one spelling.
std::string to_hex(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);

}  // namespace karmor::util
