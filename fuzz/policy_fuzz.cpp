// Invariant: every policy that loads serializes to YAML and to JSON that load back to the same data
// (what push stores is what pull gives back).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "karmor/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
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
