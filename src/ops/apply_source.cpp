#include "ops/apply_source.hpp"

#include <map>
#include <sstream>

#include "karmor/oci.hpp"

namespace karmor::ops {

Result<PulledPolicies> pull_for_apply(const PolicySource& source) {
    // Pull's path, into memory: by digest, verified before anything is read, every layer's
    // digest and size checked, every policy validated.
    std::ostringstream stream;
    PullOptions pull;
    pull.reference = source.reference;
    pull.layout = source.layout;
    pull.stream = &stream;
    pull.verify = source.verify;
    pull.load = source.load;
    pull.remote = source.remote;
    auto pulled = pull_policies(pull);
    if (!pulled) return unexpected(std::move(pulled).error());

    std::vector<Diagnostic> problems;
    LoadOptions load;
    load.limits = source.load.limits;
    load.skip_validation = true;  // validated by the pull; this only rebuilds the documents
    auto policies = parse_policy_text(stream.str(), pulled->location, load, problems);
    if (!problems.empty()) {
        Error error(ErrorKind::validation, pulled->location + ": the policies do not read back; nothing was sent");
        add_diagnostics(error, problems);
        return unexpected(std::move(error));
    }
    // Messages about a policy name its file, as `karmor oci pull` writes it.
    std::map<PolicyIdentity, std::string> files;
    for (const auto& summary : pulled->policies) files[summary.identity] = summary.file;
    for (auto& policy : policies) {
        if (const auto file = files.find(policy.identity); file != files.end()) {
            policy.origin.file = file->second;
            policy.origin.document = 1;
            policy.origin.line = 1;
            policy.origin.column = 1;
        }
    }
    PulledPolicies out;
    out.policies = std::move(policies);
    out.digest = pulled->manifest_digest;
    out.location = pulled->location;
    out.tag = source.layout ? source.layout->tag : (pulled->subject ? "" : source.reference.tag());
    out.signatures = std::move(pulled->signatures);
    return out;
}

Result<std::vector<Policy>> load_followed_directory(const std::filesystem::path& directory) {
    LoadOptions load;
    load.skip_validation = true;
    auto policies = load_policy_files({directory}, load);
    if (!policies) return unexpected(std::move(policies).error());
    for (auto& policy : *policies) policy.origin.file = std::filesystem::path(policy.origin.file).filename().string();
    return policies;
}

}  // namespace karmor::ops
