#include "policy/scalars.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;

std::optional<bool> bool_word(std::string_view s) {
    static constexpr std::string_view truthy[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                  "True", "TRUE", "on",  "On",  "ON"};
    static constexpr std::string_view falsy[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                                 "False", "FALSE", "off", "Off", "OFF"};
    if (s.size() > 5) return std::nullopt;
    for (const auto word : truthy)
        if (s == word) return true;
    for (const auto word : falsy)
        if (s == word) return false;
    return std::nullopt;
}

bool is_digit_of(char c, int base) {
    switch (base) {
        case 2: return c == '0' || c == '1';
        case 8: return c >= '0' && c <= '7';
        case 10: return c >= '0' && c <= '9';
        default: return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}

// Whether text[from...] is one or more digits of `base` or underscores.
bool digits_or_underscores(std::string_view text, std::size_t from, int base) {
    if (from >= text.size()) return false;
    for (std::size_t i = from; i < text.size(); ++i)
        if (text[i] != '_' && !is_digit_of(text[i], base)) return false;
    return true;
}

// The YAML 1.1 integer syntax: [-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[1-9][0-9_]*|0).
// Matched by hand, not with std::regex: every plain scalar of every policy comes through here.
bool has_integer_syntax(std::string_view text) {
    std::size_t p = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    const auto rest = text.substr(p);
    if (rest.empty()) return false;
    if (rest.rfind("0b", 0) == 0) return digits_or_underscores(rest, 2, 2);
    if (rest.rfind("0x", 0) == 0) return digits_or_underscores(rest, 2, 16);
    if (rest[0] == '0') return rest.size() == 1 || digits_or_underscores(rest, rest[1] == 'o' ? 2 : 1, 8);
    return rest[0] >= '1' && rest[0] <= '9' && (rest.size() == 1 || digits_or_underscores(rest, 1, 10));
}

// The YAML 1.1 float syntax: [-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?
bool has_float_syntax(std::string_view text) {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::size_t p = 0;
    const std::size_t n = text.size();
    if (p < n && (text[p] == '-' || text[p] == '+')) ++p;
    if (p < n && text[p] == '.') {
        ++p;
        if (p >= n || !digit(text[p])) return false;
        while (p < n && digit(text[p])) ++p;
    } else if (p < n && digit(text[p])) {
        ++p;
        while (p < n && (digit(text[p]) || text[p] == '_')) ++p;
        if (p < n && text[p] == '.') {
            ++p;
            while (p < n && (digit(text[p]) || text[p] == '_')) ++p;
        }
    } else {
        return false;
    }
    if (p < n && (text[p] == 'e' || text[p] == 'E')) {
        ++p;
        if (p < n && (text[p] == '-' || text[p] == '+')) ++p;
        if (p >= n || !digit(text[p])) return false;
        while (p < n && digit(text[p])) ++p;
    }
    return p == n;
}

std::optional<json> integer_value(std::string_view text) {
    if (!has_integer_syntax(text)) return std::nullopt;
    std::string digits;
    for (char c : text)
        if (c != '_') digits.push_back(c);
    bool negative = false;
    std::size_t pos = 0;
    if (digits[pos] == '-' || digits[pos] == '+') negative = digits[pos++] == '-';
    int base = 10;
    if (digits.size() - pos > 1 && digits[pos] == '0') {
        const char marker = digits[pos + 1];
        if (marker == 'x')
            base = 16, pos += 2;
        else if (marker == 'b')
            base = 2, pos += 2;
        else if (marker == 'o')
            base = 8, pos += 2;
        else
            base = 8, pos += 1;
    }
    std::uint64_t magnitude = 0;
    const auto* first = digits.data() + pos;
    const auto* last = digits.data() + digits.size();
    if (first == last) return std::nullopt;
    auto [end, ec] = std::from_chars(first, last, magnitude, base);
    if (ec != std::errc() || end != last) return std::nullopt;
    if (!negative) {
        if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return json(static_cast<std::int64_t>(magnitude));
        return json(magnitude);
    }
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1)
        return json(static_cast<std::int64_t>(0 - magnitude));
    return std::nullopt;
}

std::optional<json> float_value(std::string_view text) {
    if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf")
        return json(std::numeric_limits<double>::infinity());
    if (text == "-.inf" || text == "-.Inf" || text == "-.INF") return json(-std::numeric_limits<double>::infinity());
    if (text == ".nan" || text == ".NaN" || text == ".NAN") return json(std::nan(""));
    if (!has_float_syntax(text)) return std::nullopt;
    std::string digits;
    for (char c : text)
        if (c != '_') digits.push_back(c);
    try {
        return json(std::stod(digits));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

// No null or boolean word is longer than five characters, and every number starts with a
// digit, a sign or a dot.
// The same decisions as resolve_plain_scalar, without building the string it would return:
// this runs for every key and string value written.
bool resolves_to_string(std::string_view text) {
    const char first = text.empty() ? '\0' : text.front();
    const bool may_be_number = (first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.';
    if (text.size() > 5 && !may_be_number) return true;
    if (is_null_word(text) || bool_word(text)) return false;
    return !(may_be_number && (integer_value(text) || float_value(text)));
}

json resolve_plain_scalar(std::string_view text) {
    if (is_null_word(text)) return nullptr;
    if (auto b = bool_word(text)) return *b;
    const char first = text.front();
    if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.') {
        if (auto i = integer_value(text)) return *i;
        if (auto f = float_value(text)) return *f;
    }
    return std::string(text);
}

json scalar_value(const YamlScalar& scalar) {
    if (scalar.null) return nullptr;
    return scalar.resolvable ? resolve_plain_scalar(scalar.text) : json(std::string(scalar.text));
}

bool scalar_is_string(const YamlScalar& scalar) {
    // Quoted, !!str and local tags are strings.
    return !scalar.null && (!scalar.resolvable || resolves_to_string(scalar.text));
}

std::string escape_unsafe_characters(std::string text) {
    std::string out;
    std::size_t copied = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + length > text.size()) break;  // not UTF-8: left as it is
        std::uint32_t code = c;
        if (length == 2) code = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
        if (length == 3)
            code = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
                   (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        // DEL and the C1 controls are not printable for YAML readers; NEL, LS and PS are line
        // breaks that a quoted scalar folds; U+FEFF is a byte order mark to them.
        const bool unsafe = code == 0x7F || (code >= 0x80 && code <= 0x9F) || code == 0x2028 || code == 0x2029 ||
                            code == 0xFEFF || code == 0xFFFE || code == 0xFFFF;
        if (unsafe) {
            if (out.empty()) out.reserve(text.size() + 16);
            out.append(text, copied, i - copied);
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(code));
            out += escape;
            copied = i + length;
        }
        i += length;
    }
    if (copied == 0) return text;
    out.append(text, copied, std::string::npos);
    return out;
}

}  // namespace karmor::policy
