// SPEC §10 through the karmor binary against a real registry: pull's record of what it wrote
// (warn, --prune, --force), and `follow`.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "oci/http.hpp"
#include "support/fault_proxy.hpp"
#include "support/local_registry.hpp"
#include "support/test_images.hpp"

extern char** environ;

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

void push_version(const std::string& image, const fs::path& work, int version, bool plain_http = false) {
    const auto dir = work / ("v" + std::to_string(version));
    write_version(dir, version);
    std::vector<std::string> args{"oci", "push", "-i", image, "-p", dir.string()};
    if (plain_http) args.emplace_back("--plain-http");
    auto push = run_karmor(args);
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

std::vector<std::string> strings(const nlohmann::json& array) {
    std::vector<std::string> out;
    for (const auto& v : array) out.push_back(v.get<std::string>());
    return out;
}

// A karmor process left running, its stdout and stderr in files of `logs`.
class Background {
public:
    Background(const std::vector<std::string>& args, const fs::path& logs, const std::string& name)
        : out_(logs / (name + ".out")), err_(logs / (name + ".err")) {
        std::vector<std::string> argv{KARMOR_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> argp;
        for (auto& a : argv) argp.push_back(a.data());
        argp.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (posix_spawn(&pid_, argp[0], &actions, nullptr, argp.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
    }
    ~Background() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const { return pid_; }
    // Its exit code (128 + N when signal N ended it) once it exits within `limit`.
    std::optional<int> wait_for_exit(std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (pid_ > 0) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (std::chrono::steady_clock::now() >= until) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return std::nullopt;
    }
    std::string out() const { return read_text(out_); }
    std::string err() const { return read_text(err_); }

private:
    fs::path out_, err_;
    pid_t pid_ = -1;
};

template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

std::string link_of(const fs::path& dir) {
    std::error_code ec;
    const auto target = fs::read_symlink(dir, ec);
    return ec ? std::string() : target.string();
}

// The processes of group `pgid` that are alive (not zombies), from /proc.
std::vector<pid_t> living_in_group(pid_t pgid) {
    std::vector<pid_t> living;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const auto stat = read_text(entry.path() / "stat");
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(stat.substr(close + 2));
        char state = 0;
        long ppid = 0, group = 0;
        if (!(fields >> state >> ppid >> group)) continue;
        if (group == pgid && state != 'Z') living.push_back(static_cast<pid_t>(std::stol(entry.path().filename())));
    }
    return living;
}

TEST(Follow, OnceTwiceGivesExactlyTheNewSetAndItsChanges) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/follow:latest";
    const auto dir = work / "policies";
    const auto env_file = work / "exec-env";
    const std::string exec = "env | grep ^KARMOR_ | sort > " + env_file.string();
    push_version(image, work.path(), 1);
    auto first =
        run_karmor({"oci", "follow", "--once", "--output", "json", "-i", image, "-o", dir.string(), "--exec", exec});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto line = nlohmann::json::parse(first.out);
    EXPECT_EQ(line["added"].size(), 4u) << first.out;
    EXPECT_TRUE(line["removed"].empty());
    EXPECT_TRUE(fs::is_symlink(dir));
    EXPECT_EQ(yaml_files(dir).size(), 4u);

    push_version(image, work.path(), 2);
    auto second =
        run_karmor({"oci", "follow", "--once", "--output", "json", "-i", image, "-o", dir.string(), "--exec", exec});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    ASSERT_EQ(std::count(second.out.begin(), second.out.end(), '\n'), 1) << "one line per change: " << second.out;
    line = nlohmann::json::parse(second.out);
    EXPECT_EQ(strings(line["added"]), std::vector<std::string>{"KubeArmorPolicy/default/epsilon"});
    EXPECT_EQ(strings(line["removed"]), std::vector<std::string>{"KubeArmorPolicy/default/alpha"});
    EXPECT_EQ(strings(line["changed"]), std::vector<std::string>{"KubeArmorPolicy/default/beta"});
    EXPECT_EQ(yaml_files(dir), v2_files);
    EXPECT_EQ(read_text(dir / "ksp-default-beta.yaml"), policy("beta", "/usr/bin/rpm"));
    const auto env = read_text(env_file);
    EXPECT_NE(env.find("KARMOR_ADDED=KubeArmorPolicy/default/epsilon\n"), std::string::npos) << env;
    EXPECT_NE(env.find("KARMOR_REMOVED=KubeArmorPolicy/default/alpha\n"), std::string::npos) << env;
    EXPECT_NE(env.find("KARMOR_CHANGED=KubeArmorPolicy/default/beta\n"), std::string::npos) << env;
    EXPECT_NE(env.find("KARMOR_DIGEST=" + line["digest"].get<std::string>() + "\n"), std::string::npos) << env;

    // The text line names the same three changes.
    push_version(image, work.path(), 1);
    auto text = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string(), "--exec", "exit 3"});
    ASSERT_EQ(text.exit_code, 10) << "with --once a failing --exec fails the run: " << text.err;
    EXPECT_NE(text.out.find(" added=KubeArmorPolicy/default/alpha removed=KubeArmorPolicy/default/epsilon "
                            "changed=KubeArmorPolicy/default/beta\n"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.err.find("--exec command failed (exit code 3)"), std::string::npos) << text.err;
}

TEST(Follow, AnIdleRoundIsOneHead) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/idle:latest";
    const auto dir = work / "policies";
    push_version(image, work.path(), 1);
    ASSERT_EQ(run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()}).exit_code, 0);
    const auto before = registry->requests().size();
    auto idle = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    ASSERT_EQ(idle.exit_code, 0) << idle.err;
    EXPECT_EQ(idle.out, "") << "no change, no line";
    auto requests = registry->requests();
    requests.erase(requests.begin(), requests.begin() + static_cast<std::ptrdiff_t>(before));
    // docker-registry logs the /v2/ ping too; the round itself is the HEAD.
    std::erase(requests, std::string("GET /v2/"));
    EXPECT_EQ(requests, std::vector<std::string>{"HEAD /v2/idle/manifests/latest"});
}

// Each version i has four policies named by i's parity, all mentioning /usr/bin/v<i>.
void push_numbered(const std::string& image, const fs::path& work, int i) {
    const auto dir = work / "numbered";
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (int p = 0; p < 4; ++p) {
        const auto name = std::string(i % 2 ? "odd" : "even") + std::to_string(p);
        write_text(dir / (name + ".yaml"), policy(name, "/usr/bin/v" + std::to_string(i)));
    }
    auto push = run_karmor({"oci", "push", "-i", image, "-p", dir.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
}

// SPEC §10 --semver: the highest tag in the range, pre-releases only when the range names one;
// a newer version in the range is followed when it appears.
TEST(Follow, SemverFollowsTheHighestTagInTheRange) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string repository = registry->localhost() + "/ranged";
    const std::vector<std::pair<std::string, int>> tags = {
        {"1.4.0", 1}, {"1.4.1", 2}, {"1.5.0-rc.1", 3}, {"2.0.0", 4}, {"latest", 5}};
    for (const auto& [tag, i] : tags) push_numbered(repository + ":" + tag, work.path(), i);
    const auto dir = work / "policies";
    const auto followed = [&] {
        auto round = run_karmor({"oci", "follow", "--once", "-i", repository, "--semver", ">=1.4 <2", "-o",
                                 dir.string(), "--output", "json"});
        EXPECT_EQ(round.exit_code, 0) << round.err;
        std::string all;
        for (const auto& name : yaml_files(dir)) all += read_text(dir / name);
        return all;
    };
    EXPECT_NE(followed().find("/usr/bin/v2"), std::string::npos) << "1.4.1, not 1.5.0-rc.1, 2.0.0 or latest";
    push_numbered(repository + ":1.5.0", work.path(), 6);
    EXPECT_NE(followed().find("/usr/bin/v6"), std::string::npos) << "1.5.0 once it is pushed";
    auto none = run_karmor({"oci", "follow", "--once", "-i", repository, "--semver", ">=3", "-o", dir.string()});
    EXPECT_EQ(none.exit_code, 4) << none.err;
    EXPECT_NE(none.err.find("no tag is a version in the range"), std::string::npos) << none.err;
    EXPECT_EQ(yaml_files(dir).size(), 4u) << "DIR kept";
    EXPECT_NE(read_text(dir / "ksp-default-even0.yaml").find("/usr/bin/v6"), std::string::npos) << "DIR kept";
}

TEST(Follow, AReaderNeverSeesAMix) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/switch:latest";
    const auto dir = work / "policies";
    push_numbered(image, work.path(), 0);
    ASSERT_EQ(run_karmor({"oci", "follow", "--once", "--keep", "2", "-i", image, "-o", dir.string()}).exit_code, 0);

    std::atomic<bool> done{false};
    std::atomic<int> snapshots{0};
    std::vector<std::string> problems;
    std::thread reader([&] {
        while (!done.load() && problems.size() < 5) {
            // A reader resolves DIR once, then lists and reads (docs/following.md).
            std::error_code ec;
            const auto version = fs::canonical(dir, ec);
            if (ec) {
                problems.push_back("DIR missing: " + ec.message());
                continue;
            }
            std::set<std::string> names, versions;
            for (const auto& entry : fs::directory_iterator(version, ec)) {
                if (entry.path().extension() != ".yaml") continue;
                names.insert(entry.path().filename().string());
                const auto text = read_text(entry.path());
                const auto at = text.find("/usr/bin/v");
                versions.insert(at == std::string::npos ? "?" : text.substr(at, text.find('\n', at) - at));
            }
            const bool odd = !names.empty() && names.begin()->find("-odd") != std::string::npos;
            bool same_parity = true;
            for (const auto& n : names)
                same_parity = same_parity && n.find(odd ? "-odd" : "-even") != std::string::npos;
            if (ec || names.size() != 4 || versions.size() != 1 || !same_parity)
                problems.push_back("a mix in " + version.string() + ": " + std::to_string(names.size()) + " files, " +
                                   std::to_string(versions.size()) + " versions");
            ++snapshots;
        }
    });
    for (int i = 1; i <= 50; ++i) {
        push_numbered(image, work.path(), i);
        auto round = run_karmor({"oci", "follow", "--once", "--keep", "2", "-i", image, "-o", dir.string()});
        EXPECT_EQ(round.exit_code, 0) << round.err;
    }
    done = true;
    reader.join();
    EXPECT_TRUE(problems.empty()) << problems.front();
    EXPECT_GT(snapshots.load(), 50);
    EXPECT_NE(read_text(dir / "ksp-default-even0.yaml").find("/usr/bin/v50"), std::string::npos);
    // --keep 2: the current version and two before it.
    int kept = 0;
    for (const auto& entry : fs::directory_iterator(work / "policies.versions"))
        kept += entry.path().filename().string().size() == 64 ? 1 : 0;
    EXPECT_EQ(kept, 3);
}

TEST(Follow, AFailedRoundKeepsTheOldSet) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const auto dir = work / "policies";
    testing::FaultProxy proxy(registry->port());
    const std::string image = "localhost:" + std::to_string(proxy.port()) + "/faults:latest";
    push_version(image, work.path(), 1, true);
    ASSERT_EQ(run_karmor({"oci", "follow", "--once", "--plain-http", "-i", image, "-o", dir.string()}).exit_code, 0);
    push_version(image, work.path(), 2, true);

    // The registry goes away in the middle of the round: after the HEAD, at the blobs.
    proxy.add_fault({"GET", "/blobs/", testing::FaultKind::reset, 100});
    auto failed = run_karmor({"oci", "follow", "--once", "--plain-http", "-i", image, "-o", dir.string()});
    EXPECT_NE(failed.exit_code, 0);
    EXPECT_NE(failed.err.find("is unchanged"), std::string::npos) << failed.err;
    EXPECT_EQ(yaml_files(dir).size(), 4u);
    EXPECT_TRUE(fs::exists(dir / "ksp-default-alpha.yaml")) << "the old set stays";
    EXPECT_GT(proxy.faults_fired(), 0);

    // A corrupted blob is refused the same way.
    testing::FaultProxy corrupting(registry->port());
    corrupting.add_fault({"GET", "/blobs/", testing::FaultKind::corrupt_body, 100});
    const std::string corrupt_image = "localhost:" + std::to_string(corrupting.port()) + "/faults:latest";
    auto corrupt = run_karmor({"oci", "follow", "--once", "--plain-http", "-i", corrupt_image, "-o", dir.string()});
    EXPECT_NE(corrupt.exit_code, 0);
    EXPECT_TRUE(fs::exists(dir / "ksp-default-alpha.yaml"));

    // The next good round applies.
    const std::string direct = registry->localhost() + "/faults:latest";
    auto good = run_karmor({"oci", "follow", "--once", "-i", direct, "-o", dir.string()});
    ASSERT_EQ(good.exit_code, 0) << good.err;
    EXPECT_EQ(yaml_files(dir), v2_files);
}

// An artifact pushed past validation (--skip-validation) holding a policy the schema refuses: the
// round fails, names the policy, keeps the old set; the next good artifact applies.
TEST(Follow, AnInvalidPolicyKeepsTheOldSet) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/invalid:latest";
    const auto dir = work / "policies";
    push_version(image, work.path(), 1);
    ASSERT_EQ(run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()}).exit_code, 0);

    const auto bad = work / "bad";
    write_version(bad, 2);
    auto broken = policy("beta", "/usr/bin/rpm");
    broken.replace(broken.find("action: Block"), 13, "action: Explode");
    write_text(bad / "beta.yaml", broken);
    auto push = run_karmor({"oci", "push", "--skip-validation", "-i", image, "-p", bad.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;

    auto refused = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("beta"), std::string::npos) << "names the invalid policy: " << refused.err;
    EXPECT_NE(refused.err.find("is unchanged"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("holds 1 problem"), std::string::npos) << "one problem, said once: " << refused.err;
    EXPECT_EQ(yaml_files(dir).size(), 4u);
    EXPECT_TRUE(fs::exists(dir / "ksp-default-alpha.yaml")) << "the old set stays";
    EXPECT_EQ(read_text(dir / "ksp-default-beta.yaml"), policy("beta", "/usr/bin/dpkg"));

    push_version(image, work.path(), 2);
    auto good = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    ASSERT_EQ(good.exit_code, 0) << good.err;
    EXPECT_EQ(yaml_files(dir), v2_files);
}

// A small tmpfs mounted for the test (root only): when the new version does not fit, the round
// fails with the file system's reason and DIR still holds the whole old set; once space is freed
// the next round applies.
TEST(Follow, AFullDiskKeepsTheOldSet) {
    if (::geteuid() != 0) {
        if (testing::skipping_allowed()) GTEST_SKIP() << "SKIPPED: mounting a small tmpfs needs root";
        FAIL() << "this test mounts a small tmpfs and needs root (CI runs as root)";
    }
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const auto mount_point = work / "small";
    fs::create_directories(mount_point);
    auto mounted = testing::run_command({"mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount_point.string()});
    ASSERT_EQ(mounted.exit_code, 0) << mounted.err;
    struct Unmount {
        fs::path where;
        ~Unmount() { testing::run_command({"umount", "-l", where.string()}); }
    } unmount{mount_point};

    const std::string image = registry->localhost() + "/full:latest";
    const auto dir = mount_point / "policies";
    push_version(image, work.path(), 1);
    auto first = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;

    // Fill what is left, leaving less than one policy file's worth.
    const auto filler = mount_point / "filler";
    {
        std::ofstream out(filler, std::ios::binary);
        const std::string block(4096, 'x');
        while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
        }
    }
    push_version(image, work.path(), 2);
    auto full = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    EXPECT_NE(full.exit_code, 0);
    EXPECT_NE(full.err.find("No space left on device"), std::string::npos) << full.err;
    EXPECT_NE(full.err.find("is unchanged"), std::string::npos) << full.err;
    EXPECT_NE(full.err.find("Hint: free space"), std::string::npos) << full.err;
    EXPECT_EQ(yaml_files(dir).size(), 4u);
    EXPECT_EQ(read_text(dir / "ksp-default-beta.yaml"), policy("beta", "/usr/bin/dpkg")) << "the old set stays";

    fs::remove(filler);
    auto good = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    ASSERT_EQ(good.exit_code, 0) << good.err;
    EXPECT_EQ(yaml_files(dir), v2_files);
}

TEST(Follow, SigtermStopsTheLoopQuicklyWithDirWhole) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/loop:latest";
    const auto dir = work / "policies";
    push_version(image, work.path(), 1);
    for (int after_ms : {400, 900}) {
        const auto start = std::chrono::steady_clock::now();
        auto stopped = testing::run_command_with_signal(
            {KARMOR_BINARY, "oci", "follow", "--every", "1s", "-i", image, "-o", dir.string()}, SIGTERM, after_ms);
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
        EXPECT_LT(elapsed.count(), after_ms + 300) << "SIGTERM stops the loop promptly";
        EXPECT_EQ(yaml_files(dir).size(), 4u);
    }
}

// SIGTERM at points spread over the first round (start-up, HEAD, blobs, switch): DIR is absent
// or one whole version, and the state names what DIR points to.
TEST(Follow, SigtermAtAnyPointOfARoundLeavesDirWholeAndStateConsistent) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/sigterm:latest";
    const auto dir = work / "policies";
    for (int i = 0; i < 12; ++i) {
        push_numbered(image, work.path(), i);
        auto stopped = testing::run_command_with_signal(
            {KARMOR_BINARY, "oci", "follow", "--every", "1s", "-i", image, "-o", dir.string()}, SIGTERM, 3 * i + 1);
        EXPECT_TRUE(stopped.exit_code == 0 || stopped.exit_code == 128 + SIGTERM) << stopped.err;
        if (!fs::exists(fs::symlink_status(dir))) continue;
        ASSERT_TRUE(fs::is_symlink(dir));
        const auto names = yaml_files(dir);
        EXPECT_EQ(names.size(), 4u) << "at " << 3 * i + 1 << " ms";
        const auto state = nlohmann::json::parse(read_text(work / "policies.versions" / "follow-state.json"));
        EXPECT_EQ("sha256:" + fs::read_symlink(dir).filename().string(), state["applied"].get<std::string>());
    }
}

// Issue 22 (1): one follower per DIR for the whole life of the process. Two followers of two
// tags on one DIR: the second exits at once naming the first, and DIR never flips; the same
// through another path to DIR and through a shared --state-dir. A killed holder's lock is free.
TEST(Follow, OneFollowerPerDirectoryForTheWholeProcess) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string v1 = registry->localhost() + "/team/pol:v1";
    const std::string v2 = registry->localhost() + "/team/pol:v2";
    push_version(v1, work.path(), 1);
    push_version(v2, work.path(), 2);
    const auto dir = work / "fl";

    Background first({"oci", "follow", "-i", v1, "-o", dir.string(), "--every", "1s"}, work.path(), "first");
    ASSERT_GT(first.pid(), 0);
    ASSERT_TRUE(wait_until([&] { return fs::exists(dir / "ksp-default-alpha.yaml"); })) << first.err();
    const auto held = link_of(dir);
    ASSERT_FALSE(held.empty());

    // Every link DIR had while the second followers try, sampled every 20 ms (read once joined).
    // Joined however the test ends (an ASSERT returns early).
    std::atomic<bool> watching{true};
    std::set<std::string> seen;
    std::thread watcher([&] {
        while (watching.load()) {
            seen.insert(link_of(dir));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    struct StopWatching {
        std::atomic<bool>& watching;
        std::thread& watcher;
        ~StopWatching() {
            watching = false;
            if (watcher.joinable()) watcher.join();
        }
    } stop_watching{watching, watcher};
    const auto holder = "pid " + std::to_string(first.pid()) + ", following " + v1 + ")";
    const std::vector<std::vector<std::string>> seconds = {
        {"oci", "follow", "-i", v2, "-o", dir.string(), "--every", "1s"},
        {"oci", "follow", "--once", "-i", v2, "-o", dir.string()},
        // Another path to the same DIR, and a second DIR whose state would be the first one's.
        {"oci", "follow", "--once", "-i", v2, "-o", (work / "alias" / "fl").string()},
        {"oci", "follow", "--every", "1s", "-i", v2, "-o", (work / "other").string(), "--state-dir",
         (work / "fl.versions").string()},
    };
    fs::create_directory_symlink(work.path(), work / "alias");
    for (const auto& args : seconds) {
        const auto start = std::chrono::steady_clock::now();
        Background second(args, work.path(), "second");
        const auto code = second.wait_for_exit(std::chrono::seconds(10));
        const auto took = std::chrono::steady_clock::now() - start;
        ASSERT_TRUE(code) << "a second follower must exit at once: " << args[4] << " " << second.err();
        EXPECT_EQ(*code, 7) << second.err();
        EXPECT_LT(took, std::chrono::seconds(3)) << "at once, without a round";
        EXPECT_NE(second.err().find("another karmor follow works on it (" + holder), std::string::npos) << second.err();
        EXPECT_NE(second.err().find("kill " + std::to_string(first.pid())), std::string::npos) << second.err();
    }
    auto json = run_karmor({"oci", "follow", "--once", "--output", "json", "-i", v2, "-o", dir.string()});
    EXPECT_EQ(json.exit_code, 7);
    const auto document = nlohmann::json::parse(json.out, nullptr, false);
    ASSERT_TRUE(document.is_object()) << json.out;
    EXPECT_EQ(document["error"]["exitCode"], 7) << json.out;
    EXPECT_NE(document["error"]["message"].get<std::string>().find(holder), std::string::npos) << json.out;

    // The first one goes on (rounds every second) and DIR stays its version throughout.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    watching = false;
    watcher.join();
    EXPECT_EQ(seen, std::set<std::string>{held}) << "DIR flipped";
    EXPECT_FALSE(fs::exists(work / "other.versions")) << "the refused follower made nothing";
    EXPECT_FALSE(first.wait_for_exit(std::chrono::milliseconds(0))) << "the holder is still following";

    // A holder killed without a chance to clean up leaves a lock that the next follower takes.
    ::kill(first.pid(), SIGKILL);
    ASSERT_TRUE(first.wait_for_exit(std::chrono::seconds(5)));
    auto next = run_karmor({"oci", "follow", "--once", "-i", v2, "-o", dir.string()});
    ASSERT_EQ(next.exit_code, 0) << next.err;
    EXPECT_EQ(yaml_files(dir), v2_files);
}

// Issue 22 (4, 8): with --once a failing --exec fails the run (10, after the switch); the
// hook's stdout goes to stderr, so stdout stays one JSON line per report; without --once
// following goes on.
TEST(Follow, AFailingHookFailsOnceAndItsOutputStaysOffStdout) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/hooked:latest";
    const auto dir = work / "policies";
    push_version(image, work.path(), 1);
    auto failed = run_karmor({"oci", "follow", "--once", "--output", "json", "-i", image, "-o", dir.string(), "--exec",
                              "echo hook-out; echo hook-err >&2; exit 3"});
    EXPECT_EQ(failed.exit_code, 10) << failed.err;
    EXPECT_EQ(yaml_files(dir).size(), 4u) << "the switch happened before the hook";
    std::istringstream lines(failed.out);
    std::string line;
    std::vector<nlohmann::json> documents;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        if (line == "{") {  // the error document spans the rest
            std::string rest((std::istreambuf_iterator<char>(lines)), std::istreambuf_iterator<char>());
            line += "\n" + rest;
        }
        auto parsed = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << "not JSON on stdout: " << line;
        documents.push_back(parsed);
    }
    ASSERT_EQ(documents.size(), 2u) << failed.out;
    EXPECT_EQ(documents[0]["event"], "changed");
    EXPECT_EQ(documents[1]["error"]["exitCode"], 10);
    EXPECT_EQ(documents[1]["error"]["kind"], "hook");
    EXPECT_EQ(failed.out.find("hook-out"), std::string::npos) << "the hook's stdout is not follow's";
    EXPECT_NE(failed.err.find("hook-out\nhook-err\n"), std::string::npos) << failed.err;
    EXPECT_NE(failed.err.find("--exec command failed (exit code 3) after the switch"), std::string::npos) << failed.err;

    // Killed by a signal counts as a failure too.
    push_version(image, work.path(), 2);
    auto killed = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string(), "--exec", "kill -9 $$"});
    EXPECT_EQ(killed.exit_code, 10) << killed.err;
    EXPECT_NE(killed.err.find("killed by signal 9"), std::string::npos) << killed.err;

    // The loop reports the failure and goes on; text reports stay on stdout, the hook's on stderr.
    push_version(image, work.path(), 1);
    Background loop(
        {"oci", "follow", "--every", "1s", "-i", image, "-o", dir.string(), "--exec", "echo hook-said-hi; exit 3"},
        work.path(), "loop");
    ASSERT_TRUE(wait_until([&] { return loop.err().find("following goes on") != std::string::npos; })) << loop.err();
    push_version(image, work.path(), 2);
    ASSERT_TRUE(wait_until([&] { return yaml_files(dir) == v2_files; })) << loop.err();
    const auto said = [&] {
        const auto err = loop.err();
        int count = 0;
        for (auto at = err.find("hook-said-hi"); at != std::string::npos; at = err.find("hook-said-hi", at + 1))
            ++count;
        return count;
    };
    ASSERT_TRUE(wait_until([&] { return said() == 2; })) << loop.err();
    ::kill(loop.pid(), SIGTERM);
    EXPECT_EQ(loop.wait_for_exit(std::chrono::seconds(5)), 0) << loop.err();
    const auto out = loop.out();
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << "two changes, two lines: " << out;
    EXPECT_EQ(out.find("hook-said-hi"), std::string::npos) << out;
}

// Issue 22 (9): SIGTERM or SIGINT while --exec runs ends the hook's whole process group (SIGKILL
// after 1 s for one that ignores SIGTERM) and then follow, leaving no hook process behind.
TEST(Follow, AStopEndsARunningHookAndItsGroup) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/stopped:latest";
    push_version(image, work.path(), 1);
    struct Case {
        const char* name;
        std::vector<std::string> mode;
        int signal;
        std::string hook_prefix;
        int expected_exit;
        long max_ms;
    };
    const std::vector<Case> cases = {
        {"loop, SIGTERM", {"--every", "1s"}, SIGTERM, "", 0, 1000},
        {"--once, SIGINT", {"--once"}, SIGINT, "", 130, 1000},
        {"a hook that ignores SIGTERM", {"--every", "1s"}, SIGTERM, "trap '' TERM; ", 0, 2500},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto dir = work / (std::string("dir-") + std::to_string(c.signal) + std::to_string(c.expected_exit) +
                                 std::to_string(c.max_ms));
        const auto pid_file = work / "hook.pid";
        fs::remove(pid_file);
        std::vector<std::string> args = {
            "oci",    "follow",
            "-i",     image,
            "-o",     dir.string(),
            "--exec", c.hook_prefix + "echo $$ > " + pid_file.string() + "; sleep 30; echo hook-woke-up"};
        args.insert(args.end(), c.mode.begin(), c.mode.end());
        Background follower(args, work.path(), "follower");
        ASSERT_TRUE(wait_until([&] { return read_text(pid_file).find('\n') != std::string::npos; })) << follower.err();
        const auto group = static_cast<pid_t>(std::stol(read_text(pid_file)));
        ASSERT_FALSE(living_in_group(group).empty()) << "the hook runs in a group of its own";
        const auto start = std::chrono::steady_clock::now();
        ::kill(follower.pid(), c.signal);
        const auto code = follower.wait_for_exit(std::chrono::seconds(20));
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        ASSERT_TRUE(code) << follower.err();
        EXPECT_EQ(*code, c.expected_exit) << follower.err();
        EXPECT_LT(took, c.max_ms) << follower.err();
        EXPECT_NE(follower.err().find("Stopped the --exec command (SIGTERM to its process group"), std::string::npos)
            << follower.err();
        EXPECT_TRUE(wait_until([&] { return living_in_group(group).empty(); }, std::chrono::seconds(1)))
            << "hook processes left: " << living_in_group(group).size();
        if (!c.hook_prefix.empty()) {
            EXPECT_NE(follower.err().find("SIGKILL 1 s later"), std::string::npos) << follower.err();
        }
        EXPECT_EQ(follower.err().find("hook-woke-up"), std::string::npos) << follower.err();
        EXPECT_EQ(yaml_files(dir).size(), 4u) << "DIR whole";
    }
}

// Issue 22 (10): DIR may be absent, an empty directory or a symlink to DIR.versions/<digest>
// (follow's own, or a rollback made by hand); any other symlink is the user's and refused.
TEST(Follow, RefusesASymlinkItDidNotMake) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/links:latest";
    push_version(image, work.path(), 1);
    const auto files = work / "mine";
    fs::create_directories(files);
    write_text(files / "keep.yaml", "# a person's file\n");
    fs::create_directories(work / "empty");
    write_text(work / "file", "a file\n");
    fs::create_directories(work / "odd.versions");
    write_text(work / "odd.versions" / "follow-state.json", "{}\n");
    const std::vector<std::pair<std::string, fs::path>> links = {
        {"a directory of files", files},
        {"nothing (dangling)", work / "gone"},
        {"an empty directory", work / "empty"},
        {"a file", work / "file"},
        {"a file in DIR.versions", "odd.versions/follow-state.json"},
        {"another DIR's version", fs::path("other.versions") / std::string(64, 'a')},
    };
    for (const auto& [what, target] : links) {
        SCOPED_TRACE(what);
        const auto dir = work / (what == "a file in DIR.versions" ? std::string("odd") : "link");
        fs::remove(dir);
        fs::create_symlink(target, dir);
        auto refused = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
        EXPECT_EQ(refused.exit_code, 7) << refused.err;
        EXPECT_NE(refused.err.find("it is a symlink to " + target.string() + ", which karmor follow did not make"),
                  std::string::npos)
            << refused.err;
        EXPECT_EQ(link_of(dir), target.string()) << "the link is left alone";
    }
    EXPECT_EQ(read_text(files / "keep.yaml"), "# a person's file\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(files), fs::directory_iterator()), 1) << "nothing added";

    // follow's own link is switched; so is a rollback made by hand with an absolute path.
    const auto dir = work / "policies";
    ASSERT_EQ(run_karmor({"oci", "follow", "--once", "--keep", "2", "-i", image, "-o", dir.string()}).exit_code, 0);
    const auto first = fs::read_symlink(dir);
    push_version(image, work.path(), 2);
    auto switched = run_karmor({"oci", "follow", "--once", "--keep", "2", "-i", image, "-o", dir.string()});
    ASSERT_EQ(switched.exit_code, 0) << switched.err;
    EXPECT_EQ(yaml_files(dir), v2_files);
    fs::remove(dir);
    fs::create_symlink(fs::absolute(work.path() / first), dir);  // ln -sfn /abs/DIR.versions/<hex> DIR
    EXPECT_EQ(yaml_files(dir).size(), 4u) << "rolled back by hand";
    auto again = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(yaml_files(dir), v2_files) << "the rollback link was follow's to switch";
}

// Issue 22 (12): reports and KARMOR_REFERENCE name REPO:TAG@DIGEST: the tag followed, with
// --semver the chosen version's, for an image's attachment the image's tag with the artifact's
// digest.
TEST(Follow, NamesTheTagItFollows) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const auto env_file = work / "env";
    const std::string exec = "echo \"$KARMOR_REFERENCE\" > " + env_file.string();
    const auto follow_json = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"oci", "follow", "--once", "--output", "json", "--exec", exec});
        auto run = run_karmor(args);
        EXPECT_EQ(run.exit_code, 0) << run.err;
        return nlohmann::json::parse(run.out, nullptr, false);
    };

    const std::string tagged = registry->localhost() + "/named/pol:prod";
    push_version(tagged, work.path(), 1);
    auto line = follow_json({"-i", tagged, "-o", (work / "a").string()});
    EXPECT_EQ(line["reference"], tagged + "@" + line["digest"].get<std::string>());
    EXPECT_EQ(read_text(env_file), line["reference"].get<std::string>() + "\n");

    const std::string repository = registry->localhost() + "/named/ranged";
    for (const auto& [tag, i] : std::vector<std::pair<std::string, int>>{{"1.4.0", 1}, {"1.4.1", 2}, {"2.0.0", 3}})
        push_numbered(repository + ":" + tag, work.path(), i);
    line = follow_json({"-i", repository, "--semver", "^1.4", "-o", (work / "b").string()});
    EXPECT_EQ(line["reference"], repository + ":1.4.1@" + line["digest"].get<std::string>());
    EXPECT_EQ(read_text(env_file), line["reference"].get<std::string>() + "\n");

    // An image with policies attached: the image's tag, the artifact's digest.
    auto transport = oci::make_curl_transport({});
    const std::string image = registry->localhost() + "/named/app:1.0";
    oci::ClientOptions options;
    options.push_access = true;
    oci::RegistryClient client(*Reference::parse(image), options, *transport);
    const auto subject = testing::push_test_image(client, "1.0", "app");
    const auto policies = work / "attached";
    write_version(policies, 1);
    auto attached = run_karmor({"oci", "push", "--attach", "-i", image, "-p", policies.string()});
    ASSERT_EQ(attached.exit_code, 0) << attached.err;
    line = follow_json({"-i", image, "-o", (work / "c").string()});
    EXPECT_NE(line["digest"], subject.digest.str()) << "the artifact, not the image";
    EXPECT_EQ(line["reference"], image + "@" + line["digest"].get<std::string>());
    EXPECT_EQ(read_text(env_file), line["reference"].get<std::string>() + "\n");
}

// Issue 22 (24): every duration flag of follow takes a duration and says why a value is not
// one it can use: not positive, too long, not a duration. The loop does not retry a bad flag.
TEST(Follow, DurationFlagsSayWhatIsWrong) {
    TempDir work;
    const auto dir = (work / "policies").string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--every", "0s"}, "--every 0s: a duration must be positive"},
        {{"--every=-5s"}, "--every -5s: a duration must be positive"},
        {{"--every", "99999999999999999999h"}, "--every 99999999999999999999h: too long"},
        {{"--every", "5 minutes"}, "--every 5 minutes: not a duration"},
        {{"--timeout", "0ms"}, "--timeout 0ms: a duration must be positive"},
        {{"--timeout", "9000h"}, "--timeout 9000h: too long"},
        {{"--apply", "--grpc-timeout", "0"}, "--grpc-timeout 0: a duration must be positive"},
        {{"--apply", "--grpc-timeout=-1s"}, "--grpc-timeout -1s: a duration must be positive"},
    };
    for (const auto& [flags, message] : cases) {
        std::vector<std::string> args = {"oci", "follow", "-i", "localhost:1/never/contacted:v1", "-o", dir};
        args.insert(args.end(), flags.begin(), flags.end());
        Background follower(args, work.path(), "follower");
        const auto code = follower.wait_for_exit(std::chrono::seconds(10));
        ASSERT_TRUE(code) << "a bad flag ends follow: " << message;
        EXPECT_EQ(*code, 2) << follower.err();
        EXPECT_NE(follower.err().find("Error: " + message), std::string::npos) << follower.err();
        EXPECT_NE(follower.err().find("Hint: write a positive duration like"), std::string::npos) << follower.err();
    }
    auto json = run_karmor(
        {"oci", "follow", "--once", "--output", "json", "-i", "localhost:1/a:b", "-o", dir, "--every", "0s"});
    EXPECT_EQ(json.exit_code, 2);
    EXPECT_EQ(nlohmann::json::parse(json.out)["error"]["message"], "--every 0s: a duration must be positive");
    EXPECT_FALSE(fs::exists(work / "policies.versions")) << "nothing is made for a bad flag";
}

// Issue 22 (30, 13): --once that finds nothing new says so (stderr, or a JSON line like the
// change line); a failed --once with --output json is one JSON error document on stdout.
TEST(Follow, OnceSaysUpToDateAndFailsAsJson) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/current:latest";
    const auto dir = work / "policies";
    push_version(image, work.path(), 1);
    auto first = run_karmor({"oci", "follow", "--once", "--output", "json", "-i", image, "-o", dir.string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto changed = nlohmann::json::parse(first.out);
    const auto digest = changed["digest"].get<std::string>();

    auto text = run_karmor({"oci", "follow", "--once", "-i", image, "-o", dir.string()});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(text.out, "");
    EXPECT_EQ(text.err, dir.string() + " is up to date at " + digest + " (" + image + "@" + digest + ")\n");
    auto quiet = run_karmor({"oci", "follow", "--once", "-q", "-i", image, "-o", dir.string()});
    EXPECT_EQ(quiet.err, "");

    const auto before = registry->requests().size();
    auto json = run_karmor({"oci", "follow", "--once", "--output", "json", "-i", image, "-o", dir.string()});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    ASSERT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1) << json.out;
    const auto unchanged = nlohmann::json::parse(json.out);
    EXPECT_EQ(unchanged["event"], "unchanged");
    EXPECT_EQ(changed["event"], "changed");
    for (const auto& [key, value] : changed.items()) EXPECT_TRUE(unchanged.contains(key)) << "the same shape: " << key;
    EXPECT_EQ(unchanged["reference"], changed["reference"]);
    EXPECT_EQ(unchanged["digest"], digest);
    EXPECT_EQ(unchanged["directory"], dir.string());
    EXPECT_TRUE(unchanged["added"].empty() && unchanged["removed"].empty() && unchanged["changed"].empty());
    auto requests = registry->requests();
    requests.erase(requests.begin(), requests.begin() + static_cast<std::ptrdiff_t>(before));
    std::erase(requests, std::string("GET /v2/"));
    EXPECT_EQ(requests, std::vector<std::string>{"HEAD /v2/current/manifests/latest"}) << "still one HEAD";

    auto missing = run_karmor({"oci", "follow", "--once", "--output", "json", "-i",
                               registry->localhost() + "/current:nope", "-o", dir.string()});
    EXPECT_EQ(missing.exit_code, 4) << missing.err;
    const auto error = nlohmann::json::parse(missing.out, nullptr, false);
    ASSERT_TRUE(error.is_object()) << missing.out;
    EXPECT_EQ(error["error"]["exitCode"], 4);
    EXPECT_EQ(error["error"]["kind"], "not-found");
}

// Issue 22 (27): `follow --help` names everything the --exec command gets.
TEST(Follow, HelpListsTheHookEnvironment) {
    auto help = run_karmor({"oci", "follow", "--help"});
    ASSERT_EQ(help.exit_code, 0) << help.err;
    for (const auto* name : {"KARMOR_REFERENCE", "KARMOR_DIGEST", "KARMOR_DIR", "KARMOR_ADDED", "KARMOR_REMOVED",
                             "KARMOR_CHANGED", "REPO:TAG@DIGEST", "stdout sent to stderr", "10 when --exec failed"})
        EXPECT_NE(help.out.find(name), std::string::npos) << name << " in\n" << help.out;
}

}  // namespace
}  // namespace karmor
