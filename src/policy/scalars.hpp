// YAML scalars as Kubernetes resolves them (go-yaml v2, YAML 1.1): the JSON value a plain scalar
// stands for, and the escapes that keep a string the same when a YAML reader reads it back.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "policy/yaml_events.hpp"

namespace karmor::policy {

// The JSON value that a plain (unquoted, untagged) YAML scalar resolves to.
nlohmann::ordered_json resolve_plain_scalar(std::string_view text);

// resolve_plain_scalar(text).is_string(), without building the value: asked of every string
// the validator checks and the serializer writes.
bool resolves_to_string(std::string_view text);

// The JSON value of a scalar: null for nulls, quoted scalars are strings, plain ones resolved.
nlohmann::ordered_json scalar_value(const YamlScalar& scalar);

// Whether scalar_value(scalar) is a string, without building it.
bool scalar_is_string(const YamlScalar& scalar);

// `text` (a JSON string literal or JSON document) with the characters that YAML readers
// reject or fold inside quoted scalars written as \uXXXX escapes: DEL, the C1 controls,
// U+2028, U+2029, U+FEFF, U+FFFE and U+FFFF. Valid JSON stays valid JSON with the same value.
std::string escape_unsafe_characters(std::string text);

}  // namespace karmor::policy
