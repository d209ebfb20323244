// SPEC §11 `tags`, `resolve`, `tag` through the binary: Link pagination (a scripted registry
// that pages by 100, since docker-registry 2.8 ignores `n`), the bookkeeping tags hidden, the
// semver filter, and `tag` sending no PUT where a tag already holds the digest.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "support/local_registry.hpp"
#include "support/process.hpp"
#include "support/scripted_registry.hpp"

namespace karmor {
namespace {

using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

constexpr const char* policy =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: block-sh\n  namespace: shop\n"
    "spec:\n  selector:\n    matchLabels:\n      app: cart\n  process:\n    matchPaths:\n      - path: /bin/sh\n"
    "  action: Block\n";

std::size_t count_requests(const std::vector<std::string>& requests, const std::string& prefix) {
    return static_cast<std::size_t>(
        std::count_if(requests.begin(), requests.end(), [&](const std::string& r) { return r.rfind(prefix, 0) == 0; }));
}

// 250 version tags 1.0.0 … 1.249.0 plus a fallback tag and a cosign signature tag.
void fill_tags(testing::ScriptedRegistry& registry) {
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]})";
    for (int i = 0; i < 250; ++i)
        registry.put_manifest("team/policies", "1." + std::to_string(i) + ".0",
                              "application/vnd.oci.image.manifest.v1+json", manifest);
    const std::string hex(64, 'c');
    registry.put_manifest("team/policies", "sha256-" + hex, "application/vnd.oci.image.manifest.v1+json", manifest);
    registry.put_manifest("team/policies", "sha256-" + hex + ".sig", "application/vnd.oci.image.manifest.v1+json",
                          manifest);
}

TEST(MovingTags, FollowsLinkPaginationOver250TagsAndHidesBookkeepingTags) {
    testing::ScriptedRegistryOptions options;
    options.tags_page_size = 100;
    testing::ScriptedRegistry registry(options);
    ASSERT_TRUE(registry.running());
    fill_tags(registry);

    auto listed =
        run_karmor({"oci", "tags", "-i", registry.address() + "/team/policies", "--plain-http", "--output", "json"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const auto json = nlohmann::json::parse(listed.out);
    EXPECT_EQ(json["tags"].size(), 250u);
    EXPECT_EQ(json["hidden"], 2);
    EXPECT_EQ(count_requests(registry.requests(), "GET /v2/team/policies/tags/list"), 3u)
        << "252 tags, 100 a page: three pages";
    for (const auto& t : json["tags"]) EXPECT_EQ(t.get<std::string>().rfind("sha256-", 0), std::string::npos);

    auto all = run_karmor({"oci", "tags", "-i", registry.address() + "/team/policies", "--plain-http", "--all"});
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 252);
    EXPECT_NE(all.out.find(".sig\n"), std::string::npos);
}

TEST(MovingTags, FollowsLastWhenTheRegistrySendsNoLink) {
    testing::ScriptedRegistryOptions options;
    options.tags_page_size = 100;
    options.tags_link = false;
    testing::ScriptedRegistry registry(options);
    ASSERT_TRUE(registry.running());
    fill_tags(registry);
    auto listed = run_karmor({"oci", "tags", "-i", registry.address() + "/team/policies", "--plain-http", "--all"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), 252);
}

TEST(MovingTags, SemverSelectsVersionsLowestFirst) {
    testing::ScriptedRegistry registry(testing::ScriptedRegistryOptions{});
    ASSERT_TRUE(registry.running());
    fill_tags(registry);
    auto listed = run_karmor({"oci", "tags", "-i", registry.address() + "/team/policies", "--plain-http", "--semver",
                              ">=1.98.0 <1.101 || 1.200.x"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_EQ(listed.out, "1.98.0\n1.99.0\n1.100.0\n1.200.0\n");

    auto bad =
        run_karmor({"oci", "tags", "-i", registry.address() + "/team/policies", "--plain-http", "--semver", ">=one"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find("Hint:"), std::string::npos);
}

TEST(MovingTags, ResolvePrintsTheDigestAndTagSendsNoPutTheSecondTime) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "p.yaml", policy);
    const std::string repo = registry->localhost() + "/team/policies";
    auto push = run_karmor({"oci", "push", "-i", repo + ":v1.2.3", "-p", (in / "p.yaml").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    const std::string digest = push.out.substr(0, push.out.find('\n'));

    auto resolved = run_karmor({"oci", "resolve", "-i", repo + ":v1.2.3"});
    ASSERT_EQ(resolved.exit_code, 0) << resolved.err;
    EXPECT_EQ(resolved.out, digest + "\n");

    auto first = run_karmor({"oci", "tag", "-i", repo + ":v1.2.3", "v1.2", "v1"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto after_first = registry->requests();
    for (const char* tag : {"v1.2", "v1"})
        EXPECT_EQ(
            std::count(after_first.begin(), after_first.end(), std::string("PUT /v2/team/policies/manifests/") + tag),
            1)
            << tag;

    const auto before = registry->requests().size();
    auto second = run_karmor({"oci", "tag", "-i", repo + ":v1.2.3", "v1.2", "v1", "--output", "json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const auto json = nlohmann::json::parse(second.out);
    EXPECT_EQ(json["tagged"].size(), 0u);
    EXPECT_EQ(json["unchanged"].size(), 2u);
    const auto all = registry->requests();
    const std::vector<std::string> during(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    EXPECT_EQ(count_requests(during, "PUT"), 0u) << "a tag that holds the digest gets no PUT";
    EXPECT_EQ(during.size(), 3u) << "one HEAD for the source and one per tag";
    for (const auto& r : during) EXPECT_EQ(r.rfind("HEAD", 0), 0u) << r;

    for (const char* tag : {"v1.2", "v1"}) {
        auto again = run_karmor({"oci", "resolve", "-i", repo + ":" + tag});
        EXPECT_EQ(again.out, digest + "\n") << tag;
    }
    auto missing = run_karmor({"oci", "resolve", "-i", repo + ":nope"});
    EXPECT_EQ(missing.exit_code, 4) << missing.err;
}

}  // namespace
}  // namespace karmor
