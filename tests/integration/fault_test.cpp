// Transient faults and lying servers between karmor and a real registry (SPEC §8).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "karmor/oci.hpp"
#include "support/fault_proxy.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::Fault;
using testing::FaultKind;
using testing::FaultProxy;
using testing::TempDir;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";

RemoteOptions through_proxy() {
    RemoteOptions remote;
    remote.plain_http = true;  // the proxy speaks HTTP only
    remote.stall_timeout_seconds = 1;
    return remote;
}

PushOptions push_to(const FaultProxy& proxy, const std::string& repo_tag) {
    PushOptions o;
    o.reference = *Reference::parse("127.0.0.1:" + std::to_string(proxy.port()) + "/" + repo_tag);
    o.inputs = {examples};
    o.remote = through_proxy();
    return o;
}

PullOptions pull_from(const FaultProxy& proxy, const std::string& repo_tag, const std::filesystem::path& out) {
    PullOptions o;
    o.reference = *Reference::parse("127.0.0.1:" + std::to_string(proxy.port()) + "/" + repo_tag);
    o.output_directory = out;
    o.remote = through_proxy();
    return o;
}

std::string describe(const FaultProxy& proxy) {
    std::string out;
    for (const auto& line : proxy.log()) out += "  " + line + "\n";
    return out;
}

bool is_empty_directory(const std::filesystem::path& dir) {
    return std::filesystem::is_directory(dir) &&
           std::filesystem::directory_iterator(dir) == std::filesystem::directory_iterator();
}

TEST(Faults, PushAndPullSucceedThroughTransientFaults) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    FaultProxy proxy(registry->port());
    proxy.add_fault({"GET", "/manifests/", FaultKind::status, 1, 503, 0, 0});
    proxy.add_fault({"HEAD", "/blobs/", FaultKind::status, 1, 429, 0, 0});
    proxy.add_fault({"POST", "/blobs/uploads/", FaultKind::reset, 1, 0, 0, 0});
    proxy.add_fault({"PUT", "/blobs/uploads/", FaultKind::status, 1, 500, 0, 0});
    proxy.add_fault({"PUT", "/manifests/", FaultKind::status, 1, 502, 0, 0});
    auto pushed = push_policies(push_to(proxy, "faulty:v1"));
    ASSERT_TRUE(pushed) << pushed.error().message << "\n" << describe(proxy);
    EXPECT_EQ(proxy.faults_fired(), 5) << describe(proxy);

    proxy.add_fault({"GET", "/blobs/", FaultKind::truncate_body, 1, 0, 0, 0});
    proxy.add_fault({"GET", "/blobs/", FaultKind::stall, 1, 0, 3000, 0});
    proxy.add_fault({"GET", "/manifests/", FaultKind::status, 1, 504, 0, 0});
    TempDir out;
    auto pulled = pull_policies(pull_from(proxy, "faulty:v1", out / "policies"));
    ASSERT_TRUE(pulled) << pulled.error().message << "\n" << describe(proxy);
    EXPECT_EQ(proxy.faults_fired(), 8) << describe(proxy);
    EXPECT_EQ(pulled->files_written.size(), 4u);
    EXPECT_EQ(pulled->manifest_digest, pushed->manifest_digest);
}

TEST(Faults, PersistentFailureGivesUpCleanlyAndSaysHowOften) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    FaultProxy proxy(registry->port());
    ASSERT_TRUE(push_policies(push_to(proxy, "down:v1")));
    proxy.add_fault({"GET", "/blobs/", FaultKind::status, 100, 503, 0, 0});
    TempDir out;
    std::filesystem::create_directories(out / "policies");
    auto pulled = pull_policies(pull_from(proxy, "down:v1", out / "policies"));
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::registry);
    EXPECT_NE(pulled.error().message.find("HTTP 503"), std::string::npos) << pulled.error().message;
    EXPECT_NE(pulled.error().message.find("4 attempts"), std::string::npos) << pulled.error().message;
    EXPECT_TRUE(is_empty_directory(out / "policies"));
}

TEST(Faults, CorruptedBlobIsRefusedAndNothingIsWritten) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    FaultProxy proxy(registry->port());
    ASSERT_TRUE(push_policies(push_to(proxy, "tampered:v1")));
    proxy.add_fault({"GET", "/blobs/", FaultKind::corrupt_body, 100, 0, 0, 0});
    TempDir out;
    auto pulled = pull_policies(pull_from(proxy, "tampered:v1", out / "policies"));
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::validation);
    EXPECT_NE(pulled.error().message.find("does not match its digest"), std::string::npos) << pulled.error().message;
    EXPECT_FALSE(std::filesystem::exists(out / "policies"));
}

TEST(Faults, CorruptedManifestByDigestIsRefused) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    FaultProxy proxy(registry->port());
    auto pushed = push_policies(push_to(proxy, "pinned:v1"));
    ASSERT_TRUE(pushed);
    proxy.add_fault({"GET", "/manifests/sha256:", FaultKind::corrupt_body, 100, 0, 0, 0});
    TempDir out;
    auto pulled = pull_policies(pull_from(proxy, "pinned@" + pushed->manifest_digest.str(), out / "p"));
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().kind, ErrorKind::validation);
    EXPECT_NE(pulled.error().message.find("does not match the digest"), std::string::npos) << pulled.error().message;
    EXPECT_FALSE(std::filesystem::exists(out / "p"));
}

TEST(Faults, OversizedManifestIsRefused) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    FaultProxy proxy(registry->port());
    proxy.add_fault({"GET", "/manifests/", FaultKind::huge_body, 100, 0, 0, (4u << 20) + 1});
    TempDir out;
    auto pulled = pull_policies(pull_from(proxy, "huge:v1", out / "p"));
    ASSERT_FALSE(pulled);
    EXPECT_NE(pulled.error().message.find("4 MiB"), std::string::npos) << pulled.error().message;
    EXPECT_FALSE(std::filesystem::exists(out / "p"));
}

}  // namespace
}  // namespace karmor

namespace karmor {
namespace {

// SPEC §8: a pull interrupted by SIGTERM (or Ctrl-C) leaves the directory exactly as it was
// and no temporary file behind.
TEST(Faults, InterruptedPullLeavesTheDirectoryAsItWas) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    FaultProxy proxy(registry->port());
    ASSERT_TRUE(push_policies(push_to(proxy, "slow:v1")));
    proxy.add_fault({"GET", "/blobs/", FaultKind::stall, 100, 0, 5000, 0});
    TempDir out;
    testing::write_text(out / "policies" / "mine.yaml", "keep\n");
    const auto result = testing::run_command_with_signal({KARMOR_BINARY, "oci", "pull", "--plain-http", "-i",
                                                          "127.0.0.1:" + std::to_string(proxy.port()) + "/slow:v1",
                                                          "-o", (out / "policies").string()},
                                                         SIGTERM, 700);
    EXPECT_EQ(result.exit_code, 130) << result.err;
    EXPECT_NE(result.err.find("interrupted"), std::string::npos) << result.err;
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::recursive_directory_iterator(out.path()))
        left.push_back(e.path().lexically_relative(out.path()).string());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"policies", "policies/mine.yaml"}));
}

}  // namespace
}  // namespace karmor
