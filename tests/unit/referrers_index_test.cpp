// The referrers tag schema (image-spec "Referrers Tag Schema"): the tag's name, merging our
// descriptor into an index other tools wrote, and choosing the newest artifact.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "karmor/layout.hpp"
#include "ops/referrers_index.hpp"

namespace karmor::ops {
namespace {

Digest digest_of(const std::string& text) {
    return Digest::sha256_of(text);
}

Descriptor referrer(const std::string& name, const std::string& created, const std::string& type) {
    Descriptor d;
    d.media_type = media_type::oci_manifest;
    d.digest = digest_of(name);
    d.size = 100;
    d.artifact_type = type;
    if (!created.empty()) d.annotations[annotation::created] = created;
    return d;
}

TEST(ReferrersTag, IsAlgorithmDashHex) {
    const auto d = digest_of("image");
    EXPECT_EQ(referrers_tag(d), "sha256-" + d.hex());
    EXPECT_EQ(referrers_tag(d).size(), 7u + 64u);
}

TEST(ReferrerDescriptor, TakesArtifactTypeElseConfigTypeAndTheAnnotations) {
    Manifest m;
    m.media_type = media_type::oci_manifest;
    m.config = Descriptor{"application/vnd.example.sbom.v1+json", digest_of("c"), 1, "", {}, std::nullopt};
    m.annotations = {{annotation::created, "2026-01-01T00:00:00Z"}, {"x", "y"}};
    auto d = referrer_descriptor(m, digest_of("m"), 42);
    EXPECT_EQ(d.artifact_type, "application/vnd.example.sbom.v1+json");
    EXPECT_EQ(d.size, 42);
    EXPECT_EQ(d.annotations, m.annotations);
    m.artifact_type = media_type::kubearmor_config;
    EXPECT_EQ(referrer_descriptor(m, digest_of("m"), 42).artifact_type, media_type::kubearmor_config);
}

TEST(ReferrersIndex, NewIndexHoldsOnlyOurDescriptor) {
    const auto ours = referrer("ours", "2026-01-01T00:00:00Z", media_type::kubearmor_config);
    auto merged = add_to_referrers_index(std::nullopt, ours, "where");
    ASSERT_TRUE(merged);
    ASSERT_TRUE(*merged);
    const auto index = nlohmann::json::parse(**merged);
    EXPECT_EQ(index["schemaVersion"], 2);
    EXPECT_EQ(index["mediaType"], media_type::oci_index);
    ASSERT_EQ(index["manifests"].size(), 1u);
    EXPECT_EQ(index["manifests"][0]["digest"], ours.digest.str());
    EXPECT_EQ(index["manifests"][0]["artifactType"], media_type::kubearmor_config);
    EXPECT_EQ(index["manifests"][0]["annotations"][annotation::created], "2026-01-01T00:00:00Z");
}

// Another tool's entries and fields this tool does not model survive byte for byte.
TEST(ReferrersIndex, KeepsEveryEntryAndFieldOfOtherTools) {
    const std::string sbom = digest_of("sbom").str();
    const std::string existing =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
        sbom +
        R"(","size":7,"artifactType":"application/spdx+json","urls":["https://example.com/x"],"data":"e30=","annotations":{"tool":"syft"}}],"annotations":{"owner":"other-tool"}})";
    const auto ours = referrer("ours", "2026-01-01T00:00:00Z", media_type::kubearmor_config);
    auto merged = add_to_referrers_index(existing, ours, "where");
    ASSERT_TRUE(merged);
    ASSERT_TRUE(*merged);
    const auto before = nlohmann::json::parse(existing);
    const auto after = nlohmann::json::parse(**merged);
    ASSERT_EQ(after["manifests"].size(), 2u);
    EXPECT_EQ(after["manifests"][0], before["manifests"][0]);
    EXPECT_EQ(after["manifests"][1]["digest"], ours.digest.str());
    EXPECT_EQ(after["annotations"], before["annotations"]);
}

TEST(ReferrersIndex, AlreadyListedMeansNothingToWrite) {
    const auto ours = referrer("ours", "", media_type::kubearmor_config);
    auto first = add_to_referrers_index(std::nullopt, ours, "where");
    ASSERT_TRUE(first && *first);
    auto again = add_to_referrers_index(**first, ours, "where");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
}

TEST(ReferrersIndex, SomethingElseAtTheTagIsAnError) {
    auto merged = add_to_referrers_index(std::string(R"({"schemaVersion":2,"config":{}})"),
                                         referrer("ours", "", media_type::kubearmor_config), "reg/repo:sha256-x");
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().kind, ErrorKind::validation);
    EXPECT_NE(merged.error().message.find("reg/repo:sha256-x"), std::string::npos);
}

struct TimeCase {
    const char* text;
    std::optional<std::int64_t> seconds;
    std::int64_t nanoseconds;
};

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
    const TimeCase cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2023-11-14T22:13:20Z", 1700000000, 0},
        {"2023-11-14T23:13:20+01:00", 1700000000, 0},
        {"2023-11-14T21:13:20-01:00", 1700000000, 0},
        {"2023-11-14T22:13:20.5Z", 1700000000, 500000000},
        {"2023-11-14t22:13:20z", 1700000000, 0},
        {"2000-02-29T00:00:00Z", 951782400, 0},
        {"2023-11-14", std::nullopt, 0},
        {"2023-13-14T22:13:20Z", std::nullopt, 0},
        {"2023-11-14T22:13:20", std::nullopt, 0},
        {"2023-11-14T22:13:20.Z", std::nullopt, 0},
        {"2023-11-14T22:13:20Zjunk", std::nullopt, 0},
        {"", std::nullopt, 0},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_rfc3339(c.text);
        ASSERT_EQ(parsed.has_value(), c.seconds.has_value()) << c.text;
        if (!parsed) continue;
        EXPECT_EQ(parsed->seconds, *c.seconds) << c.text;
        EXPECT_EQ(parsed->nanoseconds, c.nanoseconds) << c.text;
    }
}

TEST(SortNewestFirst, ByCreatedTimeNotByText) {
    std::vector<Descriptor> list = {
        referrer("old", "2026-01-01T00:00:00Z", ""),
        referrer("new-in-another-zone", "2026-01-01T03:00:00+02:00", ""),  // 01:00Z
        referrer("fraction", "2026-01-01T00:30:00.25Z", ""),
        referrer("undated", "", ""),
        referrer("garbage", "yesterday", ""),
    };
    sort_newest_first(list, now_seconds());
    EXPECT_EQ(list[0].digest, digest_of("new-in-another-zone"));
    EXPECT_EQ(list[1].digest, digest_of("fraction"));
    EXPECT_EQ(list[2].digest, digest_of("old"));
    // Undated and unreadable ones last, ordered by digest.
    EXPECT_EQ(list[3].digest.str(), std::max(digest_of("undated").str(), digest_of("garbage").str()));
}

TEST(SortNewestFirst, TiesAreBrokenByDigestWhateverTheInputOrder) {
    const auto a = referrer("a", "2026-01-01T00:00:00Z", "");
    const auto b = referrer("b", "2026-01-01T00:00:00Z", "");
    std::vector<Descriptor> one = {a, b}, other = {b, a};
    sort_newest_first(one, now_seconds());
    sort_newest_first(other, now_seconds());
    EXPECT_EQ(one, other);
    EXPECT_GT(one[0].digest.str(), one[1].digest.str());
}

// Issue 22: a date far ahead must not pin the choice; one within the allowed skew still counts.
TEST(SortNewestFirst, FutureDatedRankAfterAllOthers) {
    const std::int64_t now = 1'800'000'000;  // 2027-01-15T08:00:00Z
    std::vector<Descriptor> list = {
        referrer("far-future", "2999-01-01T00:00:00Z", ""),
        referrer("near-future", "2030-01-01T00:00:00Z", ""),
        referrer("within-skew", "2027-01-15T08:04:00Z", ""),
        referrer("past", "2026-01-01T00:00:00Z", ""),
        referrer("undated", "", ""),
    };
    sort_newest_first(list, now);
    EXPECT_EQ(list[0].digest, digest_of("within-skew"));
    EXPECT_EQ(list[1].digest, digest_of("past"));
    EXPECT_EQ(list[2].digest, digest_of("undated"));
    EXPECT_EQ(list[3].digest, digest_of("far-future"));  // the latest of the future ones first
    EXPECT_EQ(list[4].digest, digest_of("near-future"));
    EXPECT_TRUE(is_future_dated(list[3], now));
    EXPECT_FALSE(is_future_dated(list[0], now));
    EXPECT_FALSE(is_future_dated(list[2], now));
    EXPECT_TRUE(is_future_dated(referrer("x", "2027-01-15T08:05:01Z", ""), now));
    EXPECT_FALSE(is_future_dated(referrer("x", "2027-01-15T08:05:00Z", ""), now));
}

struct LayoutCase {
    const char* text;
    const char* directory;
    const char* tag;
    bool by_digest;
};

TEST(LayoutReference, SplitsAtTheLastColonAfterTheLastSlash) {
    const std::string hex(64, 'a');
    const LayoutCase cases[] = {
        {"layout", "layout", "", false},
        {"layout:v1", "layout", "v1", false},
        {"./out/layout:v1.2-rc", "./out/layout", "v1.2-rc", false},
        {"/tmp/a:b/layout", "/tmp/a:b/layout", "", false},
        {"/tmp/a:b/", "/tmp/a:b/", "", false},
        {"/tmp/a:b/layout:latest", "/tmp/a:b/layout", "latest", false},
    };
    for (const auto& c : cases) {
        auto ref = LayoutReference::parse(c.text);
        ASSERT_TRUE(ref) << c.text << ": " << ref.error().message;
        EXPECT_EQ(ref->directory.string(), c.directory) << c.text;
        EXPECT_EQ(ref->tag, c.tag) << c.text;
        EXPECT_FALSE(ref->digest) << c.text;
        EXPECT_EQ(ref->str(), c.text);
    }
    auto by_digest = LayoutReference::parse("dir@sha256:" + hex);
    ASSERT_TRUE(by_digest);
    EXPECT_EQ(by_digest->directory, "dir");
    EXPECT_EQ(by_digest->digest->hex(), hex);
    EXPECT_TRUE(by_digest->tag.empty());
    auto at_in_name = LayoutReference::parse("me@host/layout");
    ASSERT_TRUE(at_in_name);
    EXPECT_EQ(at_in_name->directory, "me@host/layout");

    for (const char* bad : {"", ":v1", "layout:", "layout:bad@tag", "layout:-x"}) {
        auto ref = LayoutReference::parse(bad);
        ASSERT_FALSE(ref) << bad;
        EXPECT_EQ(ref.error().kind, ErrorKind::usage);
        EXPECT_NE(ref.error().hint.find("DIR[:TAG|@sha256:HEX]"), std::string::npos);
    }
}

}  // namespace
}  // namespace karmor::ops
