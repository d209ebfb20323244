#include "oci/reference_grammar.hpp"

#include <cstddef>

namespace karmor::oci::grammar {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c);
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Moves `at` past a run of characters `accepted`; true when the run is not empty.
template <typename Accepted>
bool skip_run(std::string_view text, std::size_t& at, Accepted accepted) {
    const std::size_t start = at;
    while (at < text.size() && accepted(text[at])) ++at;
    return at > start;
}

}  // namespace

bool is_path_component(std::string_view text) {
    std::size_t at = 0;
    if (!skip_run(text, at, is_lower_alnum)) return false;
    while (at < text.size()) {
        // One separator: ".", "_", "__" or a run of "-"; then letters or digits again.
        if (text[at] == '.') {
            ++at;
        } else if (text[at] == '_') {
            ++at;
            if (at < text.size() && text[at] == '_') ++at;
        } else if (text[at] == '-') {
            skip_run(text, at, [](char c) { return c == '-'; });
        } else {
            return false;
        }
        if (!skip_run(text, at, is_lower_alnum)) return false;
    }
    return true;
}

bool is_tag(std::string_view text) {
    if (text.empty() || text.size() > 128) return false;
    if (!is_alnum(text[0]) && text[0] != '_') return false;
    for (std::size_t i = 1; i < text.size(); ++i)
        if (!is_alnum(text[i]) && text[i] != '.' && text[i] != '_' && text[i] != '-') return false;
    return true;
}

bool is_registry_host(std::string_view text) {
    std::size_t at = 0;
    if (!text.empty() && text[0] == '[') {
        ++at;
        if (!skip_run(text, at, [](char c) { return is_hex(c) || c == ':' || c == '.'; })) return false;
        if (at >= text.size() || text[at] != ']') return false;
        ++at;
    } else {
        // Labels separated by single dots, each starting and ending with a letter or digit.
        while (true) {
            if (at >= text.size() || !is_alnum(text[at])) return false;
            skip_run(text, at, [](char c) { return is_alnum(c) || c == '-'; });
            if (text[at - 1] == '-') return false;
            if (at < text.size() && text[at] == '.') {
                ++at;
                continue;
            }
            break;
        }
    }
    if (at == text.size()) return true;
    if (text[at] != ':') return false;
    const std::size_t digits = text.size() - at - 1;
    return digits >= 1 && digits <= 5 && skip_run(text, ++at, is_digit) && at == text.size();
}

}  // namespace karmor::oci::grammar
