// Small text encodings used by the registry client and the credential store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace karmor::util {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string url_encode(std::string_view text);

}  // namespace karmor::util
