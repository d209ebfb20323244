// The tree-building path of policy loading, kept until the event-driven one replaces it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/yaml_events.hpp"

namespace karmor::policy {

// What one path reads of a text: the policies, the syntax error that ended the stream early,
// or that it stopped at --max-policies documents (that problem is then in `problems`).
struct DocumentsRead {
    std::vector<Policy> policies;
    std::optional<YamlSyntaxError> syntax_error;
    bool too_many = false;
};

// The documents of a text that passed the UTF-8 check and KubectlText, by the tree path.
DocumentsRead read_documents_with_tree(std::string_view text, const std::string& source_name,
                                       const LoadOptions& options, std::vector<Diagnostic>& problems);

// parse_policy_text by the tree path.
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
