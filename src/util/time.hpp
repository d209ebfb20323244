// Times as Sigstore's JSON writes them: RFC 3339 in UTC, seconds since the epoch in memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace karmor::util {

// "2021-01-12T11:53:27Z", with an optional fraction ("….000Z", dropped) as protobuf JSON writes
// it; no other offset than Z.
std::optional<std::int64_t> parse_rfc3339_utc(std::string_view text);
std::string format_rfc3339_utc(std::int64_t time);

}  // namespace karmor::util
