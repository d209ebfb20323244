// The pieces of the distribution reference grammar (SPEC §3), matched by hand: compiling them
// as std::regex took more of a one-policy pull's CPU than its whole policy (docs/benchmarks.md).
// Each function says which expression it matches in full; tests/unit/reference_test.cpp checks
// them against std::regex on the same expressions.
#pragma once

#include <string_view>

namespace karmor::oci::grammar {

// [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
bool is_path_component(std::string_view text);
// [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
bool is_tag(std::string_view text);
// (?:\[[0-9A-Fa-f:.]+\]|LABEL(?:\.LABEL)*)(?::[0-9]{1,5})?
// with LABEL = [A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?
bool is_registry_host(std::string_view text);

}  // namespace karmor::oci::grammar
