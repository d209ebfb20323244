// SPEC §11 `diff` through the binary (exit 0 equal, 1 different, ≥ 2 error) and the push
// flags for provenance and Flux (--source, --revision, --layer-format tar).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bundle/archive.hpp"
#include "oci/registry_client.hpp"
#include "support/local_registry.hpp"
#include "support/process.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& name, const std::string& action) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  severity: 5\n  selector:\n    matchLabels:\n      app: cart\n"
           "  process:\n    matchPaths:\n      - path: /bin/" +
           name + "\n  action: " + action + "\n";
}

// The same policy as ksp(name, action), written differently: comments, key order, quoting,
// flow style and indentation.
std::string ksp_rewritten(const std::string& name, const std::string& action) {
    return "# reviewed by the security team\nkind: \"KubeArmorPolicy\"\napiVersion: 'security.kubearmor.com/v1'\n"
           "metadata: {namespace: shop, name: \"" +
           name + "\"}\nspec:\n    action: " + action +
           "   # keep\n    process:\n        matchPaths:\n        -   path: \"/bin/" + name +
           "\"\n    selector: {matchLabels: {app: 'cart'}}\n    severity: 5\n";
}

TEST(MovingDiff, FormattingDoesNotCountAndChangesAreListedExactly) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "a" / "one.yaml", ksp("block-sh", "Block") + "---\n" + ksp("block-curl", "Block"));
    write_text(work / "a" / "two.yaml", ksp("block-nc", "Audit"));
    // B: the same three, reordered into other files and rewritten.
    write_text(work / "b" / "all.yaml", ksp_rewritten("block-nc", "Audit") + "---\n" +
                                            ksp_rewritten("block-curl", "Block") + "---\n" +
                                            ksp_rewritten("block-sh", "Block"));
    // C: block-sh changed its action, block-curl is gone, block-wget is new.
    write_text(work / "c" / "p.yaml",
               ksp("block-sh", "Audit") + "---\n" + ksp("block-nc", "Audit") + "---\n" + ksp("block-wget", "Block"));

    const std::string ref = registry->localhost() + "/team/policies:v1";
    auto push = run_karmor({"oci", "push", "-i", ref, "-p", (work / "a").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;

    auto same_dirs = run_karmor({"oci", "diff", (work / "a").string(), (work / "b").string()});
    EXPECT_EQ(same_dirs.exit_code, 0) << same_dirs.out << same_dirs.err;
    EXPECT_EQ(same_dirs.out, "");
    auto same_ref = run_karmor({"oci", "diff", ref, (work / "b").string()});
    EXPECT_EQ(same_ref.exit_code, 0) << same_ref.out << same_ref.err;
    auto same_flag = run_karmor({"oci", "diff", ref, "-p", (work / "b" / "all.yaml").string()});
    EXPECT_EQ(same_flag.exit_code, 0) << same_flag.out << same_flag.err;

    auto changed = run_karmor({"oci", "diff", ref, (work / "c").string(), "--output", "json"});
    EXPECT_EQ(changed.exit_code, 1) << changed.err;
    const auto json = nlohmann::json::parse(changed.out);
    EXPECT_EQ(json["equal"], false);
    EXPECT_EQ(json["added"], nlohmann::json::array({"KubeArmorPolicy/shop/block-wget"}));
    EXPECT_EQ(json["removed"], nlohmann::json::array({"KubeArmorPolicy/shop/block-curl"}));
    ASSERT_EQ(json["changed"].size(), 1u);
    EXPECT_EQ(json["changed"][0]["policy"], "KubeArmorPolicy/shop/block-sh");
    const auto diff = json["changed"][0]["diff"].get<std::string>();
    EXPECT_NE(diff.find("\n-  action: Block\n+  action: Audit\n"), std::string::npos) << diff;
    EXPECT_EQ(json["unchanged"], 1);

    auto text = run_karmor({"oci", "diff", ref, (work / "c").string()});
    EXPECT_EQ(text.exit_code, 1);
    EXPECT_NE(text.out.find("removed: KubeArmorPolicy/shop/block-curl\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("added:   KubeArmorPolicy/shop/block-wget\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("changed: KubeArmorPolicy/shop/block-sh\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("@@ "), std::string::npos) << text.out;
}

TEST(MovingDiff, ErrorsExitWithTwoOrMore) {
    TempDir work;
    write_text(work / "a.yaml", ksp("block-sh", "Block"));
    auto unreachable = run_karmor({"oci", "diff", "127.0.0.1:1/team/policies:v1", (work / "a.yaml").string()});
    EXPECT_GE(unreachable.exit_code, 2) << unreachable.err;
    EXPECT_NE(unreachable.err.find("Error:"), std::string::npos);
    auto one_side = run_karmor({"oci", "diff", (work / "a.yaml").string()});
    EXPECT_EQ(one_side.exit_code, 2) << one_side.err;
    write_text(work / "bad.yaml", "kind: Nope\n");
    auto invalid = run_karmor({"oci", "diff", (work / "a.yaml").string(), (work / "bad.yaml").string()});
    EXPECT_GE(invalid.exit_code, 2) << invalid.err;
}

TEST(MovingPush, SourceRevisionAndATarLayerForFlux) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("block-sh", "Block"));
    const std::string ref = registry->localhost() + "/team/policies:flux";
    auto push = run_karmor({"oci", "push", "-i", ref, "-p", (work / "p.yaml").string(), "--source",
                            "https://git.example.com/team/policies", "--revision", "main@sha1:0123abcd",
                            "--layer-format", "tar"});
    ASSERT_EQ(push.exit_code, 0) << push.err;

    auto transport = oci::make_curl_transport({});
    oci::RegistryClient client(*Reference::parse(ref), {}, *transport);
    auto fetched = client.fetch_manifest("flux");
    ASSERT_TRUE(fetched && *fetched);
    const auto& m = (*fetched)->manifest;
    EXPECT_EQ(m.annotations.at("org.opencontainers.image.source"), "https://git.example.com/team/policies");
    EXPECT_EQ(m.annotations.at("org.opencontainers.image.revision"), "main@sha1:0123abcd");
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.layers[0].media_type, media_type::kubearmor_layer_tar_gzip);
    // A plain tar.gz of YAML files under policies/, which Flux unpacks (its Kustomization then
    // takes path ./policies) and ORAS too (the layer is titled and marked for unpacking).
    EXPECT_EQ(m.layers[0].annotations.at("org.opencontainers.image.title"), "policies");
    EXPECT_EQ(m.layers[0].annotations.at("io.deis.oras.content.unpack"), "true");
    auto blob = client.fetch_blob(m.layers[0], 1 << 20);
    ASSERT_TRUE(blob);
    auto entries = bundle::read_tar_gz(*blob, "layer");
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].name, "policies/ksp-shop-block-sh.yaml");
    EXPECT_EQ((*entries)[0].content, ksp("block-sh", "Block"));
    TempDir flux;  // what Flux's tar extraction (and tar itself) makes of the layer
    write_text(flux / "layer.tar.gz", *blob);
    const auto untar =
        testing::run_command({"tar", "-xzf", (flux / "layer.tar.gz").string(), "-C", flux.path().string()});
    ASSERT_EQ(untar.exit_code, 0) << untar.err;
    EXPECT_EQ(read_text(flux / "policies" / "ksp-shop-block-sh.yaml"), ksp("block-sh", "Block"));

    TempDir out;
    auto pull = run_karmor({"oci", "pull", "-i", ref, "-o", out.path().string()});
    EXPECT_EQ(pull.exit_code, 0) << pull.err;

    auto conflict = run_karmor({"oci", "push", "-i", ref, "-p", (work / "p.yaml").string(), "--source", "https://a",
                                "-a", "org.opencontainers.image.source=https://b", "--dry-run"});
    EXPECT_EQ(conflict.exit_code, 2) << conflict.err;
}

}  // namespace
}  // namespace karmor
