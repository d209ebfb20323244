// Invariants: every policy that loads serializes to YAML and to JSON that load back to the same
// data (what push stores is what pull gives back); a text loaded straight into YAML or JSON text
// gives the same verdicts and the same bytes as the document loaded and then serialized; and the
// loader never crashes, hangs or leaks, with or without validation.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/policy.hpp"

namespace {

using karmor::PolicyFormat;

struct Loaded {
    std::vector<karmor::Policy> policies;
    std::string problems;  // every problem in full
};

Loaded load(std::string_view text, const karmor::LoadOptions& options) {
    std::vector<karmor::Diagnostic> problems;
    Loaded out;
    out.policies = karmor::parse_policy_text(text, "fuzz.yaml", options, problems);
    for (const auto& problem : problems) out.problems += problem.str() + "\n";
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const auto as : {std::optional<PolicyFormat>(), std::optional(PolicyFormat::yaml)}) {
        karmor::LoadOptions identity_only;
        identity_only.skip_validation = true;
        identity_only.serialize_as = as;
        (void)load(text, identity_only);
    }

    const auto documents = load(text, {});
    for (const auto format : {PolicyFormat::yaml, PolicyFormat::json}) {
        karmor::LoadOptions options;
        options.serialize_as = format;
        const auto serialized = load(text, options);
        if (serialized.problems != documents.problems || serialized.policies.size() != documents.policies.size())
            std::abort();
        for (std::size_t i = 0; i < documents.policies.size(); ++i) {
            const auto& policy = documents.policies[i];
            const auto written = karmor::serialize_policy(policy, format);
            if (serialized.policies[i].serialized != written) std::abort();
            if (serialized.policies[i].identity.str() != policy.identity.str()) std::abort();
            const auto again = load(written, {});
            if (!again.problems.empty() || again.policies.size() != 1) std::abort();
            if (again.policies[0].document.dump() != policy.document.dump()) std::abort();
        }
    }
    return 0;
}
