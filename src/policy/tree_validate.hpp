// Checks one policy document the way `kubectl apply --validate=strict` would (SPEC §5).
#pragma once

#include <vector>

#include "karmor/policy.hpp"
#include "policy/names.hpp"
#include "policy/yaml_tree.hpp"

namespace karmor::policy {

// `document` is the parsed YAML node of a KubeArmor kind (null values are still in it; they
// are ignored, as the API server prunes them). Every problem is appended to `problems`, each
// with the position of the offending node (the key of an unknown field, the value of a bad
// one), its field path and what was expected.
void validate_policy_document(const YamlNode& document, const SourcePosition& where, std::vector<Diagnostic>& problems);

}  // namespace karmor::policy
