// Pull into a directory that does not exist yet writes each file while the other policies are
// still read (issue 26, goal 3): what appears is still all or nothing (SPEC §8), and files whose
// names only a hash tells apart get their final names. Against a real docker-registry.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

#include "karmor/oci.hpp"
#include "karmor/progress.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& ns, const std::string& name, const std::string& action = "Block") {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: " + ns + "\nspec:\n  process:\n    matchPaths:\n      - path: /bin/sh\n  action: " + action +
           "\n";
}

std::vector<std::string> entries_of(const std::filesystem::path& directory) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(directory))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

TEST(PullWrite, NamesThatFlattenAlikeGetTheirHashesInANewDirectory) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    // Namespace "a-b" and name "c", namespace "a" and name "b-c": both flatten to ksp-a-b-c.
    write_text(work / "in" / "one.yaml", ksp("a-b", "c"));
    write_text(work / "in" / "two.yaml", ksp("a", "b-c", "Audit"));
    write_text(work / "in" / "three.yaml", ksp("zz", "x"));
    const auto image = registry->localhost() + "/flat:v1";
    auto push = run_karmor({"oci", "push", "-i", image, "-p", (work / "in").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;

    // Into a new directory, and into an existing empty one (the path that writes at the end):
    // the same files.
    std::filesystem::create_directories(work / "existing");
    for (const auto& out : {work / "new" / "deeper", work / "existing"}) {
        auto pull = run_karmor({"oci", "pull", "-i", image, "-o", out.string()});
        ASSERT_EQ(pull.exit_code, 0) << pull.err;
        const auto names = entries_of(out);
        ASSERT_EQ(names.size(), 4u) << "three policies and the pull state, nothing else";
        EXPECT_EQ(names[0], ".karmor-pull-state");
        EXPECT_EQ(names[1].rfind("ksp-a-b-c-", 0), 0u) << names[1];
        EXPECT_EQ(names[2].rfind("ksp-a-b-c-", 0), 0u) << names[2];
        EXPECT_EQ(names[3], "ksp-zz-x.yaml");
        const auto first = read_text(out / names[1]);
        const auto second = read_text(out / names[2]);
        EXPECT_NE(first, second);
        EXPECT_TRUE(first == ksp("a-b", "c") || first == ksp("a", "b-c", "Audit")) << first;
        EXPECT_TRUE(second == ksp("a-b", "c") || second == ksp("a", "b-c", "Audit")) << second;
        for (std::size_t i = 1; i < names.size(); ++i)
            EXPECT_NE(pull.out.find(names[i]), std::string::npos) << "the pulled files are listed: " << pull.out;
    }
    EXPECT_EQ(entries_of(work / "new" / "deeper"), entries_of(work / "existing"));
}

// Counts, when the policies are reported loaded, the files already in the temporary
// directory beside `target` (what a pull into a new directory fills).
class FilesAtLoadedSink final : public ProgressSink {
public:
    explicit FilesAtLoadedSink(std::filesystem::path target) : target_(std::move(target)) {}
    void policies_loaded(std::size_t count) override {
        loaded = count;
        for (const auto& entry : std::filesystem::directory_iterator(target_.parent_path())) {
            const auto name = entry.path().filename().string();
            if (name.rfind(target_.filename().string() + ".karmor-tmp-", 0) != 0) continue;
            for ([[maybe_unused]] const auto& file : std::filesystem::directory_iterator(entry.path())) ++files_written;
        }
    }
    std::size_t loaded = 0;
    std::size_t files_written = 0;

private:
    std::filesystem::path target_;
};

// Into a directory that does not exist, the files are written while the policies are read:
// every one is there before the last policy is reported loaded. (A check that treated "not
// found" as an error once sent every pull down the path that writes at the end.) Into an
// existing directory, nothing is written before that.
TEST(PullWrite, IntoANewDirectoryEachFileIsWrittenWhileThePoliciesAreRead) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    for (int i = 0; i < 40; ++i)
        write_text(work / "in" / ("p" + std::to_string(i) + ".yaml"), ksp("shop", "p" + std::to_string(i)));
    const auto image = registry->localhost() + "/staged:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", image, "-p", (work / "in").string()}).exit_code, 0);

    PullOptions options;
    options.reference = *Reference::parse(image);
    options.output_directory = work / "new";
    FilesAtLoadedSink staged(options.output_directory);
    options.progress = &staged;
    auto pulled = pull_policies(options);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(staged.loaded, 40u);
    EXPECT_EQ(staged.files_written, 40u) << "the files were not written while the policies were read";
    EXPECT_EQ(entries_of(work / "new").size(), 41u);

    std::filesystem::create_directories(work / "existing");
    options.output_directory = work / "existing";
    FilesAtLoadedSink at_end(options.output_directory);
    options.progress = &at_end;
    pulled = pull_policies(options);
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(at_end.loaded, 40u);
    EXPECT_EQ(at_end.files_written, 0u);
    EXPECT_EQ(entries_of(work / "existing"), entries_of(work / "new"));
}

// A pull that changes nothing does not rewrite the state file (no write, fsync and rename for
// the same bytes); one that changes a file does.
TEST(PullWrite, AnUnchangedPullLeavesTheStateFileAlone) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "in" / "one.yaml", ksp("ns", "one"));
    const auto image = registry->localhost() + "/same:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", image, "-p", (work / "in").string()}).exit_code, 0);
    std::filesystem::create_directories(work / "out");
    auto first = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto state = work / "out" / ".karmor-pull-state";
    const auto text = read_text(state);
    // A marker only karmor's rewrite would remove: the file's inode (a rewrite renames a new file).
    struct stat before {};
    ASSERT_EQ(::stat(state.c_str(), &before), 0);

    auto again = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("already up to date"), std::string::npos) << again.err;
    struct stat after {};
    ASSERT_EQ(::stat(state.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << "the unchanged state was rewritten";
    EXPECT_EQ(read_text(state), text);

    write_text(work / "in" / "one.yaml", ksp("ns", "one", "Audit"));
    ASSERT_EQ(run_karmor({"oci", "push", "-i", image, "-p", (work / "in").string()}).exit_code, 0);
    auto changed = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    ASSERT_EQ(changed.exit_code, 0) << changed.err;
    struct stat rewritten {};
    ASSERT_EQ(::stat(state.c_str(), &rewritten), 0);
    EXPECT_NE(rewritten.st_ino, before.st_ino);
    EXPECT_NE(read_text(state), text);
}

TEST(PullWrite, AnInvalidPolicyLeavesNoDirectoryAndNoTemporaryOne) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    // Pushed through the library without validation: an artifact another tool could have made.
    std::vector<std::filesystem::path> inputs;
    for (int i = 0; i < 300; ++i) {
        const auto file = work / "in" / ("p" + std::to_string(i) + ".yaml");
        write_text(file, ksp("shop", "p" + std::to_string(i), i == 250 ? "Deny" : "Block"));
        inputs.push_back(file);
    }
    PushOptions push;
    push.reference = *Reference::parse(registry->localhost() + "/bad:v1");
    push.inputs = inputs;
    push.load.skip_validation = true;
    auto pushed = push_policies(push);
    ASSERT_TRUE(pushed) << pushed.error().message;

    auto pull = run_karmor({"oci", "pull", "-i", registry->localhost() + "/bad:v1", "-o", (work / "out").string()});
    EXPECT_EQ(pull.exit_code, 3) << pull.err;
    EXPECT_NE(pull.err.find("unsupported value \"Deny\""), std::string::npos) << pull.err;
    EXPECT_FALSE(std::filesystem::exists(work / "out"));
    EXPECT_EQ(entries_of(work.path()), std::vector<std::string>{"in"}) << "no temporary directory is left beside it";
}

}  // namespace
}  // namespace karmor
