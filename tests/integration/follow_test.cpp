// SPEC §10 through the karmor binary against a real registry: pull's record of what it wrote
// (warn, --prune, --force), and `follow`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "support/local_registry.hpp"

namespace karmor {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string policy(const std::string& name, const std::string& path) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: default\nspec:\n  selector:\n    matchLabels:\n      app: web\n  process:\n"
           "    matchPaths:\n      - path: " +
           path + "\n  action: Block\n";
}

// v1: four policies. v2: `alpha` removed, `beta` changed, `epsilon` added.
void write_version(const fs::path& dir, int version) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (version == 1) write_text(dir / "alpha.yaml", policy("alpha", "/usr/bin/apt"));
    write_text(dir / "beta.yaml", policy("beta", version == 1 ? "/usr/bin/dpkg" : "/usr/bin/rpm"));
    write_text(dir / "gamma.yaml", policy("gamma", "/usr/bin/curl"));
    write_text(dir / "delta.yaml", policy("delta", "/usr/bin/wget"));
    if (version == 2) write_text(dir / "epsilon.yaml", policy("epsilon", "/usr/bin/nc"));
}

void push_version(const std::string& image, const fs::path& work, int version) {
    const auto dir = work / ("v" + std::to_string(version));
    write_version(dir, version);
    auto push = run_karmor({"oci", "push", "-i", image, "-p", dir.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
}

std::set<std::string> yaml_files(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".yaml") names.insert(entry.path().filename().string());
    return names;
}

const std::set<std::string> v2_files = {"ksp-default-beta.yaml", "ksp-default-delta.yaml", "ksp-default-epsilon.yaml",
                                        "ksp-default-gamma.yaml"};

TEST(PullState, WarnsAboutStaleFilesAndPrunesOnlyItsOwn) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/state:latest";
    const auto out = work / "out";
    push_version(image, work.path(), 1);
    auto first = run_karmor({"oci", "pull", "-i", image, "-o", out.string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(yaml_files(out).size(), 4u);
    EXPECT_TRUE(fs::exists(out / ".karmor-pull-state"));
    write_text(out / "mine.yaml", "# a person's file\n");

    push_version(image, work.path(), 2);
    // The changed policy replaces karmor's own unedited file without --force.
    auto warned = run_karmor({"oci", "pull", "-i", image, "-o", out.string()});
    ASSERT_EQ(warned.exit_code, 0) << warned.err;
    EXPECT_NE(warned.err.find("Warning: " + (out / "ksp-default-alpha.yaml").string()), std::string::npos)
        << warned.err;
    EXPECT_EQ(warned.err.find("mine.yaml"), std::string::npos) << "a file karmor did not write is not its business";
    EXPECT_TRUE(fs::exists(out / "ksp-default-alpha.yaml")) << "without --prune nothing is removed";
    EXPECT_EQ(read_text(out / "ksp-default-beta.yaml"), policy("beta", "/usr/bin/rpm"));

    // The warning survives another pull: the leftover is still recorded as karmor's.
    auto again = run_karmor({"oci", "pull", "-i", image, "-o", out.string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("ksp-default-alpha.yaml"), std::string::npos) << again.err;

    auto pruned = run_karmor({"oci", "pull", "--prune", "-i", image, "-o", out.string()});
    ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
    EXPECT_NE(pruned.err.find("Removed " + (out / "ksp-default-alpha.yaml").string()), std::string::npos) << pruned.err;
    auto expected = v2_files;
    expected.insert("mine.yaml");
    EXPECT_EQ(yaml_files(out), expected);
    EXPECT_EQ(read_text(out / "mine.yaml"), "# a person's file\n");
}

TEST(PullState, AnEditedStaleFileIsKeptWithoutForce) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/edited:latest";
    const auto out = work / "out";
    push_version(image, work.path(), 1);
    ASSERT_EQ(run_karmor({"oci", "pull", "-i", image, "-o", out.string()}).exit_code, 0);
    const auto alpha = out / "ksp-default-alpha.yaml";
    write_text(alpha, read_text(alpha) + "# edited by hand\n");

    push_version(image, work.path(), 2);
    auto kept = run_karmor({"oci", "pull", "--prune", "-i", image, "-o", out.string()});
    ASSERT_EQ(kept.exit_code, 0) << kept.err;
    EXPECT_TRUE(fs::exists(alpha)) << "an edited file is not removed without --force";
    EXPECT_NE(kept.err.find(alpha.string() + " was written by an earlier pull, is no longer in the artifact and was "
                                             "changed since; kept"),
              std::string::npos)
        << kept.err;

    auto forced = run_karmor({"oci", "pull", "--prune", "--force", "-i", image, "-o", out.string()});
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_FALSE(fs::exists(alpha));
    EXPECT_EQ(yaml_files(out), v2_files);
}

}  // namespace
}  // namespace karmor
