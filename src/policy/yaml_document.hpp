// YAML nodes to JSON values, resolved as Kubernetes resolves them (go-yaml v2, YAML 1.1
// scalars), and JSON values back to YAML text that any YAML 1.1 or 1.2 reader reads alike.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/scalars.hpp"
#include "policy/yaml_tree.hpp"

namespace karmor::policy {

// Converts `node`, dropping null mapping values (the API server prunes them). Duplicate
// mapping keys and non-scalar keys are reported against `where`.
nlohmann::ordered_json yaml_to_json(const YamlNode& node, const SourcePosition& where,
                                    std::vector<Diagnostic>& problems);

// The JSON value of a scalar node: quoted scalars are strings, plain ones are resolved.
nlohmann::ordered_json scalar_value(const YamlNode& scalar);

// Whether scalar_value(scalar) is a string, without building it: the validator asks this of
// every string field.
bool scalar_is_string(const YamlNode& scalar);

// Block-style YAML ending in a newline, keys in the document's order.
std::string emit_yaml(const nlohmann::ordered_json& value);

SourcePosition position_of(const YamlNode& node, const SourcePosition& document);

}  // namespace karmor::policy
