#include "util/duration.hpp"

#include <string>

namespace karmor::util {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::chrono::milliseconds::rep unit_scale(std::string_view unit) {
    if (unit == "ms") return 1;
    if (unit == "s") return 1000;
    if (unit == "m") return 60'000;
    if (unit == "h") return 3'600'000;
    return 0;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view flag) {
    const std::string named = std::string(flag) + " " + std::string(text);
    const std::string hint = "write a positive duration like 500ms, 30s, 5m, 1h or 1h30m (ms, s, m, h)";
    const auto not_positive = [&] {
        return unexpected(Error(ErrorKind::usage, named + ": a duration must be positive", hint));
    };
    const auto too_long = [&] {
        return unexpected(Error(ErrorKind::usage, named + ": too long; the longest duration is 8760h (a year)", hint));
    };
    const auto not_a_duration = [&] { return unexpected(Error(ErrorKind::usage, named + ": not a duration", hint)); };
    if (text.empty()) return not_a_duration();
    std::string_view rest = text;
    bool negative = false;
    if (rest.front() == '-' || rest.front() == '+') {
        negative = rest.front() == '-';
        rest.remove_prefix(1);
        if (rest.empty()) return not_a_duration();
    }
    const auto limit = longest_duration.count();
    std::chrono::milliseconds::rep total = 0;
    bool overflow = false;
    const bool bare = !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
    while (!rest.empty()) {
        std::size_t digits = 0;
        while (digits < rest.size() && is_digit(rest[digits])) ++digits;
        if (digits == 0) return not_a_duration();
        std::size_t unit_end = digits;
        while (unit_end < rest.size() && !is_digit(rest[unit_end])) ++unit_end;
        const auto scale = bare ? 1000 : unit_scale(rest.substr(digits, unit_end - digits));
        if (scale == 0) return not_a_duration();
        // Saturates instead of wrapping: any piece beyond the limit makes the whole too long.
        std::chrono::milliseconds::rep value = 0;
        for (std::size_t i = 0; i < digits && !overflow; ++i) {
            value = value * 10 + (rest[i] - '0');
            overflow = value > limit;
        }
        if (!overflow) {
            overflow = value > (limit - total) / scale;
            if (!overflow) total += value * scale;
        }
        rest.remove_prefix(unit_end);
    }
    if (negative && (total > 0 || overflow)) return not_positive();
    if (overflow || total > limit) return too_long();
    if (total <= 0) return not_positive();
    return std::chrono::milliseconds(total);
}

}  // namespace karmor::util
