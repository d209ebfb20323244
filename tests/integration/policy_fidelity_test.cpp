// Issue 22, fidelity with the API server, through the binary and a real docker-registry: a byte
// order mark, an empty namespace and a separator line with text after it are taken as
// `kubectl apply -f` and the API server take them.
#include <gtest/gtest.h>

#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::string policy_text =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: block-shell\n"
    "spec:\n  process:\n    matchPaths:\n      - path: /bin/sh\n  action: Block\n";

TEST(PolicyFidelity, ByteOrderMarkAtTheStartIsPushedAndPulledWithoutIt) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "bom.yaml", "\xEF\xBB\xBF" + policy_text);
    const auto image = registry->localhost() + "/bom:v1";
    auto push = run_karmor({"oci", "push", "-i", image, "-p", (work / "bom.yaml").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_EQ(read_text(work / "out" / "ksp-default-block-shell.yaml"), policy_text);
}

TEST(PolicyFidelity, EmptyNamespaceIsTheDefaultNamespace) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    auto text = policy_text;
    text.replace(text.find("  name: block-shell\n"), 20, "  name: block-shell\n  namespace: \"\"\n");
    write_text(work / "empty-namespace.yaml", text);
    const auto image = registry->localhost() + "/ns:v1";
    auto dry = run_karmor({"oci", "push", "--dry-run", "-i", image, "-p", (work / "empty-namespace.yaml").string()});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_NE(dry.err.find("KubeArmorPolicy/default/block-shell  (ksp-default-block-shell.yaml)"), std::string::npos)
        << dry.err;
    auto push = run_karmor({"oci", "push", "-i", image, "-p", (work / "empty-namespace.yaml").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    // Named after the namespace the API server puts it in; kept as written.
    EXPECT_EQ(read_text(work / "out" / "ksp-default-block-shell.yaml"), text);

    // Together with the same policy in "default", it is one policy defined twice.
    auto explicit_default = text;
    explicit_default.replace(explicit_default.find("namespace: \"\""), 13, "namespace: default");
    write_text(work / "default.yaml", explicit_default);
    auto both = run_karmor({"oci", "push", "--dry-run", "-i", image, "-p", (work / "empty-namespace.yaml").string(),
                            "-p", (work / "default.yaml").string()});
    EXPECT_EQ(both.exit_code, 3) << both.err;
    EXPECT_NE(both.err.find("KubeArmorPolicy/default/block-shell is defined twice"), std::string::npos) << both.err;
}

TEST(PolicyFidelity, SeparatorWithTextAfterItIsRefused) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "tagged.yaml", "--- !!map\n" + policy_text);
    auto push =
        run_karmor({"oci", "push", "-i", registry->localhost() + "/sep:v1", "-p", (work / "tagged.yaml").string()});
    EXPECT_EQ(push.exit_code, 3) << push.err;
    EXPECT_NE(push.err.find((work / "tagged.yaml").string() +
                            ":1:5: YAML syntax error: invalid document separator: \"!!map\" after \"---\""),
              std::string::npos)
        << push.err;
    EXPECT_TRUE(registry->requests().empty()) << "a refused file reached the registry";

    write_text(work / "commented.yaml", "--- # the policy\n" + policy_text);
    auto accepted = run_karmor({"oci", "push", "--dry-run", "-i", registry->localhost() + "/sep:v1", "-p",
                                (work / "commented.yaml").string()});
    EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
}

}  // namespace
}  // namespace karmor
