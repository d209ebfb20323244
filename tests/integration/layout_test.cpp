// --oci-layout (SPEC §2): karmor writes layouts skopeo reads, reads layouts skopeo writes,
// attaches in a layout, replaces a tag without losing other entries, verifies digests.
#include <gtest/gtest.h>

#include "karmor/oci.hpp"
#include "support/local_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";

std::string ksp(const std::string& name) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: cart\n  process:\n    matchPaths:\n"
           "      - path: /bin/" +
           name + "\n  action: Block\n";
}

PushOptions layout_push(const std::string& layout, std::vector<std::filesystem::path> inputs) {
    PushOptions o;
    o.layout = *LayoutReference::parse(layout);
    o.inputs = std::move(inputs);
    return o;
}

PullOptions layout_pull(const std::string& layout, const std::filesystem::path& out) {
    PullOptions o;
    o.layout = *LayoutReference::parse(layout);
    o.output_directory = out;
    return o;
}

TEST(Layout, KarmorWritesALayoutThatSkopeoReads) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const auto dir = (work / "layout").string();
    auto push = run_karmor({"oci", "push", "--oci-layout", "-i", dir + ":v1", "-p", examples.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    const auto digest = push.out.substr(0, push.out.find('\n'));

    EXPECT_EQ(nlohmann::json::parse(read_text(work / "layout" / "oci-layout")),
              nlohmann::json({{"imageLayoutVersion", "1.0.0"}}));
    const auto index = nlohmann::json::parse(read_text(work / "layout" / "index.json"));
    ASSERT_EQ(index["manifests"].size(), 1u);
    EXPECT_EQ(index["manifests"][0]["digest"], digest);
    EXPECT_EQ(index["manifests"][0]["annotations"][annotation::ref_name], "v1");

    auto raw = run_command({"skopeo", "inspect", "--raw", "oci:" + dir + ":v1"});
    ASSERT_EQ(raw.exit_code, 0) << raw.err;
    EXPECT_EQ(Digest::sha256_of(raw.out).str(), digest);

    // skopeo carries it to a registry; karmor pulls it from there unchanged.
    const std::string remote = registry->address() + "/from-layout:v1";
    auto copy = run_command({"skopeo", "copy", "--dest-tls-verify=false", "oci:" + dir + ":v1", "docker://" + remote});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    auto pull = run_karmor({"oci", "pull", "-i", remote, "-o", (work / "out").string()});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_NE(pull.err.find(digest), std::string::npos) << pull.err;
    EXPECT_TRUE(std::filesystem::exists(work / "out" / "ksp-shop-block-shell.yaml"));
}

TEST(Layout, KarmorPullsALayoutThatSkopeoWrote) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    PushOptions push;
    push.reference = *Reference::parse(registry->localhost() + "/team/policies:v1");
    push.inputs = {examples};
    auto pushed = push_policies(push);
    ASSERT_TRUE(pushed) << pushed.error().message;

    TempDir work;
    const auto dir = (work / "layout").string();
    auto copy = run_command({"skopeo", "copy", "--src-tls-verify=false",
                             "docker://" + registry->address() + "/team/policies:v1", "oci:" + dir + ":v1"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;

    auto pull = run_karmor({"oci", "pull", "--oci-layout", "-i", dir + ":v1", "-o", (work / "out").string()});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_NE(pull.err.find(pushed->manifest_digest.str()), std::string::npos) << pull.err;
    // Four policies and pull's hidden record of what it wrote (.karmor-pull-state, SPEC §10).
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(work / "out"), {}), 5);
    EXPECT_TRUE(std::filesystem::exists(work / "out" / ".karmor-pull-state"));

    auto by_digest = pull_policies(layout_pull(dir + "@" + pushed->manifest_digest.str(), work / "out2"));
    ASSERT_TRUE(by_digest) << by_digest.error().message;
    // No tag: the layout's only manifest.
    auto only = pull_policies(layout_pull(dir, work / "out3"));
    ASSERT_TRUE(only) << only.error().message;
    EXPECT_EQ(only->manifest_digest, pushed->manifest_digest);

    auto json = run_karmor({"oci", "inspect", "--oci-layout", "-i", dir + ":v1", "--output", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto shown = nlohmann::json::parse(json.out);
    EXPECT_EQ(shown["kind"], "kubearmor-artifact");
    EXPECT_EQ(shown["digest"], pushed->manifest_digest.str());
    EXPECT_EQ(shown["policies"].size(), 4u);
}

TEST(Layout, ReplacingATagKeepsTheOtherEntries) {
    TempDir work, in;
    write_text(in / "a.yaml", ksp("rule-a"));
    write_text(in / "b.yaml", ksp("rule-b"));
    const auto dir = (work / "layout").string();
    auto v1 = push_policies(layout_push(dir + ":v1", {in / "a.yaml"}));
    ASSERT_TRUE(v1) << v1.error().message;
    auto v2 = push_policies(layout_push(dir + ":v2", {in / "b.yaml"}));
    ASSERT_TRUE(v2) << v2.error().message;
    auto v1_again = push_policies(layout_push(dir + ":v1", {in / "b.yaml"}));
    ASSERT_TRUE(v1_again) << v1_again.error().message;

    const auto index = nlohmann::json::parse(read_text(work / "layout" / "index.json"));
    std::map<std::string, std::string> tags;
    for (const auto& entry : index["manifests"]) tags[entry["annotations"][annotation::ref_name]] = entry["digest"];
    EXPECT_EQ(tags.size(), 2u) << index.dump();
    EXPECT_EQ(tags["v1"], v1_again->manifest_digest.str());
    EXPECT_EQ(tags["v2"], v2->manifest_digest.str());
    // No temporary file is left behind.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(work / "layout"))
        EXPECT_EQ(entry.path().filename().string().find("karmor-tmp"), std::string::npos) << entry.path();

    auto ambiguous = pull_policies(layout_pull(dir, work / "x"));
    ASSERT_FALSE(ambiguous);
    EXPECT_EQ(ambiguous.error().kind, ErrorKind::usage);
}

// Pull and inspect share how a reference that names nothing is reported; each keeps its hint.
TEST(Layout, PullAndInspectOfAMissingTagAreNotFound) {
    TempDir work;
    const auto dir = (work / "layout").string();
    auto pushed = push_policies(layout_push(dir + ":v1", {examples}));
    ASSERT_TRUE(pushed) << pushed.error().message;

    auto pulled = pull_policies(layout_pull(dir + ":v2", work / "out"));
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::not_found);
    EXPECT_EQ(pulled.error().message, dir + ":v2: not found");
    EXPECT_EQ(pulled.error().hint, "check the repository and tag; `karmor oci inspect` shows what a reference holds");
    EXPECT_FALSE(std::filesystem::exists(work / "out"));

    InspectOptions inspect;
    inspect.layout = *LayoutReference::parse(dir + ":v2");
    auto inspected = inspect_reference(inspect);
    ASSERT_FALSE(inspected);
    EXPECT_EQ(inspected.error().kind, ErrorKind::not_found);
    EXPECT_EQ(inspected.error().message, dir + ":v2: not found");
    EXPECT_EQ(inspected.error().hint, "check the repository and tag");
}

TEST(Layout, AttachToAMissingLayoutCreatesNothing) {
    TempDir work, in;
    write_text(in / "a.yaml", ksp("rule-a"));
    auto options = layout_push((work / "nowhere").string() + ":1.4", {in / "a.yaml"});
    options.attach = true;
    auto attached = push_policies(options);
    ASSERT_FALSE(attached);
    EXPECT_EQ(attached.error().kind, ErrorKind::not_found);
    EXPECT_FALSE(std::filesystem::exists(work / "nowhere"));
}

TEST(Layout, ADamagedBlobIsRewrittenByTheNextPush) {
    TempDir work, in;
    write_text(in / "a.yaml", ksp("rule-a"));
    const auto dir = (work / "layout").string();
    auto pushed = push_policies(layout_push(dir + ":v1", {in / "a.yaml"}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    const auto layer = work / "layout" / "blobs" / "sha256" / pushed->manifest.layers[0].digest.hex();
    auto text = read_text(layer);
    text[0] = '#';
    write_text(layer, text);
    ASSERT_TRUE(push_policies(layout_push(dir + ":v2", {in / "a.yaml"})));
    TempDir out;
    auto pulled = pull_policies(layout_pull(dir + ":v1", out.path()));
    ASSERT_TRUE(pulled) << pulled.error().message;
}

TEST(Layout, ACorruptBlobIsRefused) {
    TempDir work, in;
    write_text(in / "a.yaml", ksp("rule-a"));
    const auto dir = (work / "layout").string();
    auto pushed = push_policies(layout_push(dir + ":v1", {in / "a.yaml"}));
    ASSERT_TRUE(pushed) << pushed.error().message;
    const auto layer = work / "layout" / "blobs" / "sha256" / pushed->manifest.layers[0].digest.hex();
    auto text = read_text(layer);
    text[text.find("Block")] = 'b';
    std::filesystem::permissions(layer, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
    write_text(layer, text);
    auto pulled = pull_policies(layout_pull(dir + ":v1", work / "out"));
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::validation);
    EXPECT_NE(pulled.error().message.find("does not match its digest"), std::string::npos) << pulled.error().message;
    EXPECT_FALSE(std::filesystem::exists(work / "out"));
}

TEST(Layout, AttachInALayoutAddsAnUntaggedEntryFoundFromTheImage) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const auto image_ref = registry->localhost() + "/shop/cart:1.4";
    auto transport = oci::make_curl_transport({});
    oci::ClientOptions options;
    options.push_access = true;
    oci::RegistryClient client(*Reference::parse(image_ref), options, *transport);
    const auto image = testing::push_test_image(client, "1.4", "cart");
    TempDir work, in;
    const auto dir = (work / "layout").string();
    auto copy = run_command({"skopeo", "copy", "--src-tls-verify=false", "--preserve-digests",
                             "docker://" + registry->address() + "/shop/cart:1.4", "oci:" + dir + ":1.4"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;

    write_text(in / "a.yaml", ksp("rule-a"));
    write_text(in / "b.yaml", ksp("rule-b"));
    auto first = layout_push(dir + ":1.4", {in / "a.yaml"});
    first.attach = true;
    first.source_date_epoch = 1000;
    auto older = push_policies(first);
    ASSERT_TRUE(older) << older.error().message;
    EXPECT_EQ(older->indexing, ReferrersIndexing::layout);
    auto second = layout_push(dir + ":1.4", {in / "b.yaml"});
    second.attach = true;
    second.source_date_epoch = 2000;
    auto newer = push_policies(second);
    ASSERT_TRUE(newer) << newer.error().message;

    const auto index = nlohmann::json::parse(read_text(work / "layout" / "index.json"));
    ASSERT_EQ(index["manifests"].size(), 3u) << index.dump();
    EXPECT_EQ(index["manifests"][0]["digest"], image.digest.str());
    EXPECT_FALSE(index["manifests"][1].contains("annotations") &&
                 index["manifests"][1]["annotations"].contains(annotation::ref_name));

    // No tag: the only tagged manifest, the image; its newest attached policies are pulled.
    auto pulled = pull_policies(layout_pull(dir, work / "out"));
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(pulled->manifest_digest, newer->manifest_digest);
    EXPECT_TRUE(std::filesystem::exists(work / "out" / "ksp-shop-rule-b.yaml"));

    InspectOptions inspect;
    inspect.layout = *LayoutReference::parse(dir + ":1.4");
    auto shown = inspect_reference(inspect);
    ASSERT_TRUE(shown) << shown.error().message;
    EXPECT_EQ(shown->kind, ReferenceKind::image);
    ASSERT_EQ(shown->attached.size(), 2u);
    EXPECT_EQ(shown->attached[0].digest, newer->manifest_digest);

    // skopeo still reads the image tag of the layout karmor changed.
    auto raw = run_command({"skopeo", "inspect", "--raw", "oci:" + dir + ":1.4"});
    ASSERT_EQ(raw.exit_code, 0) << raw.err;
    EXPECT_EQ(Digest::sha256_of(raw.out), image.digest);
}

}  // namespace
}  // namespace karmor
