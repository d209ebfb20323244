#include "util/time.hpp"

#include <ctime>

namespace karmor::util {

std::optional<std::int64_t> parse_rfc3339_utc(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fraction]Z
    if (text.size() < 20 || text.size() > 40 || text.back() != 'Z') return std::nullopt;
    const auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
        int value = 0;
        for (std::size_t i = at; i < at + count; ++i) {
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
            value = value * 10 + (text[i] - '0');
        }
        return value;
    };
    if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
               minute = digits(14, 2), second = digits(17, 2);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    if (text.size() > 20) {
        if (text[19] != '.' || text.size() == 21) return std::nullopt;
        for (std::size_t i = 20; i + 1 < text.size(); ++i)
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string format_rfc3339_utc(std::int64_t time) {
    const auto seconds = static_cast<std::time_t>(time);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

}  // namespace karmor::util
