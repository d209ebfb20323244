// Checks one policy document the way `kubectl apply --validate=strict` would (SPEC §5).
#pragma once

#include <yaml-cpp/yaml.h>

#include <vector>

#include "karmor/policy.hpp"

namespace karmor::policy {

// `document` is the parsed YAML node (null values are still in it; they are ignored, as the
// API server prunes them). Every problem is appended to `problems`, each with the position
// of the offending node and its field path.
void validate_policy_document(const YAML::Node& document, const SourcePosition& where,
                              std::vector<Diagnostic>& problems);

// DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 characters,
// starting and ending with an alphanumeric.
bool is_dns1123_subdomain(std::string_view name);
// DNS-1123 label: like a subdomain without '.', at most 63 characters.
bool is_dns1123_label(std::string_view name);

}  // namespace karmor::policy
