// End-to-end runs of the karmor binary against a real registry.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "karmor/digest.hpp"
#include "karmor/policy.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::read_text;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";

const char* const mypolicy = R"(apiVersion: security.kubearmor.com/v1
kind: KubeArmorPolicy
metadata:
  name: block-pkg-managers
  namespace: default
spec:
  selector:
    matchLabels:
      app: web
  process:
    matchPaths:
      - path: /usr/bin/apt
      - path: /usr/bin/apt-get
  action: Block
)";

// The README's commands, verbatim but for the port.
TEST(Cli, SeedCommandsWorkAsWritten) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "mypolicy.yaml", mypolicy);
    const std::string image = "localhost:" + std::to_string(registry->port()) + "/myimage:latest";

    auto push = run_command({KARMOR_BINARY, "oci", "push", "-i", image, "-p", "mypolicy.yaml"}, {}, {}, work.path());
    ASSERT_EQ(push.exit_code, 0) << push.err;
    EXPECT_TRUE(Digest::parse(push.out.substr(0, push.out.size() - 1))) << "stdout is the digest: " << push.out;

    auto pull = run_command({KARMOR_BINARY, "oci", "pull", "-i", image, "-o", "mydir"}, {}, {}, work.path());
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_EQ(pull.out, "mydir/ksp-default-block-pkg-managers.yaml\n");
    EXPECT_EQ(read_text(work / "mydir" / "ksp-default-block-pkg-managers.yaml"), mypolicy);
}

TEST(Cli, PullToStdoutIsOneYamlStream) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/stream:v1";
    auto push = run_karmor({"oci", "push", "-i", image, "-p", examples.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-"});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    std::vector<Diagnostic> problems;
    auto policies = parse_policy_text(pull.out, "stdout", {}, problems);
    EXPECT_TRUE(problems.empty());
    EXPECT_EQ(policies.size(), 4u);
    EXPECT_NE(pull.err.find("Pulled 4 policies"), std::string::npos);

    auto seed_alias = run_karmor({"oci", "pull", "-i", image, "-d", "-"});
    EXPECT_EQ(seed_alias.exit_code, 0) << "-d/--directory is the seed's alias of -o";
    EXPECT_EQ(seed_alias.out, pull.out);
}

TEST(Cli, DryRunSendsNothing) {
    auto dry = run_karmor({"oci", "push", "--dry-run", "-i", "localhost:1/nowhere:v1", "-p", examples.string()});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_NE(dry.err.find("would push 4 policies"), std::string::npos) << dry.err;
    EXPECT_NE(dry.err.find("KubeArmorPolicy/shop/block-shell"), std::string::npos);
    EXPECT_TRUE(Digest::parse(dry.out.substr(0, dry.out.size() - 1)));
}

struct ExitCase {
    const char* label;
    std::vector<std::string> args;  // {REGISTRY} is replaced by the registry address
    int exit_code;
    const char* stderr_part;
};

class CliExitCodes : public ::testing::TestWithParam<ExitCase> {};

TEST_P(CliExitCodes, AreDistinctAndExplained) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "bad.yaml", std::string(mypolicy).replace(std::string(mypolicy).find("Block"), 5, "block"));
    write_text(work / "good.yaml", mypolicy);
    auto args = GetParam().args;
    for (auto& a : args) {
        if (const auto at = a.find("{REGISTRY}"); at != std::string::npos) a.replace(at, 10, registry->localhost());
        if (const auto at = a.find("{WORK}"); at != std::string::npos) a.replace(at, 6, work.path().string());
    }
    auto result = run_karmor(args);
    EXPECT_EQ(result.exit_code, GetParam().exit_code) << result.err;
    EXPECT_NE(result.err.find(GetParam().stderr_part), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty()) << "errors go to stderr only: " << result.out;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CliExitCodes,
    ::testing::Values(
        ExitCase{"unknown_flag", {"oci", "push", "--bogus"}, 2, "Hint:"},
        ExitCase{"missing_image", {"oci", "pull", "-o", "x"}, 2, "--image"},
        ExitCase{"bad_reference", {"oci", "pull", "-i", "Bad/Ref", "-o", "x"}, 2, "[REGISTRY[:PORT]/]REPOSITORY"},
        ExitCase{"missing_file", {"oci", "push", "-i", "{REGISTRY}/x:v1", "-p", "{WORK}/nope.yaml"}, 7, "no such file"},
        ExitCase{"not_found", {"oci", "pull", "-i", "{REGISTRY}/absent:v1", "-o", "{WORK}/out"}, 4, "not found"},
        ExitCase{
            "connection_refused", {"oci", "pull", "-i", "127.0.0.1:1/x:v1", "-o", "{WORK}/out"}, 6, "cannot connect"},
        ExitCase{"bad_annotation",
                 {"oci", "push", "-i", "{REGISTRY}/x:v1", "-p", "{WORK}/good.yaml", "-a", "novalue"},
                 2,
                 "KEY=VALUE"},
        ExitCase{"password_without_user",
                 {"oci", "pull", "-i", "{REGISTRY}/x:v1", "-o", "d", "--password-stdin"},
                 2,
                 "--username"}),
    [](const auto& test_case) { return std::string(test_case.param.label); });

TEST(Cli, InvalidPolicyFailsWithFileAndLineAndPushesNothing) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    std::string bad = mypolicy;
    bad.replace(bad.find("block-pkg-managers"), 18, "Not A Name");
    write_text(work / "bad.yaml", bad);
    write_text(work / "good.yaml", std::string(mypolicy).replace(std::string(mypolicy).find("block-pkg"), 9, "other"));
    auto push = run_karmor({"oci", "push", "-i", registry->localhost() + "/x:v1", "-p", work.path().string()});
    EXPECT_EQ(push.exit_code, 3);
    EXPECT_NE(push.err.find((work / "bad.yaml").string() + ":4:9: metadata.name"), std::string::npos) << push.err;
    EXPECT_TRUE(registry->requests().empty()) << "an invalid policy set reached the registry";
}

TEST(Cli, VerboseTraceShowsRequestsButNoSecret) {
    testing::RegistryConfig config;
    config.user = "ci";
    config.password = "hunter2-very-secret";
    KARMOR_START_REGISTRY(registry, config);
    auto push = run_karmor({"oci", "push", "-v", "-i", registry->localhost() + "/secret:v1", "-p", examples.string(),
                            "-u", "ci", "--password-stdin"},
                           "hunter2-very-secret\n");
    ASSERT_EQ(push.exit_code, 0) << push.err;
    EXPECT_NE(push.err.find("> PUT"), std::string::npos);
    EXPECT_EQ(push.err.find("hunter2"), std::string::npos);
    EXPECT_EQ(push.err.find("Y2k6aHVudGVy"), std::string::npos) << "the Basic header leaked";
}

TEST(Cli, VersionPrintsLibraries) {
    auto version = run_karmor({"version"});
    ASSERT_EQ(version.exit_code, 0);
    EXPECT_NE(version.out.find("karmor "), std::string::npos);
    EXPECT_NE(version.out.find("libcurl"), std::string::npos);
    EXPECT_NE(version.out.find("libarchive"), std::string::npos);
}

// Every real policy in ../shared/kubearmor/examples survives push and pull as data. The
// folder is optional: without it this test says so and is skipped.
TEST(Cli, SharedExamplesRoundTripWhenPresent) {
    const auto shared = std::filesystem::path(KARMOR_SHARED_DIR) / "kubearmor" / "examples";
    if (!std::filesystem::is_directory(shared)) GTEST_SKIP() << "SKIPPED: " << shared << " is not present";
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    std::size_t checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(shared)) {
        const auto file = entry.path();
        std::vector<Diagnostic> problems;
        auto original = parse_policy_text(read_text(file), file.string(), {}, problems);
        if (!problems.empty()) {
            std::cout << "not valid as a policy, checked to fail cleanly: " << file.filename() << "\n";
            auto push = run_karmor({"oci", "push", "-i", registry->localhost() + "/shared:x", "-p", file.string()});
            EXPECT_EQ(push.exit_code, 3) << push.err;
            continue;
        }
        const std::string image = registry->localhost() + "/shared:" + std::to_string(checked);
        auto push = run_karmor({"oci", "push", "-i", image, "-p", file.string()});
        ASSERT_EQ(push.exit_code, 0) << file << "\n" << push.err;
        auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-"});
        ASSERT_EQ(pull.exit_code, 0) << pull.err;
        std::vector<Diagnostic> pulled_problems;
        auto pulled = parse_policy_text(pull.out, "pulled", {}, pulled_problems);
        ASSERT_TRUE(pulled_problems.empty());
        sort_policies(original);
        ASSERT_EQ(pulled.size(), original.size());
        for (std::size_t i = 0; i < pulled.size(); ++i) EXPECT_EQ(pulled[i].document, original[i].document) << file;
        ++checked;
    }
    std::cout << checked << " shared example files round-tripped\n";
    EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace karmor

namespace karmor {
namespace {

TEST(Cli, JsonOutputForScriptsAndQuietMode) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/json:v1";
    auto push = run_karmor({"oci", "push", "-i", image, "-p", examples.string(), "--output", "json"});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    EXPECT_TRUE(push.err.empty()) << "--output json prints no summary: " << push.err;
    const auto pushed = nlohmann::json::parse(push.out);
    EXPECT_EQ(pushed["artifactType"], "application/vnd.cncf.kubearmor.config.v1+json");
    EXPECT_EQ(pushed["policies"].size(), 4u);
    EXPECT_EQ(pushed["blobsUploaded"], 2);
    EXPECT_EQ(pushed["layers"][0]["mediaType"], "application/vnd.cncf.kubearmor.policy.layer.v1.tar+gzip");

    TempDir out;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", (out / "p").string(), "--output", "json"});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    const auto pulled = nlohmann::json::parse(pull.out);
    EXPECT_EQ(pulled["digest"], pushed["digest"]);
    ASSERT_EQ(pulled["files"].size(), 4u);
    EXPECT_TRUE(std::filesystem::exists(pulled["files"][0]["path"].get<std::string>()));

    auto quiet = run_karmor({"oci", "pull", "-q", "-i", image, "-o", (out / "p").string()});
    ASSERT_EQ(quiet.exit_code, 0);
    EXPECT_TRUE(quiet.err.empty()) << quiet.err;
    EXPECT_EQ(std::count(quiet.out.begin(), quiet.out.end(), '\n'), 4);

    auto both_stdout = run_karmor({"oci", "pull", "-i", image, "-o", "-", "--output", "json"});
    EXPECT_EQ(both_stdout.exit_code, 2);
}

TEST(Cli, HelpListsFlagsAndExamples) {
    for (const auto& command : {"push", "pull", "inspect"}) {
        auto help = run_karmor({"oci", command, "--help"});
        EXPECT_EQ(help.exit_code, 0);
        EXPECT_NE(help.out.find("--image"), std::string::npos) << command;
        EXPECT_NE(help.out.find("Examples:"), std::string::npos) << command;
        EXPECT_NE(help.out.find("--plain-http"), std::string::npos) << command;
    }
}

}  // namespace
}  // namespace karmor
