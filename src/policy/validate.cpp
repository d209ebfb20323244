#include "policy/validate.hpp"

#include "policy/yaml_document.hpp"

namespace karmor::policy {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_dns1123_label_chars(std::string_view label) {
    if (label.empty() || label.size() > 63) return false;
    if (!is_lower_alnum(label.front()) || !is_lower_alnum(label.back())) return false;
    for (char c : label)
        if (!is_lower_alnum(c) && c != '-') return false;
    return true;
}

}  // namespace

bool is_dns1123_label(std::string_view name) { return is_dns1123_label_chars(name); }

bool is_dns1123_subdomain(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    if (!is_lower_alnum(name.front()) || !is_lower_alnum(name.back())) return false;
    for (char c : name)
        if (!is_lower_alnum(c) && c != '-' && c != '.') return false;
    return true;
}

void validate_policy_document(const YAML::Node& document, const SourcePosition& where,
                              std::vector<Diagnostic>& problems) {
    const auto metadata = document["metadata"];
    if (!metadata || metadata.IsNull()) {
        problems.push_back({position_of(document, where), "metadata", "required field is missing"});
        return;
    }
    if (!metadata.IsMap()) {
        problems.push_back({position_of(metadata, where), "metadata", "expected an object"});
        return;
    }
    const auto name = metadata["name"];
    if (!name || name.IsNull()) {
        problems.push_back({position_of(metadata, where), "metadata.name", "required field is missing"});
    } else if (!name.IsScalar() || !is_dns1123_subdomain(name.Scalar())) {
        problems.push_back({position_of(name, where), "metadata.name",
                            "\"" + (name.IsScalar() ? name.Scalar() : std::string("?")) +
                                "\" is not a valid name: use lowercase letters, digits, '-' and '.', "
                                "starting and ending with a letter or digit (DNS-1123 subdomain)"});
    }
    const auto ns = metadata["namespace"];
    if (ns && !ns.IsNull() && (!ns.IsScalar() || !is_dns1123_label(ns.Scalar()))) {
        problems.push_back({position_of(ns, where), "metadata.namespace",
                            "\"" + (ns.IsScalar() ? ns.Scalar() : std::string("?")) +
                                "\" is not a valid namespace (DNS-1123 label)"});
    }
}

}  // namespace karmor::policy
