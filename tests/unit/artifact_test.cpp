#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "bundle/artifact.hpp"
#include "oci/manifest_json.hpp"

namespace karmor::bundle {
namespace {

std::vector<Policy> parse(const std::string& text, const std::string& file = "in.yaml") {
    std::vector<Diagnostic> problems;
    auto policies = parse_policy_text(text, file, {}, problems);
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front().str());
    return policies;
}

std::string policy_text(const std::string& kind, const std::string& name, const std::string& extra = "") {
    const bool host = kind != "KubeArmorPolicy" && kind != "KubeArmorClusterPolicy";
    return "apiVersion: security.kubearmor.com/v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n" + extra +
           "spec:\n" + (host ? "  nodeSelector:\n    matchLabels:\n      os: linux\n" : "") +
           "  process:\n    matchPaths:\n      - path: /bin/" + name + "\n  action: Block\n";
}

TEST(Artifact, OnePolicyIsOneYamlLayer) {
    auto policies = parse(policy_text("KubeArmorPolicy", "block-sh"));
    auto artifact = build_artifact(policies, {});
    ASSERT_TRUE(artifact) << artifact.error().message;
    ASSERT_EQ(artifact->layers.size(), 1u);
    const auto& layer = artifact->layers[0].descriptor;
    EXPECT_EQ(layer.media_type, media_type::kubearmor_layer_yaml);
    EXPECT_EQ(layer.annotations.at(annotation::title), "ksp-default-block-sh.yaml");
    EXPECT_EQ(artifact->manifest.artifact_type, media_type::kubearmor_config);
    EXPECT_EQ(artifact->manifest.config->media_type, media_type::kubearmor_config);
    EXPECT_EQ(
        artifact->config.bytes,
        R"({"formatVersion":1,"policies":[{"action":"Block","apiVersion":"security.kubearmor.com/v1","file":"ksp-default-block-sh.yaml","kind":"KubeArmorPolicy","name":"block-sh","namespace":"default"}]})");
    EXPECT_TRUE(layer.digest.matches(artifact->layers[0].bytes));
    EXPECT_EQ(static_cast<std::size_t>(layer.size), artifact->layers[0].bytes.size());

    BuildOptions json_options;
    json_options.format = PolicyFormat::json;
    auto as_json = build_artifact(policies, json_options);
    ASSERT_TRUE(as_json);
    EXPECT_EQ(as_json->layers[0].descriptor.media_type, media_type::kubearmor_layer_json);
    EXPECT_EQ(nlohmann::json::parse(as_json->layers[0].bytes)["metadata"]["name"], "block-sh");
}

// The config is written without a JSON tree; it must still be canonical JSON (what
// nlohmann::json dumps: sorted keys, no spaces), whatever the names hold.
TEST(Artifact, ConfigIsCanonicalJson) {
    auto policies = parse(policy_text("KubeArmorPolicy", "a", "  namespace: shop\n") + "---\n" +
                          policy_text("KubeArmorHostPolicy", "b") + "---\n" +
                          "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n"
                          "  name: c\nspec:\n  severity: 7\n  selector:\n    matchLabels: {app: \"x\"}\n"
                          "  file:\n    matchPaths:\n      - path: /etc/\u00e9\n  action: Audit\n");
    ASSERT_EQ(policies.size(), 3u);
    sort_policies(policies);
    auto artifact = build_artifact(policies, {});
    ASSERT_TRUE(artifact) << artifact.error().message;
    const auto& config = artifact->config.bytes;
    EXPECT_EQ(nlohmann::json::parse(config).dump(), config);
    const auto index = nlohmann::json::parse(config)["policies"];
    ASSERT_EQ(index.size(), 3u);
    // Sorted by identity: the host policy, then default/c, then shop/a.
    EXPECT_FALSE(index[0].contains("namespace"));
    EXPECT_FALSE(index[0].contains("severity"));
    EXPECT_EQ(index[1]["severity"], 7);
    EXPECT_EQ(index[1]["action"], "Audit");
    EXPECT_EQ(index[2]["namespace"], "shop");
}

TEST(Artifact, ManifestCarriesCreatedAnnotationsAndSubject) {
    BuildOptions options;
    options.created = "2026-01-02T03:04:05Z";
    options.annotations = {{"team", "security"}};
    Descriptor subject;
    subject.media_type = media_type::oci_manifest;
    subject.digest = Digest::sha256_of("image");
    subject.size = 5;
    options.subject = subject;
    auto artifact = build_artifact(parse(policy_text("KubeArmorPolicy", "a")), options);
    ASSERT_TRUE(artifact);
    const auto manifest = nlohmann::json::parse(artifact->manifest_bytes);
    EXPECT_EQ(manifest["schemaVersion"], 2);
    EXPECT_EQ(manifest["mediaType"], media_type::oci_manifest);
    EXPECT_EQ(manifest["artifactType"], media_type::kubearmor_config);
    EXPECT_EQ(manifest["annotations"][annotation::created], "2026-01-02T03:04:05Z");
    EXPECT_EQ(manifest["annotations"]["team"], "security");
    EXPECT_EQ(manifest["subject"]["digest"], subject.digest.str());
    EXPECT_EQ(artifact->manifest_digest, Digest::sha256_of(artifact->manifest_bytes));

    auto parsed = oci::parse_manifest(artifact->manifest_bytes, "", "test");
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(is_kubearmor_artifact(*parsed));
    EXPECT_EQ(parsed->subject, artifact->manifest.subject);
}

// SPEC §4 "Determinism": the same policies in any order, under any file names, with any
// comments and whitespace give byte-identical config and layers.
TEST(Artifact, SamePoliciesGiveTheSameBlobs) {
    const auto a = policy_text("KubeArmorPolicy", "a");
    const auto b = policy_text("KubeArmorHostPolicy", "b");
    const auto c = policy_text("KubeArmorClusterPolicy", "c");
    auto first = parse(a + "---\n" + b + "---\n" + c, "one.yaml");
    sort_policies(first);

    std::string b_noisy = "# a comment\n\n" + b;
    std::replace(b_noisy.begin(), b_noisy.end(), '\n', '\n');
    b_noisy.insert(b_noisy.find("spec:"), "   # trailing spaces and a comment\n");
    auto second = parse(c, "z.yaml");
    auto more = parse(b_noisy, "other-name.yml");
    auto last = parse(a + "\n\n", "x.yaml");
    second.insert(second.end(), more.begin(), more.end());
    second.insert(second.end(), last.begin(), last.end());
    sort_policies(second);

    auto one = build_artifact(first, {});
    auto two = build_artifact(second, {});
    ASSERT_TRUE(one);
    ASSERT_TRUE(two);
    EXPECT_EQ(one->config.bytes, two->config.bytes);
    ASSERT_EQ(one->layers.size(), 1u);
    EXPECT_EQ(one->layers[0].descriptor.media_type, media_type::kubearmor_layer_tar_gzip);
    EXPECT_EQ(one->layers[0].bytes, two->layers[0].bytes);
    EXPECT_EQ(one->manifest_bytes, two->manifest_bytes);

    // As `oras push REF policies/` lays it out (issue 22): the files under one directory named
    // like the layer's title, marked for unpacking, so `oras pull` writes the policy files.
    EXPECT_EQ(one->layers[0].descriptor.annotations.at(annotation::title), "policies");
    EXPECT_EQ(one->layers[0].descriptor.annotations.at("io.deis.oras.content.unpack"), "true");
    auto entries = read_tar_gz(one->layers[0].bytes, "layer");
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 3u);  // the directory entry is not a file
    EXPECT_EQ((*entries)[0].name, "policies/csp-c.yaml");
    EXPECT_EQ((*entries)[1].name, "policies/hsp-b.yaml");
    EXPECT_EQ((*entries)[2].name, "policies/ksp-default-a.yaml");
}

// Artifacts of earlier versions hold the files at the top of the archive: they still read.
TEST(Artifact, ReadsTheFlatArchivesOfEarlierVersions) {
    const auto a = policy_text("KubeArmorPolicy", "a");
    const auto b = policy_text("KubeArmorHostPolicy", "b");
    const std::vector<ArchiveFile> flat = {{"hsp-b.yaml", b}, {"ksp-default-a.yaml", a}};
    auto archive = write_tar_gz(flat, 0);
    ASSERT_TRUE(archive);
    FetchedLayer layer;
    layer.descriptor.media_type = media_type::kubearmor_layer_tar_gzip;
    layer.descriptor.annotations[annotation::title] = "policies.tar.gz";
    layer.bytes = *archive;
    std::vector<Diagnostic> problems;
    std::vector<FetchedLayer> layers{layer};
    const auto policies = read_policy_layers(layers, {}, {}, problems);
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front().str());
    ASSERT_EQ(policies.size(), 2u);
    EXPECT_EQ(policies[0].identity.name, "b");
    EXPECT_EQ(policies[1].identity.name, "a");
}

// An archive's files are parsed while the rest is decompressed (util::ParallelStream). One
// that turns out corrupt part-way is refused as a whole, as when nothing was parsed before the
// refusal: its files read before it add no policy and no problem of their own.
TEST(Artifact, AnArchiveRefusedPartWayAddsOnlyItsRefusal) {
    const auto a = policy_text("KubeArmorPolicy", "a");
    const auto b = policy_text("KubeArmorPolicy", "b", "  labels: [not, a, map]\n");  // a problem of its own
    const std::string c = policy_text("KubeArmorPolicy", "c") + "# " + std::string(300000, 'x') + "\n";
    const std::vector<ArchiveFile> files = {{"a.yaml", a}, {"b.yaml", b}, {"c.yaml", c}};
    auto archive = write_tar_gz(files, 0, 0);  // stored, not compressed: the cut lands in c.yaml
    ASSERT_TRUE(archive);
    FetchedLayer whole;
    whole.descriptor.media_type = media_type::kubearmor_layer_tar_gzip;
    whole.bytes = *archive;
    std::vector<FetchedLayer> complete{whole};
    std::vector<Diagnostic> problems;
    EXPECT_EQ(read_policy_layers(complete, {}, {}, problems).size(), 2u);
    ASSERT_EQ(problems.size(), 1u) << "b.yaml's own problem, while the archive reads";

    FetchedLayer cut = whole;
    cut.bytes.resize(cut.bytes.size() * 3 / 4);
    std::vector<FetchedLayer> layers{cut};
    problems.clear();
    std::atomic<int> handed_over{0};
    const auto policies = read_policy_layers(layers, {}, {}, problems, [&](Policy&) { ++handed_over; });
    EXPECT_TRUE(policies.empty());
    ASSERT_EQ(problems.size(), 1u) << problems.back().str();
    EXPECT_EQ(problems[0].str().find("labels"), std::string::npos) << problems[0].str();
    EXPECT_NE(problems[0].str().find("truncated"), std::string::npos) << problems[0].str();
    EXPECT_LE(handed_over.load(), 1) << "a.yaml may have been parsed before the refusal; c.yaml never";
}

TEST(Artifact, ReadsLayersOfOtherTools) {
    // ORAS-style: one layer per file, a multi-document YAML among them, a JSON layer.
    const auto a = policy_text("KubeArmorPolicy", "a");
    const auto b = policy_text("KubeArmorHostPolicy", "b");
    const auto c = policy_text("KubeArmorClusterPolicy", "c");
    std::vector<FetchedLayer> layers;
    FetchedLayer multi;
    multi.descriptor.media_type = media_type::kubearmor_layer_yaml;
    multi.descriptor.annotations[annotation::title] = "bundle.yaml";
    multi.bytes = a + "---\n" + b;
    layers.push_back(multi);
    FetchedLayer json;
    json.descriptor.media_type = media_type::kubearmor_layer_json;
    json.bytes = parse(c)[0].document.dump();
    layers.push_back(json);
    std::vector<Diagnostic> problems;
    auto policies = read_policy_layers(layers, {}, {}, problems);
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front().str());
    ASSERT_EQ(policies.size(), 3u);
    EXPECT_EQ(policies[0].identity.name, "c");
    EXPECT_EQ(policies[2].origin.file, "bundle.yaml");
}

// Pull (issue 26 goal 2): a YAML layer that is its policy's serialized text becomes that text
// instead of being copied; when any text has a problem, every layer is left as it was, for the
// second reading of pull's hint.
TEST(Artifact, AYamlLayerKarmorWroteBecomesItsPolicysText) {
    LoadOptions as_pull;
    as_pull.serialize_as = PolicyFormat::yaml;
    const auto a = serialize_policy(parse(policy_text("KubeArmorPolicy", "a"))[0], PolicyFormat::yaml);
    const auto b = serialize_policy(parse(policy_text("KubeArmorPolicy", "b"))[0], PolicyFormat::yaml);
    FetchedLayer commented;
    commented.descriptor.media_type = media_type::kubearmor_layer_yaml;
    commented.bytes = a + "# a comment: read, but not part of the serialized text\n";
    FetchedLayer written = commented;
    written.bytes = b;
    std::vector<FetchedLayer> layers{commented, written};
    const auto* bytes = layers[1].bytes.data();
    std::vector<Diagnostic> problems;
    auto policies = read_policy_layers(layers, as_pull, {}, problems);
    ASSERT_TRUE(problems.empty()) << problems.front().str();
    EXPECT_EQ(layers[0].bytes, commented.bytes) << "a layer with a comment is copied from";
    EXPECT_TRUE(layers[1].bytes.empty());
    ASSERT_EQ(policies.size(), 2u);
    EXPECT_EQ(policies[0].serialized, a);
    EXPECT_EQ(policies[1].serialized, b);
    EXPECT_EQ(policies[1].serialized.data(), bytes) << "moved, not copied";

    FetchedLayer broken = written;
    broken.bytes = policy_text("KubeArmorPolicy", "c", "  labels: [not, a, map]\n");
    std::vector<FetchedLayer> refused{written, broken};
    problems.clear();
    (void)read_policy_layers(refused, as_pull, {}, problems);
    EXPECT_FALSE(problems.empty());
    EXPECT_EQ(refused[0].bytes, b) << "given back for a second reading";
}

TEST(Artifact, DescribesWhatItRefuses) {
    Manifest image;
    image.media_type = media_type::oci_manifest;
    image.config = Descriptor{media_type::oci_image_config, Digest::sha256_of("c"), 1, "", {}, std::nullopt};
    image.layers.push_back(
        Descriptor{"application/vnd.oci.image.layer.v1.tar+gzip", Digest::sha256_of("l"), 1, "", {}, std::nullopt});
    EXPECT_FALSE(is_kubearmor_artifact(image));
    EXPECT_EQ(describe_artifact(image), "a container image");
    Manifest chart = image;
    chart.config->media_type = media_type::helm_config;
    EXPECT_EQ(describe_artifact(chart), "a Helm chart");
    Manifest index;
    index.media_type = media_type::oci_index;
    EXPECT_FALSE(is_kubearmor_artifact(index));
    EXPECT_NE(describe_artifact(index).find("index"), std::string::npos);

    Manifest empty_config = image;  // another tool: empty config, our layer types
    empty_config.config->media_type = media_type::oci_empty;
    empty_config.layers[0].media_type = media_type::kubearmor_layer_yaml;
    EXPECT_TRUE(is_kubearmor_artifact(empty_config));
}

}  // namespace
}  // namespace karmor::bundle
