// SPEC §6 against docker-registry 2.8, which has no referrers API: --attach maintains the
// fallback tag (image-spec "Referrers Tag Schema"), keeps other tools' entries, and pull and
// inspect find the newest KubeArmor artifact from the image.
#include <gtest/gtest.h>

#include "karmor/oci.hpp"
#include "ops/referrers_index.hpp"
#include "support/local_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& name, const std::string& action = "Block") {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  severity: 7\n  selector:\n    matchLabels:\n      app: cart\n"
           "  process:\n    matchPaths:\n      - path: /bin/" +
           name + "\n  action: " + action + "\n";
}

struct Fixture {
    std::unique_ptr<oci::HttpTransport> transport = oci::make_curl_transport({});
    std::unique_ptr<oci::RegistryClient> client;
    Descriptor image;
    std::string image_ref;
};

Fixture make_image(const testing::LocalRegistry& registry, const std::string& repo_tag) {
    Fixture f;
    f.image_ref = registry.localhost() + "/" + repo_tag;
    oci::ClientOptions options;
    options.push_access = true;
    f.client = std::make_unique<oci::RegistryClient>(*Reference::parse(f.image_ref), options, *f.transport);
    f.image = testing::push_test_image(*f.client, repo_tag.substr(repo_tag.find(':') + 1), repo_tag);
    return f;
}

PushOptions attach_options(const std::string& image_ref, const std::filesystem::path& input, std::int64_t epoch) {
    PushOptions o;
    o.reference = *Reference::parse(image_ref);
    o.inputs = {input};
    o.attach = true;
    o.source_date_epoch = epoch;
    return o;
}

// Pulls what is attached to the fixture's image into `directory`.
Result<PullResult> pull_from_image(const Fixture& f, const std::filesystem::path& directory) {
    PullOptions pull;
    pull.reference = *Reference::parse(f.image_ref);
    pull.output_directory = directory;
    return pull_policies(pull);
}

nlohmann::json fallback_index(Fixture& f) {
    auto fetched = f.client->fetch_manifest(ops::referrers_tag(f.image.digest));
    EXPECT_TRUE(fetched && *fetched) << "the fallback tag is missing";
    if (!fetched || !*fetched) return nlohmann::json();
    return nlohmann::json::parse((*fetched)->bytes);
}

TEST(Attach, FallbackTagListsTheArtifactAndTheImageTagIsUntouched) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto f = make_image(*registry, "shop/cart:1.4");
    TempDir in;
    write_text(in / "p.yaml", ksp("block-sh"));

    auto attached = push_policies(attach_options(f.image_ref, in / "p.yaml", 1700000000));
    ASSERT_TRUE(attached) << attached.error().message;
    EXPECT_EQ(attached->indexing, ReferrersIndexing::fallback_tag);
    EXPECT_EQ(attached->referrers_tag, "sha256-" + f.image.digest.hex());
    ASSERT_TRUE(attached->manifest.subject);
    EXPECT_EQ(*attached->manifest.subject, f.image);

    auto still = f.client->fetch_manifest("1.4");
    ASSERT_TRUE(still && *still);
    EXPECT_EQ((*still)->digest, f.image.digest) << "attaching moved the image tag";

    const auto index = fallback_index(f);
    EXPECT_EQ(index["mediaType"], media_type::oci_index);
    ASSERT_EQ(index["manifests"].size(), 1u);
    const auto& entry = index["manifests"][0];
    EXPECT_EQ(entry["digest"], attached->manifest_digest.str());
    EXPECT_EQ(entry["artifactType"], media_type::kubearmor_config);
    EXPECT_EQ(entry["annotations"][annotation::created], "2023-11-14T22:13:20Z");

    // The artifact itself is stored untagged, by digest, with the subject.
    auto artifact = f.client->fetch_manifest(attached->manifest_digest.str());
    ASSERT_TRUE(artifact && *artifact);
    EXPECT_EQ((*artifact)->manifest.subject->digest, f.image.digest);

    TempDir out;
    auto pulled = pull_from_image(f, out / "policies");
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, attached->manifest_digest);
    ASSERT_TRUE(pulled->subject);
    EXPECT_EQ(pulled->subject->digest, f.image.digest);
    EXPECT_EQ(read_text(out / "policies" / "ksp-shop-block-sh.yaml"), read_text(in / "p.yaml"));
}

TEST(Attach, KeepsTheEntriesOfOtherToolsInTheFallbackIndex) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto f = make_image(*registry, "shop/cart:1.4");
    // Another tool attached an SBOM first and wrote the fallback index itself, with a field
    // this tool does not model.
    const auto sbom = testing::push_test_sbom(*f.client, f.image, "2030-01-01T00:00:00Z");
    const std::string sbom_entry =
        R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + Digest::sha256_of(sbom).str() +
        R"(","size":)" + std::to_string(sbom.size()) +
        R"(,"artifactType":"application/spdx+json","annotations":{"org.opencontainers.image.created":"2030-01-01T00:00:00Z"},"x-other-tool":true})";
    const std::string other_index =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" + sbom_entry + "]}";
    ASSERT_TRUE(f.client->put_manifest(ops::referrers_tag(f.image.digest), media_type::oci_index, other_index));

    TempDir in;
    write_text(in / "p.yaml", ksp("block-sh"));
    auto attached = push_policies(attach_options(f.image_ref, in / "p.yaml", 1700000000));
    ASSERT_TRUE(attached) << attached.error().message;

    const auto index = fallback_index(f);
    ASSERT_EQ(index["manifests"].size(), 2u);
    EXPECT_EQ(index["manifests"][0], nlohmann::json::parse(sbom_entry)) << "the SBOM entry was changed";
    EXPECT_EQ(index["manifests"][1]["digest"], attached->manifest_digest.str());

    // The SBOM is newer but not ours: pull takes the KubeArmor artifact.
    TempDir out;
    auto pulled = pull_from_image(f, out.path());
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, attached->manifest_digest);
}

TEST(Attach, TwoAttachesInARowAreBothListedAndPullTakesTheNewer) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto f = make_image(*registry, "shop/cart:1.4");
    TempDir in;
    write_text(in / "old.yaml", ksp("old-rule"));
    write_text(in / "new.yaml", ksp("new-rule", "Audit"));

    auto older = push_policies(attach_options(f.image_ref, in / "old.yaml", 1700000000));
    ASSERT_TRUE(older) << older.error().message;
    auto newer = push_policies(attach_options(f.image_ref, in / "new.yaml", 1700000100));
    ASSERT_TRUE(newer) << newer.error().message;
    EXPECT_NE(older->manifest_digest, newer->manifest_digest);

    const auto index = fallback_index(f);
    ASSERT_EQ(index["manifests"].size(), 2u);
    EXPECT_EQ(index["manifests"][0]["digest"], older->manifest_digest.str());
    EXPECT_EQ(index["manifests"][1]["digest"], newer->manifest_digest.str());

    TempDir out;
    auto pulled = pull_from_image(f, out.path());
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, newer->manifest_digest);
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-new-rule.yaml"));
    EXPECT_FALSE(std::filesystem::exists(out / "ksp-shop-old-rule.yaml"));

    // inspect: the image, with both artifacts newest first and their policies from the config.
    InspectOptions inspect;
    inspect.reference = *Reference::parse(f.image_ref);
    auto shown = inspect_reference(inspect);
    ASSERT_TRUE(shown) << shown.error().message;
    EXPECT_EQ(shown->kind, ReferenceKind::image);
    EXPECT_EQ(shown->artifact.digest, f.image.digest);
    ASSERT_EQ(shown->attached.size(), 2u);
    EXPECT_EQ(shown->attached[0].digest, newer->manifest_digest);
    EXPECT_EQ(shown->attached[0].created, "2023-11-14T22:15:00Z");
    EXPECT_EQ(shown->attached[1].digest, older->manifest_digest);
    ASSERT_EQ(shown->attached[0].policies.size(), 1u);
    const auto& policy = shown->attached[0].policies[0];
    EXPECT_EQ(policy.kind, "KubeArmorPolicy");
    EXPECT_EQ(policy.namespace_name, "shop");
    EXPECT_EQ(policy.name, "new-rule");
    EXPECT_EQ(policy.action, "Audit");
    EXPECT_EQ(policy.severity, 7);
}

// The newest attached artifact already holds these policies: nothing is pushed. An older
// identical one does not count (a newer one would still win on pull).
TEST(Attach, ReattachingTheNewestPoliciesPushesNothing) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto f = make_image(*registry, "shop/cart:1.4");
    TempDir in;
    write_text(in / "a.yaml", ksp("rule-a"));
    write_text(in / "b.yaml", ksp("rule-b"));

    auto first = push_policies(attach_options(f.image_ref, in / "a.yaml", 1000));
    ASSERT_TRUE(first) << first.error().message;
    auto same = push_policies(attach_options(f.image_ref, in / "a.yaml", 2000));
    ASSERT_TRUE(same) << same.error().message;
    EXPECT_TRUE(same->already_attached);
    EXPECT_EQ(same->manifest_digest, first->manifest_digest);
    EXPECT_EQ(same->blobs_uploaded, 0);
    EXPECT_EQ(fallback_index(f)["manifests"].size(), 1u);

    ASSERT_TRUE(push_policies(attach_options(f.image_ref, in / "b.yaml", 3000)));
    auto back_to_a = push_policies(attach_options(f.image_ref, in / "a.yaml", 4000));
    ASSERT_TRUE(back_to_a) << back_to_a.error().message;
    EXPECT_FALSE(back_to_a->already_attached);
    EXPECT_EQ(fallback_index(f)["manifests"].size(), 3u);
    TempDir out;
    auto pulled = pull_from_image(f, out.path());
    ASSERT_TRUE(pulled);
    EXPECT_EQ(pulled->manifest_digest, back_to_a->manifest_digest);
}

TEST(Attach, PullFromAnImageWithoutPoliciesNamesTheImageDigest) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto f = make_image(*registry, "bare:v1");
    TempDir out;
    auto pulled = pull_from_image(f, out / "x");
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::not_found);
    EXPECT_NE(pulled.error().message.find(f.image.digest.str()), std::string::npos) << pulled.error().message;
    EXPECT_NE(pulled.error().hint.find("--attach"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(out / "x"));
}

TEST(Attach, ToAMissingImageIsNotFound) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "p.yaml", ksp("rule"));
    auto attached = push_policies(attach_options(registry->localhost() + "/nothing:here", in / "p.yaml", 1));
    ASSERT_FALSE(attached);
    EXPECT_EQ(attached.error().kind, ErrorKind::not_found);
}

TEST(Inspect, AKubeArmorArtifactShowsItsPoliciesFromTheConfig) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "p.yaml", ksp("rule-a") + "---\n" + ksp("rule-b", "Allow"));
    PushOptions push;
    push.reference = *Reference::parse(registry->localhost() + "/team/policies:v1");
    push.inputs = {in / "p.yaml"};
    push.source_date_epoch = 1700000000;
    auto pushed = push_policies(push);
    ASSERT_TRUE(pushed) << pushed.error().message;

    InspectOptions inspect;
    inspect.reference = push.reference;
    const auto before = registry->requests().size();
    auto shown = inspect_reference(inspect);
    ASSERT_TRUE(shown) << shown.error().message;
    EXPECT_EQ(shown->kind, ReferenceKind::kubearmor_artifact);
    EXPECT_EQ(shown->artifact.digest, pushed->manifest_digest);
    EXPECT_EQ(shown->artifact.created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(shown->artifact.config_media_type, media_type::kubearmor_config);
    ASSERT_EQ(shown->artifact.policies.size(), 2u);
    EXPECT_EQ(shown->artifact.policies[1].action, "Allow");
    // Manifest and config only: the layer is not downloaded.
    const auto requests = registry->requests();
    ASSERT_GT(requests.size(), before);
    for (auto request = requests.begin() + static_cast<long>(before); request != requests.end(); ++request)
        EXPECT_EQ(request->find(pushed->manifest.layers[0].digest.str()), std::string::npos) << *request;
}

// The issue's "done when", with the binary: the seed's push over an image tag refuses with
// advice; with --attach the policies go beside the image, the image tag keeps its digest, and
// pull from the image brings the newest policies back. inspect shows it in both formats.
TEST(Cli, SeedPushOverAnImageRefusesAndAttachStoresBesideIt) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = "localhost:" + std::to_string(registry->port()) + "/myimage:latest";
    auto f = make_image(*registry, "myimage:latest");
    TempDir work;
    write_text(work / "mypolicy.yaml", ksp("block-pkg-managers"));
    write_text(work / "newer.yaml", ksp("block-pkg-managers", "Audit"));
    const auto in_work = [&](std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
        args.insert(args.begin(), KARMOR_BINARY);
        return testing::run_command(args, {}, env, work.path());
    };

    auto refused = in_work({"oci", "push", "-i", image, "-p", "mypolicy.yaml"});
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_NE(refused.err.find("a container image"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--attach"), std::string::npos) << refused.err;
    EXPECT_TRUE(refused.out.empty());

    auto first =
        in_work({"oci", "push", "--attach", "-i", image, "-p", "mypolicy.yaml"}, {{"SOURCE_DATE_EPOCH", "1700000000"}});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("Attached 1 policy"), std::string::npos) << first.err;
    auto second =
        in_work({"oci", "push", "--attach", "-i", image, "-p", "newer.yaml"}, {{"SOURCE_DATE_EPOCH", "1700000500"}});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const auto newest = second.out.substr(0, second.out.find('\n'));
    ASSERT_TRUE(Digest::parse(newest)) << second.out;

    auto still = f.client->fetch_manifest("latest");
    ASSERT_TRUE(still && *still);
    EXPECT_EQ((*still)->digest, f.image.digest) << "the image tag moved";

    auto pull = in_work({"oci", "pull", "-i", image, "-o", "dir"});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_EQ(pull.out, "dir/ksp-shop-block-pkg-managers.yaml\n");
    EXPECT_EQ(read_text(work / "dir" / "ksp-shop-block-pkg-managers.yaml"), read_text(work / "newer.yaml"));
    EXPECT_NE(pull.err.find(newest), std::string::npos) << pull.err;

    auto json = in_work({"oci", "inspect", "-i", image, "--output", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto shown = nlohmann::json::parse(json.out);
    EXPECT_EQ(shown["kind"], "image");
    EXPECT_EQ(shown["digest"], f.image.digest.str());
    EXPECT_EQ(shown["mediaType"], media_type::oci_manifest);
    ASSERT_EQ(shown["attached"].size(), 2u);
    EXPECT_EQ(shown["attached"][0]["digest"], newest);
    EXPECT_EQ(shown["attached"][0]["created"], "2023-11-14T22:21:40Z");
    EXPECT_EQ(shown["attached"][0]["subject"]["digest"], f.image.digest.str());
    EXPECT_EQ(shown["attached"][0]["policies"][0]["name"], "block-pkg-managers");
    EXPECT_EQ(shown["attached"][0]["policies"][0]["action"], "Audit");
    EXPECT_EQ(shown["attached"][0]["policies"][0]["severity"], 7);
    EXPECT_EQ(shown["attached"][1]["policies"][0]["action"], "Block");

    auto text = in_work({"oci", "inspect", "-i", image});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("Kind:          image (a container image)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Attached KubeArmor artifacts: 2"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("KubeArmorPolicy shop/block-pkg-managers  action=Audit  severity=7"), std::string::npos)
        << text.out;
    EXPECT_LT(text.out.find(newest), text.out.find("action=Block")) << "newest first";

    auto artifact =
        in_work({"oci", "inspect", "-i", image.substr(0, image.find(':', 10)) + "@" + newest, "--output", "json"});
    ASSERT_EQ(artifact.exit_code, 0) << artifact.err;
    EXPECT_EQ(nlohmann::json::parse(artifact.out)["kind"], "kubearmor-artifact");
}

}  // namespace
}  // namespace karmor
