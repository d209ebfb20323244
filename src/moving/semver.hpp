// Semantic versions (semver.org 2.0) and the ranges `tags --semver` and `follow --semver`
// select tags with (SPEC §10, §11). The range language is the common subset of npm's and
// Masterminds' (Helm): comparators `>=`, `>`, `<=`, `<`, `=`, `~`, `^`, a bare version (=),
// partial versions (`1.2`, `1`, `1.x`, `*`), space for AND and `||` for OR.
//
// Pre-releases match only when the range names one: a version with a pre-release satisfies a
// comparator set only if some comparator of that set has a pre-release on the same
// major.minor.patch (npm's rule), so `>=1.0.0` never picks `2.0.0-rc.1`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::moving {

struct Version {
    std::uint64_t major = 0;
    std::uint64_t minor = 0;
    std::uint64_t patch = 0;
    std::vector<std::string> prerelease;  // dot-separated identifiers; empty for a release

    // MAJOR.MINOR.PATCH[-PRE][+BUILD], with an optional leading `v` (tags such as v1.2.3).
    // Build metadata is accepted and ignored. std::nullopt when the text is not a version.
    static std::optional<Version> parse(std::string_view text);

    std::string str() const;
    bool same_release(const Version& other) const {
        return major == other.major && minor == other.minor && patch == other.patch;
    }
};

// Precedence of semver.org §11: <0 when a < b, 0 when equal (build metadata ignored), >0.
int compare(const Version& a, const Version& b);
inline bool operator<(const Version& a, const Version& b) {
    return compare(a, b) < 0;
}

class Range {
public:
    // An error of kind usage that shows the expected form when `text` is not a range.
    static Result<Range> parse(std::string_view text);
    bool matches(const Version& version) const;
    const std::string& text() const { return text_; }

private:
    enum class Op { lt, le, gt, ge, eq };
    struct Comparator {
        Op op;
        Version version;
    };
    using Set = std::vector<Comparator>;  // every comparator must hold (AND)

    static Result<void> add_comparator(std::string_view token, Set& set, std::string_view whole);
    static bool holds(const Comparator& c, const Version& v);

    std::vector<Set> sets_;  // any set may hold (OR)
    std::string text_;
};

}  // namespace karmor::moving
