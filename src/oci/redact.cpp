#include "oci/redact.hpp"

#include <array>
#include <cctype>

namespace karmor::oci {
namespace {

constexpr std::string_view redacted = "REDACTED";

bool looks_secret(std::string_view name) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    constexpr std::array<std::string_view, 8> markers = {"sig",      "token",  "credential", "key",
                                                         "password", "secret", "auth",       "code"};
    for (const auto marker : markers)
        if (lower.find(marker) != std::string::npos) return true;
    return false;
}

// Where a URL (or its part) ends inside a line of text.
bool ends_url(char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' ||
           c == ')' || c == ']' || c == ',';
}

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// SCHEME://USER:PASSWORD@HOST → SCHEME://USER:REDACTED@HOST (a lone USER@ may be a token).
std::string without_userinfo(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
        const auto scheme = text.find("://", pos);
        if (scheme == std::string_view::npos) break;
        const auto authority = scheme + 3;
        auto end = authority;
        while (end < text.size() && !ends_url(text[end]) && text[end] != '/' && text[end] != '?' && text[end] != '#')
            ++end;
        const auto at = text.substr(authority, end - authority).rfind('@');
        out.append(text.substr(pos, authority - pos));
        if (at != std::string_view::npos) {
            const auto userinfo = text.substr(authority, at);
            const auto colon = userinfo.find(':');
            out.append(colon == std::string_view::npos ? redacted : userinfo.substr(0, colon + 1));
            if (colon != std::string_view::npos) out.append(redacted);
            pos = authority + at;  // from the '@'
        } else {
            pos = authority;
        }
    }
    out.append(text.substr(pos));
    return out;
}

}  // namespace

std::string redact_text(std::string_view input) {
    const std::string text = without_userinfo(input);
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        out.push_back(c);
        ++i;
        if (c != '?' && c != '&' && c != ';') continue;
        // NAME=VALUE after a query separator.
        auto name_end = i;
        while (name_end < text.size() && is_name_char(text[name_end])) ++name_end;
        if (name_end == i || name_end >= text.size() || text[name_end] != '=') continue;
        const auto name = std::string_view(text).substr(i, name_end - i);
        if (!looks_secret(name)) continue;
        auto value_end = name_end + 1;
        while (value_end < text.size() && text[value_end] != '&' && text[value_end] != '#' &&
               !ends_url(text[value_end]))
            ++value_end;
        out.append(name);
        out.push_back('=');
        out.append(redacted);
        i = value_end;
    }
    return out;
}

std::string redact_url(const std::string& url) {
    return redact_text(url);
}

}  // namespace karmor::oci
