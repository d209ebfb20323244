// diff (SPEC §11): two sets of policies, each from files or pulled from a reference, matched
// by identity and compared in canonical form.
#include <map>
#include <sstream>

#include "karmor/moving.hpp"
#include "karmor/oci.hpp"
#include "moving/line_diff.hpp"

namespace karmor {
namespace {

// Keys sorted at every level: nlohmann::json keeps objects in a std::map.
nlohmann::ordered_json sorted(const nlohmann::ordered_json& document) {
    return nlohmann::ordered_json::parse(nlohmann::json::parse(document.dump()).dump());
}

// The loader speaks for push ("nothing was pushed", "fix the policies"); a diff pushes nothing
// and only reads: its messages say so (issue 22).
Error for_diff(Error error, const std::string& side) {
    constexpr std::string_view pushed = "; nothing was pushed";
    if (const auto at = error.message.find(pushed); at != std::string::npos) error.message.erase(at, pushed.size());
    error.message = "cannot read side " + side + ": " + error.message;
    if (error.kind != ErrorKind::cancelled)
        error.hint = "diff compares KubeArmor policies: name files or directories that hold them (each needs "
                     "apiVersion, kind and metadata.name), or a reference";
    return error;
}

Result<std::vector<Policy>> load_side(const PolicySetSource& side, bool recursive) {
    LoadOptions load;
    load.recursive = recursive;
    // A diff shows what is written, valid or not: only what identifies a policy is required.
    load.skip_validation = true;
    std::vector<Policy> policies;
    std::vector<Diagnostic> problems;
    if (!side.files.empty()) {
        auto loaded = load_policy_files(side.files, load);
        if (!loaded) return unexpected(for_diff(std::move(loaded).error(), side.name));
        policies = std::move(*loaded);
    } else {
        // Pull checks digests and validates; the YAML stream it writes is then parsed like a file.
        std::ostringstream stream;
        PullOptions pull;
        pull.reference = side.reference;
        pull.layout = side.layout;
        pull.stream = &stream;
        pull.remote = side.remote;
        auto pulled = pull_policies(pull);
        if (!pulled) return unexpected(std::move(pulled).error());
        policies = parse_policy_text(stream.str(), side.name, load, problems);
    }
    find_duplicate_policies(policies, problems);
    if (!problems.empty()) {
        Error error(ErrorKind::validation,
                    side.name + ": " + std::to_string(problems.size()) +
                        (problems.size() == 1 ? " problem" : " problems"),
                    "fix the policies, then compare again");
        for (const auto& p : problems) error.details.push_back(p.str());
        return unexpected(std::move(error));
    }
    return policies;
}

}  // namespace

std::string canonical_policy_yaml(const Policy& policy) {
    if (policy.document.is_null() && !policy.serialized.empty()) {
        auto document = nlohmann::ordered_json::parse(policy.serialized, nullptr, false);
        if (!document.is_discarded()) return to_yaml(sorted(document));
        return policy.serialized;
    }
    return to_yaml(sorted(policy.document));
}

Result<DiffResult> diff_policies(const DiffOptions& options) {
    auto before = load_side(options.before, options.recursive);
    if (!before) return unexpected(std::move(before).error());
    auto after = load_side(options.after, options.recursive);
    if (!after) return unexpected(std::move(after).error());

    std::map<PolicyIdentity, std::string> old_set, new_set;
    for (const auto& p : *before) old_set.emplace(p.identity, canonical_policy_yaml(p));
    for (const auto& p : *after) new_set.emplace(p.identity, canonical_policy_yaml(p));

    DiffResult result;
    for (const auto& [identity, text] : old_set) {
        const auto other = new_set.find(identity);
        if (other == new_set.end()) {
            result.removed.push_back(identity);
        } else if (other->second == text) {
            ++result.unchanged;
        } else {
            const auto name = identity.str();
            result.changed.push_back({identity, text, other->second,
                                      moving::unified_diff(text, other->second, options.before.name + "/" + name,
                                                           options.after.name + "/" + name)});
        }
    }
    for (const auto& [identity, text] : new_set)
        if (!old_set.count(identity)) result.added.push_back(identity);
    return result;
}

}  // namespace karmor
