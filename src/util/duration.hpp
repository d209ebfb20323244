// Durations as flags spell them: 500ms, 30s, 5m, 1h, 1h30m, or a bare number of seconds.
#pragma once

#include <chrono>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::util {

// The longest duration any flag takes: a year. Longer ones are typos, and a year still fits
// every clock and timeout they are added to.
inline constexpr std::chrono::milliseconds longest_duration = std::chrono::hours(24 * 365);

// Parses `text` as the value of `flag` (named in the error). A duration is one or more
// NUMBER UNIT pieces (ms, s, m, h) or one bare number of seconds; it must be positive and at
// most longest_duration. Errors are of kind usage and say which of these rules `text` breaks.
Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view flag);

}  // namespace karmor::util
