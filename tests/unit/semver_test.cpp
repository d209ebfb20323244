#include <gtest/gtest.h>

#include "moving/semver.hpp"
#include "moving/tag_filter.hpp"

namespace karmor::moving {
namespace {

TEST(SemverVersion, ParsesAndRefuses) {
    struct Case {
        const char* text;
        bool valid;
        const char* normalized;
    };
    const Case cases[] = {
        {"1.2.3", true, "1.2.3"},
        {"v1.2.3", true, "1.2.3"},
        {"1.2.3-rc.1", true, "1.2.3-rc.1"},
        {"1.2.3-rc.1+build.5", true, "1.2.3-rc.1"},
        {"0.0.0", true, "0.0.0"},
        {"1.2", false, ""},
        {"1.2.3.4", false, ""},
        {"01.2.3", false, ""},
        {"1.2.3-01", false, ""},
        {"1.2.3-", false, ""},
        {"1.2.3-a..b", false, ""},
        {"latest", false, ""},
        {"", false, ""},
        {"sha256-abc", false, ""},
    };
    for (const auto& c : cases) {
        const auto v = Version::parse(c.text);
        EXPECT_EQ(v.has_value(), c.valid) << c.text;
        if (v && c.valid) {
            EXPECT_EQ(v->str(), c.normalized) << c.text;
        }
    }
}

TEST(SemverVersion, PrecedenceFollowsSemverOrg) {
    // semver.org §11's example chain, each lower than the next.
    const char* chain[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                           "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
                           "1.0.1",        "1.1.0",         "1.10.0",           "2.0.0"};
    for (std::size_t i = 0; i + 1 < std::size(chain); ++i) {
        const auto a = Version::parse(chain[i]);
        const auto b = Version::parse(chain[i + 1]);
        ASSERT_TRUE(a && b);
        EXPECT_LT(compare(*a, *b), 0) << chain[i] << " < " << chain[i + 1];
        EXPECT_GT(compare(*b, *a), 0) << chain[i + 1] << " > " << chain[i];
    }
    EXPECT_EQ(compare(*Version::parse("1.0.0+a"), *Version::parse("v1.0.0+b")), 0);
}

TEST(SemverRange, MatchesTable) {
    struct Case {
        const char* range;
        const char* version;
        bool match;
    };
    const Case cases[] = {
        // comparators
        {">=1.2.0", "1.2.0", true},
        {">=1.2.0", "1.1.9", false},
        {">1.2.0", "1.2.0", false},
        {">1.2.0", "1.2.1", true},
        {"<2.0.0", "1.99.0", true},
        {"<2.0.0", "2.0.0", false},
        {"<=2.0.0", "2.0.0", true},
        {"=1.2.3", "1.2.3", true},
        {"1.2.3", "1.2.4", false},
        {"v1.2.3", "1.2.3", true},
        // AND, OR, spaces after operators
        {">=1.2.0 <2.0.0", "1.5.0", true},
        {">=1.2.0 <2.0.0", "2.0.0", false},
        {">= 1.2.0 < 2.0.0", "1.2.0", true},
        {"<1.0.0 || >=3.0.0", "0.9.0", true},
        {"<1.0.0 || >=3.0.0", "2.0.0", false},
        {"<1.0.0 || >=3.0.0", "3.1.0", true},
        // tilde
        {"~1.2.3", "1.2.9", true},
        {"~1.2.3", "1.3.0", false},
        {"~1.2.3", "1.2.2", false},
        {"~1.2", "1.2.0", true},
        {"~1.2", "1.3.0", false},
        {"~1", "1.9.9", true},
        {"~1", "2.0.0", false},
        // caret
        {"^1.2.3", "1.9.0", true},
        {"^1.2.3", "2.0.0", false},
        {"^1.2.3", "1.2.2", false},
        {"^0.2.3", "0.2.9", true},
        {"^0.2.3", "0.3.0", false},
        {"^0.0.3", "0.0.3", true},
        {"^0.0.3", "0.0.4", false},
        {"^1.2", "1.9.9", true},
        {"^0.0", "0.0.9", true},
        {"^0.0", "0.1.0", false},
        {"^0", "0.9.0", true},
        {"^0", "1.0.0", false},
        // partial versions and wildcards
        {"1.2", "1.2.7", true},
        {"1.2", "1.3.0", false},
        {"1.x", "1.4.0", true},
        {"1.x", "2.0.0", false},
        {"*", "7.0.0", true},
        {">1.2", "1.2.9", false},
        {">1.2", "1.3.0", true},
        {"<=1.2", "1.2.9", true},
        {"<=1.2", "1.3.0", false},
        {"<1.2", "1.1.9", true},
        {"<1.2", "1.2.0", false},
        // hyphen ranges
        {"1.2.3 - 2.3", "2.3.9", true},
        {"1.2.3 - 2.3", "2.4.0", false},
        {"1.2.3 - 2.3", "1.2.2", false},
        // pre-releases only where the range names one on the same major.minor.patch
        {">=1.0.0", "2.0.0-rc.1", false},
        {"*", "1.0.0-rc.1", false},
        {"^1.2.3", "1.3.0-beta", false},
        {">=1.2.3-beta.2", "1.2.3-beta.4", true},
        {">=1.2.3-beta.2", "1.2.3-beta.1", false},
        {">=1.2.3-beta.2", "1.2.4-beta.1", false},
        {">=1.2.3-beta.2", "1.2.4", true},
        {"~1.2.3-beta.2", "1.2.3-rc.1", true},
        {"<1.0.0 || >=3.0.0-rc.1", "3.0.0-rc.2", true},
        {"<1.0.0 || >=3.0.0-rc.1", "0.9.0-rc.1", false},
    };
    for (const auto& c : cases) {
        const auto range = Range::parse(c.range);
        ASSERT_TRUE(range) << c.range << ": " << range.error().message;
        const auto version = Version::parse(c.version);
        ASSERT_TRUE(version) << c.version;
        EXPECT_EQ(range->matches(*version), c.match) << "'" << c.range << "' vs " << c.version;
    }
}

TEST(SemverRange, RefusesWhatIsNotARange) {
    for (const char* text :
         {"", "   ", ">=", "1.2.3 ||", "|| 1.0.0", ">=one", "1.2.3.4", "1.x.3", "~>1.2", "1.2-rc.1", ">=1.0.0 <"}) {
        const auto range = Range::parse(text);
        EXPECT_FALSE(range) << "'" << text << "' should be refused";
        if (!range) {
            EXPECT_EQ(range.error().kind, ErrorKind::usage) << text;
            EXPECT_FALSE(range.error().hint.empty()) << text;
        }
    }
}

TEST(TagFilter, BookkeepingTags) {
    const std::string hex(64, 'a');
    struct Case {
        std::string tag;
        bool hidden;
    };
    const Case cases[] = {
        {"sha256-" + hex, true},
        {"sha256-" + hex + ".sig", true},
        {"sha256-" + hex + ".att", true},
        {"sha256-" + hex + ".sbom", true},
        {"sha512-" + hex, true},
        {"sha256-" + hex.substr(1), false},
        {"sha256-" + hex + ".txt", false},
        {"sha256-" + std::string(64, 'G'), false},
        {"v1.0.0", false},
        {"latest", false},
        {"sha256-release", false},
    };
    for (const auto& c : cases) EXPECT_EQ(is_bookkeeping_tag(c.tag), c.hidden) << c.tag;
}

TEST(TagFilter, SelectsVersionsInRangeLowestFirst) {
    const std::vector<std::string> tags = {"latest",     "v1.10.0", "1.2.0",  "v1.9.0", "2.0.0-rc.1",
                                           "1.2.0-rc.1", "2.0.0",   "1.02.0", "v1.2.1"};
    const auto range = Range::parse("^1.2");
    ASSERT_TRUE(range);
    EXPECT_EQ(select_versions(tags, *range), (std::vector<std::string>{"1.2.0", "v1.2.1", "v1.9.0", "v1.10.0"}));
    const auto with_rc = Range::parse(">=2.0.0-rc.1");
    ASSERT_TRUE(with_rc);
    EXPECT_EQ(select_versions(tags, *with_rc), (std::vector<std::string>{"2.0.0-rc.1", "2.0.0"}));
}

}  // namespace
}  // namespace karmor::moving
