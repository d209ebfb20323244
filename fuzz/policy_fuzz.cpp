// Invariants: every policy that loads serializes to YAML and to JSON that load back to the same
// data (what push stores is what pull gives back); and, while both exist (issue 26), the
// event-driven path gives exactly what the tree path gives.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "karmor/policy.hpp"
#include "policy/tree_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const bool skip : {false, true}) {
        for (const auto as : {std::optional<karmor::PolicyFormat>(), std::optional(karmor::PolicyFormat::yaml),
                              std::optional(karmor::PolicyFormat::json)}) {
            karmor::LoadOptions options;
            options.skip_validation = skip;
            options.serialize_as = as;
            std::vector<karmor::Diagnostic> tree_problems, event_problems;
            const auto tree = karmor::policy::parse_policy_text_with_tree(text, "fuzz.yaml", options, tree_problems);
            const auto events = karmor::parse_policy_text(text, "fuzz.yaml", options, event_problems);
            const auto difference = karmor::policy::compare_paths(tree, tree_problems, events, event_problems);
            if (!difference.empty()) {
                std::fprintf(stderr, "%s\n", difference.c_str());
                std::abort();
            }
        }
    }
    std::vector<karmor::Diagnostic> problems;
    const auto policies = karmor::parse_policy_text(text, "fuzz.yaml", {}, problems);
    for (const auto& policy : policies) {
        for (const auto format : {karmor::PolicyFormat::yaml, karmor::PolicyFormat::json}) {
            const auto serialized = karmor::serialize_policy(policy, format);
            std::vector<karmor::Diagnostic> reparse_problems;
            const auto again = karmor::parse_policy_text(serialized, "reparsed", {}, reparse_problems);
            if (!reparse_problems.empty() || again.size() != 1) std::abort();
            if (again[0].document.dump() != policy.document.dump()) std::abort();
        }
    }
    return 0;
}
