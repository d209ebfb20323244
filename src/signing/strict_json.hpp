// Strict JSON reading for signed documents: one meaning per byte string (no duplicate keys,
// bounded size and depth), so that karmor and other verifiers cannot read different claims
// from the same signed bytes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::signing {

// Parses `bytes` as one JSON value. Refuses more than `max_bytes`, nesting deeper than
// `max_depth`, and an object that names a key twice (encoding/json and nlohmann keep the last
// one silently; a signed payload must not have two readings). Errors are of kind verification
// and name `what`.
Result<nlohmann::json> parse_strict_json(std::string_view bytes, std::size_t max_bytes, const std::string& what,
                                         int max_depth = 16);

// An error when `object` has a key outside `allowed` (unknown fields are refused, SPEC §9).
Result<void> require_only_fields(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                                 const std::string& what);

// The string at `key`, or an error naming `what` when it is missing or not a string.
Result<std::string> required_string(const nlohmann::json& object, const char* key, const std::string& what);

// Base64 (RFC 4648 standard alphabet, padded) and nothing else: no whitespace, no other
// spelling of the same bytes. std::nullopt for anything else.
std::optional<std::string> decode_canonical_base64(std::string_view text);

}  // namespace karmor::signing
