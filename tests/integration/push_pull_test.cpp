// The library against a real docker-registry: round trips, determinism, request counts,
// artifacts made by other tools, and skopeo as an independent client.
#include <gtest/gtest.h>

#include <algorithm>

#include "karmor/oci.hpp"
#include "oci/manifest_json.hpp"
#include "oci/registry_client.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::LocalRegistry;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";

std::string ksp(const std::string& name, const std::string& ns = "shop", const std::string& comment = "") {
    return comment + "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: " + ns + "\nspec:\n  selector:\n    matchLabels:\n      app: " + name +
           "\n  process:\n    matchPaths:\n      - path: /bin/" + name + "\n  action: Block\n";
}

PushOptions push_options(const LocalRegistry& registry, const std::string& repo_tag,
                         std::vector<std::filesystem::path> inputs) {
    PushOptions o;
    o.reference = *Reference::parse(registry.localhost() + "/" + repo_tag);
    o.inputs = std::move(inputs);
    return o;
}

PullOptions pull_options(const LocalRegistry& registry, const std::string& repo_ref, std::filesystem::path out) {
    PullOptions o;
    o.reference = *Reference::parse(registry.localhost() + "/" + repo_ref);
    o.output_directory = std::move(out);
    return o;
}

// Policies as parsed data, keyed by identity, for comparing what went in with what came out.
std::map<std::string, std::string> by_identity(const std::vector<Policy>& policies) {
    std::map<std::string, std::string> out;
    for (const auto& p : policies) out[p.identity.str()] = p.document.dump();
    return out;
}

TEST(PushPull, DirectoryOfManyRoundTrips) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto pushed = push_policies(push_options(*registry, "team/policies:v1", {examples}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    EXPECT_EQ(pushed->policies.size(), 4u);
    EXPECT_FALSE(pushed->tag_unchanged);
    EXPECT_EQ(pushed->blobs_uploaded, 2);
    EXPECT_EQ(pushed->manifest.layers.at(0).media_type, media_type::kubearmor_layer_tar_gzip);

    TempDir out;
    auto pulled = pull_policies(pull_options(*registry, "team/policies:v1", out / "policies"));
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, pushed->manifest_digest);
    EXPECT_EQ(pulled->files_written.size(), 4u);

    auto original = load_policy_files({examples});
    auto round_tripped = load_policy_files({out / "policies"});
    ASSERT_TRUE(original);
    ASSERT_TRUE(round_tripped) << round_tripped.error().message;
    EXPECT_EQ(by_identity(*original), by_identity(*round_tripped));
    EXPECT_TRUE(std::filesystem::exists(out / "policies" / "ksp-shop-block-shell.yaml"));
    EXPECT_TRUE(std::filesystem::exists(out / "policies" / "hsp-audit-passwd-writes.yaml"));
}

TEST(PushPull, OnePolicyIsOneYamlLayerAndRoundTrips) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "p.yaml", ksp("block-sh"));
    auto pushed = push_policies(push_options(*registry, "one:latest", {in / "p.yaml"}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    ASSERT_EQ(pushed->manifest.layers.size(), 1u);
    EXPECT_EQ(pushed->manifest.layers[0].media_type, media_type::kubearmor_layer_yaml);

    TempDir out;
    auto pulled = pull_policies(pull_options(*registry, "one@" + pushed->manifest_digest.str(), out.path()));
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(read_text(out / "ksp-shop-block-sh.yaml"), read_text(in / "p.yaml"));
}

// A pull reads the manifest and the layers, never the config: the config is an index for
// inspect and the manifest's digest already pins it (one request fewer, as `oras pull`).
TEST(PushPull, PullReadsTheManifestAndLayersOnly) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "p.yaml", ksp("only-layers"));
    auto pushed = push_policies(push_options(*registry, "lean:latest", {in / "p.yaml"}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    const auto before = registry->requests().size();

    TempDir out;
    auto pulled = pull_policies(pull_options(*registry, "lean:latest", out.path()));
    ASSERT_TRUE(pulled) << pulled.error().message;
    auto requests = registry->requests();
    requests.erase(requests.begin(), requests.begin() + static_cast<std::ptrdiff_t>(before));
    std::erase(requests, std::string("GET /v2/"));
    const std::vector<std::string> expected = {"GET /v2/lean/manifests/latest",
                                               "GET /v2/lean/blobs/" + pushed->manifest.layers.at(0).digest.str()};
    EXPECT_EQ(requests, expected);
}

// SPEC §4: the same policies in another order, under other file names and with other
// comments upload nothing and leave the tag alone; request counts are the benchmark's goals.
TEST(PushPull, RepushOfTheSamePoliciesChangesNothing) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir first, second;
    write_text(first / "a.yaml", ksp("alpha") + "---\n" + ksp("beta"));
    write_text(first / "b.yaml", ksp("gamma"));
    write_text(second / "zzz.yml", ksp("gamma", "shop", "# gamma, moved\n"));
    write_text(second / "other.yaml", ksp("beta", "shop", "\n\n# beta first\n") + "---\n" + ksp("alpha"));

    const auto before = registry->requests().size();
    auto pushed = push_policies(push_options(*registry, "p:v1", {first.path()}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    const auto fresh_requests = registry->requests().size() - before;
    EXPECT_LE(fresh_requests, 8u);

    auto again = push_policies(push_options(*registry, "p:v1", {second.path()}));
    ASSERT_TRUE(again) << again.error().message;
    const auto repush_requests = registry->requests().size() - before - fresh_requests;
    EXPECT_TRUE(again->tag_unchanged);
    EXPECT_EQ(again->blobs_uploaded, 0);
    EXPECT_EQ(again->manifest_digest, pushed->manifest_digest);
    EXPECT_EQ(again->manifest.config->digest, pushed->manifest.config->digest);
    EXPECT_EQ(again->manifest.layers[0].digest, pushed->manifest.layers[0].digest);
    EXPECT_LE(repush_requests, 3u);

    // Another tag of the same policies uploads no blob either.
    auto other_tag = push_policies(push_options(*registry, "p:v2", {second.path()}));
    ASSERT_TRUE(other_tag);
    EXPECT_EQ(other_tag->blobs_uploaded, 0);
    EXPECT_EQ(other_tag->blobs_skipped, 2);

    TempDir out;
    const auto before_pull = registry->requests().size();
    ASSERT_TRUE(pull_policies(pull_options(*registry, "p:v1", out.path())));
    EXPECT_LE(registry->requests().size() - before_pull, 3u);
    std::cout << "requests: fresh push " << fresh_requests << ", unchanged re-push " << repush_requests << ", pull "
              << registry->requests().size() - before_pull << "\n";
}

TEST(PushPull, SourceDateEpochMakesTheManifestReproducible) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto options = push_options(*registry, "repro:a", {examples});
    options.source_date_epoch = 1700000000;
    auto a = push_policies(options);
    options.reference = *Reference::parse(registry->localhost() + "/repro:b");
    auto b = push_policies(options);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(a->manifest_digest, b->manifest_digest);
    EXPECT_EQ(a->manifest.annotations.at(annotation::created), "2023-11-14T22:13:20Z");
}

// SPEC §4: artifacts other tools make with our media types: one layer per file, a
// multi-document layer, ORAS title annotations, an empty {} config.
TEST(PushPull, ReadsArtifactsMadeByOtherTools) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const auto target = *Reference::parse(registry->localhost() + "/oras-made:v1");
    auto transport = oci::make_curl_transport({});
    oci::ClientOptions client_options;
    client_options.push_access = true;
    oci::RegistryClient client(target, client_options, *transport);

    const std::string config = "{}";
    const std::string multi = ksp("one") + "---\n" + ksp("two");
    const std::string single = ksp("three", "prod");
    Manifest m;
    m.media_type = media_type::oci_manifest;
    m.artifact_type = "application/vnd.unknown.artifact.v1";
    const auto describe = [](const std::string& type, const std::string& bytes, std::string title) {
        Descriptor d;
        d.media_type = type;
        d.digest = Digest::sha256_of(bytes);
        d.size = static_cast<std::int64_t>(bytes.size());
        if (!title.empty()) d.annotations[annotation::title] = std::move(title);
        return d;
    };
    m.config = describe(media_type::oci_empty, config, "");
    m.layers = {describe(media_type::kubearmor_layer_yaml, multi, "policies/multi.yaml"),
                describe(media_type::kubearmor_layer_yaml, single, "three.yaml")};
    ASSERT_TRUE(client.upload_blob(*m.config, config));
    ASSERT_TRUE(client.upload_blob(m.layers[0], multi));
    ASSERT_TRUE(client.upload_blob(m.layers[1], single));
    ASSERT_TRUE(client.put_manifest("v1", media_type::oci_manifest, oci::serialize_manifest(m)));

    TempDir out;
    auto pulled = pull_policies(pull_options(*registry, "oras-made:v1", out.path()));
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->policies.size(), 3u);
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-one.yaml"));
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-two.yaml"));
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-prod-three.yaml"));
}

TEST(PushPull, ImageTagIsNotClobberedWithoutForce) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const auto target = *Reference::parse(registry->localhost() + "/myimage:latest");
    auto transport = oci::make_curl_transport({});
    oci::ClientOptions client_options;
    client_options.push_access = true;
    oci::RegistryClient client(target, client_options, *transport);
    const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    Manifest image;
    image.media_type = media_type::oci_manifest;
    image.config = Descriptor{media_type::oci_image_config,
                              Digest::sha256_of(config),
                              static_cast<std::int64_t>(config.size()),
                              "",
                              {},
                              std::nullopt};
    ASSERT_TRUE(client.upload_blob(*image.config, config));
    auto image_digest = client.put_manifest("latest", media_type::oci_manifest, oci::serialize_manifest(image));
    ASSERT_TRUE(image_digest);

    auto refused = push_policies(push_options(*registry, "myimage:latest", {examples}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::usage);
    EXPECT_NE(refused.error().message.find("a container image"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().hint.find("--attach"), std::string::npos);
    auto still = client.fetch_manifest("latest");
    ASSERT_TRUE(still && *still);
    EXPECT_EQ((*still)->digest, *image_digest);

    TempDir out;
    auto pull_image = pull_policies(pull_options(*registry, "myimage:latest", out / "x"));
    ASSERT_FALSE(pull_image);
    EXPECT_NE(pull_image.error().message.find("a container image"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(out / "x"));

    auto options = push_options(*registry, "myimage:latest", {examples});
    options.force = true;
    ASSERT_TRUE(push_policies(options));
}

TEST(PushPull, PullNeverLosesAnExistingFile) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    ASSERT_TRUE(push_policies(push_options(*registry, "keep:v1", {examples})));
    TempDir out;
    write_text(out / "ksp-shop-block-shell.yaml", "my local edit\n");
    write_text(out / "unrelated.txt", "keep me\n");

    auto refused = pull_policies(pull_options(*registry, "keep:v1", out.path()));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::io);
    ASSERT_EQ(refused.error().details.size(), 1u);
    EXPECT_NE(refused.error().details[0].find("ksp-shop-block-shell.yaml"), std::string::npos);
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(out.path())) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"ksp-shop-block-shell.yaml", "unrelated.txt"}))
        << "a refused pull changed the directory";
    EXPECT_EQ(read_text(out / "ksp-shop-block-shell.yaml"), "my local edit\n");

    auto options = pull_options(*registry, "keep:v1", out.path());
    options.force = true;
    auto forced = pull_policies(options);
    ASSERT_TRUE(forced) << forced.error().message;
    EXPECT_NE(read_text(out / "ksp-shop-block-shell.yaml"), "my local edit\n");
    EXPECT_EQ(read_text(out / "unrelated.txt"), "keep me\n");

    auto again = pull_policies(pull_options(*registry, "keep:v1", out.path()));
    ASSERT_TRUE(again) << "identical files are not a conflict";
    EXPECT_EQ(again->files_unchanged.size(), 4u);
    EXPECT_TRUE(again->files_written.empty());
}

TEST(PushPull, MissingReferenceIsNotFound) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir out;
    auto pulled = pull_policies(pull_options(*registry, "nothing:here", out / "x"));
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::not_found);
}

TEST(PushPull, BasicAuthWithCredentials) {
    testing::RegistryConfig config;
    config.user = "alice";
    config.password = "wonderland";
    KARMOR_START_REGISTRY(registry, config);
    auto anonymous = push_policies(push_options(*registry, "private:v1", {examples}));
    ASSERT_FALSE(anonymous);
    EXPECT_EQ(anonymous.error().kind, ErrorKind::auth);

    auto options = push_options(*registry, "private:v1", {examples});
    options.remote.credentials = {"alice", "wrong", ""};
    auto wrong = push_policies(options);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().kind, ErrorKind::auth);
    EXPECT_EQ(wrong.error().message.find("wrong"), std::string::npos);

    options.remote.credentials = {"alice", "wonderland", ""};
    ASSERT_TRUE(push_policies(options));
    TempDir out;
    auto pull = pull_options(*registry, "private:v1", out.path());
    pull.remote.credentials = {"alice", "wonderland", ""};
    ASSERT_TRUE(pull_policies(pull));
}

TEST(Skopeo, CopiesAPushedArtifactAndShowsOurMediaTypes) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    auto pushed = push_policies(push_options(*registry, "skopeo/policies:v1", {examples}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    const std::string source = "docker://" + registry->address() + "/skopeo/policies:v1";

    auto raw = testing::run_command({"skopeo", "inspect", "--raw", "--tls-verify=false", source});
    ASSERT_EQ(raw.exit_code, 0) << raw.err;
    const auto manifest = nlohmann::json::parse(raw.out);
    EXPECT_EQ(manifest["artifactType"], media_type::kubearmor_config);
    EXPECT_EQ(manifest["config"]["mediaType"], media_type::kubearmor_config);
    EXPECT_EQ(manifest["layers"][0]["mediaType"], media_type::kubearmor_layer_tar_gzip);
    EXPECT_EQ(Digest::sha256_of(raw.out), pushed->manifest_digest);

    TempDir layout;
    auto copy = testing::run_command(
        {"skopeo", "copy", "--src-tls-verify=false", source, "oci:" + (layout / "layout").string() + ":v1"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    const auto index = nlohmann::json::parse(read_text(layout / "layout" / "index.json"));
    EXPECT_EQ(index["manifests"][0]["digest"], pushed->manifest_digest.str());
    EXPECT_TRUE(std::filesystem::exists(layout / "layout" / "blobs" / "sha256" / pushed->manifest_digest.hex()));
}

}  // namespace
}  // namespace karmor
