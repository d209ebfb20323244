// SPEC §6 against a registry with the referrers API (a scripted one: no local registry
// package implements it), and the fallback tag's merge when another writer races us.
#include <gtest/gtest.h>

#include "karmor/oci.hpp"
#include "ops/referrers_index.hpp"
#include "support/process.hpp"
#include "support/scripted_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::ScriptedRegistry;
using testing::ScriptedRegistryOptions;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& name) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: cart\n  process:\n    matchPaths:\n"
           "      - path: /bin/" +
           name + "\n  action: Block\n";
}

struct Setup {
    std::unique_ptr<ScriptedRegistry> registry;
    std::unique_ptr<oci::HttpTransport> transport = oci::make_curl_transport({});
    std::unique_ptr<oci::RegistryClient> client;
    Descriptor image;
    std::string image_ref;
    TempDir in;
};

std::unique_ptr<Setup> start(ScriptedRegistryOptions options) {
    auto s = std::make_unique<Setup>();
    s->registry = std::make_unique<ScriptedRegistry>(options);
    if (!s->registry->running()) return nullptr;
    s->image_ref = s->registry->address() + "/shop/cart:1.4";
    oci::ClientOptions client_options;
    client_options.plain_http = true;
    s->client = std::make_unique<oci::RegistryClient>(*Reference::parse(s->image_ref), client_options, *s->transport);
    s->image = testing::push_test_image(*s->client, "1.4", "cart");
    return s;
}

Result<PushResult> attach(Setup& s, const std::string& policy, std::int64_t epoch) {
    write_text(s.in / (policy + ".yaml"), ksp(policy));
    PushOptions o;
    o.reference = *Reference::parse(s.image_ref);
    o.inputs = {s.in / (policy + ".yaml")};
    o.attach = true;
    o.source_date_epoch = epoch;
    o.remote.plain_http = true;
    return push_policies(o);
}

Result<PullResult> pull(Setup& s, const std::filesystem::path& out) {
    PullOptions o;
    o.reference = *Reference::parse(s.image_ref);
    o.output_directory = out;
    o.remote.plain_http = true;
    return pull_policies(o);
}

std::size_t count_containing(const std::vector<std::string>& requests, const std::string& text) {
    return static_cast<std::size_t>(std::count_if(
        requests.begin(), requests.end(), [&](const std::string& r) { return r.find(text) != std::string::npos; }));
}

TEST(ReferrersApi, AttachLetsTheRegistryIndexAndWritesNoFallbackTag) {
    auto s = start({});
    ASSERT_TRUE(s) << "cannot start the scripted registry";
    auto attached = attach(*s, "rule-a", 1000);
    ASSERT_TRUE(attached) << attached.error().message;
    EXPECT_EQ(attached->indexing, ReferrersIndexing::registry);
    EXPECT_EQ(s->registry->tags("shop/cart"), std::vector<std::string>{"1.4"});
    const auto requests = s->registry->requests();
    EXPECT_EQ(count_containing(requests, "PUT /v2/shop/cart/manifests/" + attached->manifest_digest.str()), 1u);
    EXPECT_EQ(count_containing(requests, "manifests/sha256-"), 0u);
    EXPECT_EQ(count_containing(requests, "GET /v2/shop/cart/referrers/" + s->image.digest.str() +
                                             "?artifactType=application%2Fvnd.cncf.kubearmor.config.v1%2Bjson"),
              1u);
}

// A registry that has the API but does not send OCI-Subject is still trusted to index.
TEST(ReferrersApi, WithoutOciSubjectTheApiStillCounts) {
    ScriptedRegistryOptions options;
    options.send_oci_subject = false;
    auto s = start(options);
    ASSERT_TRUE(s);
    auto attached = attach(*s, "rule-a", 1000);
    ASSERT_TRUE(attached) << attached.error().message;
    EXPECT_EQ(attached->indexing, ReferrersIndexing::registry);
    EXPECT_EQ(s->registry->tags("shop/cart"), std::vector<std::string>{"1.4"});
}

// Pages are followed through Link; the newest KubeArmor artifact wins, not a newer SBOM.
TEST(ReferrersApi, PullFollowsPaginationAndTakesTheNewestKubeArmorArtifact) {
    ScriptedRegistryOptions options;
    options.page_size = 1;
    auto s = start(options);
    ASSERT_TRUE(s);
    ASSERT_TRUE(attach(*s, "rule-old", 1000));
    auto newest = attach(*s, "rule-new", 3000);
    ASSERT_TRUE(newest);
    ASSERT_TRUE(attach(*s, "rule-middle", 2000));
    testing::push_test_sbom(*s->client, s->image, "2099-01-01T00:00:00Z");

    TempDir out;
    const auto before = s->registry->requests().size();
    auto pulled = pull(*s, out.path());
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, newest->manifest_digest);
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-rule-new.yaml"));
    const auto requests = s->registry->requests();
    const std::vector<std::string> during(requests.begin() + static_cast<long>(before), requests.end());
    EXPECT_EQ(count_containing(during, "/referrers/"), 3u) << "three KubeArmor referrers, one per page";
    EXPECT_EQ(count_containing(during, "page=2"), 1u);
}

// OCI-Filters-Applied is absent: the client filters by artifactType itself.
TEST(ReferrersApi, ClientFiltersWhenTheRegistryDoesNot) {
    ScriptedRegistryOptions options;
    options.apply_filter = false;
    options.page_size = 2;
    auto s = start(options);
    ASSERT_TRUE(s);
    auto ours = attach(*s, "rule-a", 1000);
    ASSERT_TRUE(ours);
    testing::push_test_sbom(*s->client, s->image, "2099-01-01T00:00:00Z");

    InspectOptions inspect;
    inspect.reference = *Reference::parse(s->image_ref);
    inspect.remote.plain_http = true;
    auto shown = inspect_reference(inspect);
    ASSERT_TRUE(shown) << shown.error().message;
    ASSERT_EQ(shown->attached.size(), 1u);
    EXPECT_EQ(shown->attached[0].digest, ours->manifest_digest);
    TempDir out;
    auto pulled = pull(*s, out.path());
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, ours->manifest_digest);
}

// A registry that lists referrers by their config's media type (go-containerregistry): an
// artifact with our artifactType and an empty config (as `oras attach` makes it) is found by
// looking at its manifest; an SBOM made the same way, though newer, is not taken.
TEST(ReferrersApi, AnArtifactListedByItsEmptyConfigTypeIsFoundByItsManifest) {
    ScriptedRegistryOptions options;
    options.apply_filter = false;
    options.artifact_type_from_config = true;
    auto s = start(options);
    ASSERT_TRUE(s);
    const std::string empty = "{}";
    const std::string policy = ksp("attached-elsewhere");
    Manifest m;
    m.media_type = media_type::oci_manifest;
    m.artifact_type = media_type::kubearmor_config;
    m.config = testing::describe_bytes(media_type::oci_empty, empty);
    m.layers = {testing::describe_bytes(media_type::kubearmor_layer_yaml, policy)};
    m.subject = s->image;
    m.annotations[annotation::created] = "2024-01-01T00:00:00Z";
    ASSERT_TRUE(s->client->upload_blob(*m.config, empty));
    ASSERT_TRUE(s->client->upload_blob(m.layers[0], policy));
    const auto bytes = oci::serialize_manifest(m);
    const auto digest = Digest::sha256_of(bytes);
    ASSERT_TRUE(s->client->put_manifest(digest.str(), media_type::oci_manifest, bytes));
    testing::push_test_sbom(*s->client, s->image, "2099-01-01T00:00:00Z");

    TempDir out;
    auto pulled = pull(*s, out.path());
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, digest);
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-attached-elsewhere.yaml"));
}

// Without the API, another writer changes the fallback index between our read and our
// write: we see it on the re-read before PUT, merge again, and both entries survive.
TEST(FallbackTag, AnotherWriterBetweenReadAndWriteIsMerged) {
    ScriptedRegistryOptions options;
    options.referrers_api = false;
    options.send_oci_subject = false;
    auto s = start(options);
    ASSERT_TRUE(s);
    const auto tag = ops::referrers_tag(s->image.digest);
    const auto sbom = testing::push_test_sbom(*s->client, s->image, "2030-01-01T00:00:00Z");
    Descriptor sbom_entry = testing::describe_bytes(media_type::oci_manifest, sbom);
    sbom_entry.artifact_type = "application/spdx+json";
    auto other_index = ops::add_to_referrers_index(std::nullopt, sbom_entry, tag);
    ASSERT_TRUE(other_index && *other_index);

    int tag_reads = 0;
    auto* registry = s->registry.get();
    const std::string other = **other_index;
    registry->on_request([&tag_reads, registry, tag, other](const std::string& method, const std::string& target) {
        if (method == "GET" && target.find("/manifests/" + tag) != std::string::npos && ++tag_reads == 3)
            registry->put_manifest("shop/cart", tag, media_type::oci_index, other);
    });
    auto attached = attach(*s, "rule-a", 1000);
    ASSERT_TRUE(attached) << attached.error().message;
    EXPECT_EQ(attached->indexing, ReferrersIndexing::fallback_tag);
    // The change was seen before writing: one PUT, after a second read-merge round.
    EXPECT_EQ(tag_reads, 6);
    EXPECT_EQ(count_containing(s->registry->requests(), "PUT /v2/shop/cart/manifests/" + tag), 1u);
    const auto index = nlohmann::json::parse(*s->registry->manifest("shop/cart", tag));
    ASSERT_EQ(index["manifests"].size(), 2u) << index.dump();
    EXPECT_EQ(index["manifests"][0]["digest"], sbom_entry.digest.str());
    EXPECT_EQ(index["manifests"][1]["digest"], attached->manifest_digest.str());
}

// A writer who read before our PUT writes after it, without our entry: the read-back
// catches it and we merge again.
TEST(FallbackTag, AWriterThatDropsOurEntryAfterOurPutIsRepaired) {
    ScriptedRegistryOptions options;
    options.referrers_api = false;
    options.send_oci_subject = false;
    auto s = start(options);
    ASSERT_TRUE(s);
    const auto tag = ops::referrers_tag(s->image.digest);
    const auto sbom = testing::push_test_sbom(*s->client, s->image, "2030-01-01T00:00:00Z");
    Descriptor sbom_entry = testing::describe_bytes(media_type::oci_manifest, sbom);
    sbom_entry.artifact_type = "application/spdx+json";
    const auto other = **ops::add_to_referrers_index(std::nullopt, sbom_entry, tag);

    bool put_seen = false, clobbered = false;
    auto* registry = s->registry.get();
    registry->on_request([&, registry](const std::string& method, const std::string& target) {
        if (target.find("/manifests/" + tag) == std::string::npos) return;
        if (method == "PUT") put_seen = true;
        if (method == "GET" && put_seen && !clobbered) {
            clobbered = true;
            registry->put_manifest("shop/cart", tag, media_type::oci_index, other);
        }
    });
    auto attached = attach(*s, "rule-a", 1000);
    ASSERT_TRUE(attached) << attached.error().message;
    EXPECT_TRUE(clobbered);
    EXPECT_EQ(count_containing(s->registry->requests(), "PUT /v2/shop/cart/manifests/" + tag), 2u);
    const auto index = nlohmann::json::parse(*s->registry->manifest("shop/cart", tag));
    ASSERT_EQ(index["manifests"].size(), 2u) << index.dump();
    EXPECT_EQ(index["manifests"][1]["digest"], attached->manifest_digest.str());
}

}  // namespace
}  // namespace karmor
