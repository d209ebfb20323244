#include "policy/names.hpp"

#include <string>

namespace karmor::policy {
namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool is_dns1123_label_part(std::string_view label) {
    if (label.empty() || !is_lower_alnum(label.front()) || !is_lower_alnum(label.back())) return false;
    for (char c : label)
        if (!is_lower_alnum(c) && c != '-') return false;
    return true;
}

}  // namespace

bool is_dns1123_label(std::string_view name) {
    return name.size() <= 63 && is_dns1123_label_part(name);
}

bool is_namespace_field(std::string_view name) {
    return name.empty() || is_dns1123_label(name);
}

bool is_dns1123_subdomain(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t start = 0;
    while (true) {
        const auto dot = name.find('.', start);
        if (!is_dns1123_label_part(name.substr(start, dot - start))) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

bool is_label_value(std::string_view value) {
    if (value.empty()) return true;
    if (value.size() > 63 || !is_alnum(value.front()) || !is_alnum(value.back())) return false;
    for (char c : value)
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

bool is_qualified_name(std::string_view name) {
    const auto slash = name.find('/');
    if (slash != std::string_view::npos) {
        if (!is_dns1123_subdomain(name.substr(0, slash))) return false;
        name = name.substr(slash + 1);
    }
    return !name.empty() && is_label_value(name);
}

bool is_annotation_key(std::string_view key) {
    std::string lowered(key);
    for (auto& c : lowered)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return is_qualified_name(lowered);
}

}  // namespace karmor::policy
