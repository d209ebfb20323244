// Invariants: every policy that loads serializes to YAML and to JSON that load back to the same
// data (what push stores is what pull gives back); a text loaded straight into YAML or JSON text
// gives the same verdicts and the same bytes as the document loaded and then serialized, and
// pull's way of loading (parse_policy_text_taking) the same again; and the loader never
// crashes, hangs or leaks, with or without validation.
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

// parse_policy_text_taking gives what parse_policy_text gives, and takes the text only as the
// serialized text of its one policy.
void check_taking(std::string_view text, const karmor::LoadOptions& options, const Loaded& plain) {
    std::string copy(text);
    std::vector<karmor::Diagnostic> problems;
    const auto taken = karmor::parse_policy_text_taking(copy, "fuzz.yaml", options, problems);
    std::string taken_problems;
    for (const auto& problem : problems) taken_problems += problem.str() + "\n";
    if (taken_problems != plain.problems || taken.size() != plain.policies.size()) std::abort();
    for (std::size_t i = 0; i < taken.size(); ++i)
        if (taken[i].serialized != plain.policies[i].serialized) std::abort();
    if (copy != text && !(copy.empty() && taken.size() == 1 && taken[0].serialized == text)) std::abort();
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
        if (format == PolicyFormat::yaml) check_taking(text, options, serialized);
        for (std::size_t i = 0; i < documents.policies.size(); ++i) {
            const auto& policy = documents.policies[i];
            const auto written = karmor::serialize_policy(policy, format);
            if (serialized.policies[i].serialized != written) std::abort();
            if (serialized.policies[i].identity.str() != policy.identity.str()) std::abort();
            if (format == PolicyFormat::yaml) {  // what push wrote, as pull reads it: taken, not copied
                std::string layer = written;
                std::vector<karmor::Diagnostic> problems;
                const auto taken = karmor::parse_policy_text_taking(layer, "layer", options, problems);
                if (!layer.empty() || taken.size() != 1 || taken[0].serialized != written) std::abort();
            }
            const auto again = load(written, {});
            if (!again.problems.empty() || again.policies.size() != 1) std::abort();
            if (again.policies[0].document.dump() != policy.document.dump()) std::abort();
        }
    }
    return 0;
}
