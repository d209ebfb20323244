// The tree-building path of policy loading, kept until the event-driven one replaces it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karmor/policy.hpp"

namespace karmor::policy {

std::vector<Policy> parse_policy_text_with_tree(std::string_view text, const std::string& source_name,
                                                const LoadOptions& options, std::vector<Diagnostic>& problems);

// KARMOR_POLICY_DIFFERENTIAL=1 in the environment: every parse_policy_text also runs the tree
// path and aborts, printing both results, when they differ in any policy or problem.
bool differential_check_enabled();
void check_against_tree_path(std::string_view text, const std::string& source_name, const LoadOptions& options,
                             const std::vector<Policy>& policies, const std::vector<Diagnostic>& problems);

// The two paths' results side by side, "" when they agree.
std::string compare_paths(const std::vector<Policy>& tree_policies, const std::vector<Diagnostic>& tree_problems,
                          const std::vector<Policy>& policies, const std::vector<Diagnostic>& problems);

}  // namespace karmor::policy
