// Issue 11 items 1 and 3: every input is bounded with limits shared by push and pull, files
// that never end are refused by name, and SIGINT/SIGTERM stop loading at once.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/local_registry.hpp"
#include "support/process.hpp"

namespace karmor {
namespace {

using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string policy_named(const std::string& name, int paths = 1, const std::string& padding = "") {
    std::string text = "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
                       "\n  namespace: default\nspec:\n  selector:\n    matchLabels:\n      app: web\n"
                       "  process:\n    matchPaths:\n";
    for (int i = 0; i < paths; ++i) text += "      - path: /usr/bin/tool-" + std::to_string(i) + padding + "\n";
    return text + "  action: Block\n";
}

// Runs karmor under timeout(1): without the fix the device read never ends.
testing::CommandResult run_bounded(std::vector<std::string> args) {
    std::vector<std::string> argv{"timeout", "-s", "KILL", "20", KARMOR_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

TEST(InputLimits, DevicesAndFifosAreRefusedByName) {
    TempDir work;
    std::filesystem::create_symlink("/dev/zero", work / "zero.yaml");
    ASSERT_EQ(mkfifo((work / "pipe.yaml").c_str(), 0600), 0);
    auto zero =
        run_bounded({"oci", "push", "--dry-run", "-i", "localhost:5000/x:v1", "-p", (work / "zero.yaml").string()});
    EXPECT_EQ(zero.exit_code, 7) << zero.err;
    EXPECT_NE(zero.err.find("zero.yaml: is a character device"), std::string::npos) << zero.err;
    auto pipe =
        run_bounded({"oci", "push", "--dry-run", "-i", "localhost:5000/x:v1", "-p", (work / "pipe.yaml").string()});
    EXPECT_EQ(pipe.exit_code, 7) << pipe.err;
    EXPECT_NE(pipe.err.find("pipe.yaml: is a FIFO"), std::string::npos) << pipe.err;
}

TEST(InputLimits, FileSizeDepthAndCountHaveFlagsThatRaiseThem) {
    TempDir work;
    // About 5 MiB: over the default of 4 MiB.
    write_text(work / "big.yaml", policy_named("big", 50'000, std::string(70, 'x')));
    auto refused =
        run_bounded({"oci", "push", "--dry-run", "-i", "localhost:5000/x:v1", "-p", (work / "big.yaml").string()});
    EXPECT_EQ(refused.exit_code, 3) << refused.err;
    EXPECT_NE(refused.err.find("--max-file-size"), std::string::npos) << refused.err;
    auto raised = run_bounded({"oci", "push", "--dry-run", "--max-file-size", "8MiB", "-i", "localhost:5000/x:v1", "-p",
                               (work / "big.yaml").string()});
    EXPECT_EQ(raised.exit_code, 0) << raised.err;

    std::string deep = "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: deep\nspec: ";
    deep += std::string(150, '[') + std::string(150, ']') + "\n";
    write_text(work / "deep.yaml", deep);
    auto too_deep =
        run_bounded({"oci", "push", "--dry-run", "-i", "localhost:5000/x:v1", "-p", (work / "deep.yaml").string()});
    EXPECT_EQ(too_deep.exit_code, 3);
    EXPECT_NE(too_deep.err.find("nests deeper than 100 levels (raise --max-depth)"), std::string::npos) << too_deep.err;

    write_text(work / "many" / "a.yaml",
               policy_named("a", 10) + "---\n" + policy_named("b", 10) + "---\n" + policy_named("c", 10));
    auto too_many = run_bounded({"oci", "push", "--dry-run", "--max-policies", "2", "-i", "localhost:5000/x:v1", "-p",
                                 (work / "many").string()});
    EXPECT_EQ(too_many.exit_code, 3);
    EXPECT_NE(too_many.err.find("(raise --max-policies)"), std::string::npos) << too_many.err;

    auto total = run_bounded({"oci", "push", "--dry-run", "--max-total-size", "1KiB", "-i", "localhost:5000/x:v1", "-p",
                              (work / "many").string()});
    EXPECT_EQ(total.exit_code, 3);
    EXPECT_NE(total.err.find("--max-total-size"), std::string::npos) << total.err;

    auto bad_size = run_bounded({"oci", "push", "--dry-run", "--max-file-size", "lots", "-i", "localhost:5000/x:v1",
                                 "-p", (work / "many").string()});
    EXPECT_EQ(bad_size.exit_code, 2) << bad_size.err;
}

// What push accepts with raised limits, pull refuses without them (naming the same flag) and
// takes with them; a policy of 5 MiB is not pushed by default at all.
TEST(InputLimits, PushAndPullShareTheLimits) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "big.yaml", policy_named("big", 50'000, std::string(70, 'x')));
    write_text(work / "small.yaml", policy_named("small"));
    const auto image = registry->localhost() + "/limits:v1";
    auto pushed_default = run_karmor({"oci", "push", "-i", image, "-p", work.path().string()});
    EXPECT_EQ(pushed_default.exit_code, 3) << pushed_default.err;
    auto pushed = run_karmor({"oci", "push", "--max-file-size", "8MiB", "-i", image, "-p", work.path().string()});
    ASSERT_EQ(pushed.exit_code, 0) << pushed.err;

    auto refused = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    EXPECT_EQ(refused.exit_code, 3) << refused.err;
    EXPECT_NE(refused.err.find("--max-file-size"), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(work / "out" / "ksp-default-small.yaml"));
    auto pulled = run_karmor({"oci", "pull", "--max-file-size", "8MiB", "-i", image, "-o", (work / "out").string()});
    EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
    EXPECT_TRUE(std::filesystem::exists(work / "out" / "ksp-default-big.yaml"));
}

// Loading takes seconds here; a signal stops it at once with exit 130.
TEST(InputLimits, SignalsStopLoading) {
    TempDir work;
    for (int file = 0; file < 24; ++file) {
        std::ofstream out(work / ("p" + std::to_string(file) + ".yaml"));
        for (int i = 0; i < 1500; ++i)
            out << "---\n" << policy_named("p" + std::to_string(file) + "-" + std::to_string(i), 40);
    }
    for (const int signal : {SIGINT, SIGTERM}) {
        const auto start = std::chrono::steady_clock::now();
        auto result =
            testing::run_command_with_signal({KARMOR_BINARY, "oci", "push", "--dry-run", "--max-total-size", "2GiB",
                                              "-i", "localhost:5000/x:v1", "-p", work.path().string()},
                                             signal, 400);
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        EXPECT_EQ(result.exit_code, 130) << "signal " << signal << ": " << result.err;
        // 100 ms is the rule; the margin is for a loaded machine.
        EXPECT_LT(elapsed, 400 + 600) << "signal " << signal;
        EXPECT_NE(result.err.find("interrupted"), std::string::npos) << result.err;
    }
}

}  // namespace
}  // namespace karmor

namespace karmor {
namespace {

// The flags of a command and of every subcommand under it, from their --help.
void collect_flags(const std::vector<std::string>& command, std::set<std::string>& flags) {
    auto args = command;
    args.push_back("--help");
    auto help = run_karmor(args);
    ASSERT_EQ(help.exit_code, 0) << help.err;
    const std::regex flag_pattern("--[a-z][a-z0-9-]+");
    const auto options_end = help.out.find("\nExamples:");
    const auto options = help.out.substr(0, options_end);
    for (std::sregex_iterator it(options.begin(), options.end(), flag_pattern), end; it != end; ++it)
        flags.insert(it->str());
    const auto subcommands = help.out.find("Subcommands:\n");
    if (subcommands == std::string::npos) return;
    std::istringstream lines(help.out.substr(subcommands + 13));
    for (std::string line; std::getline(lines, line) && line.rfind("  ", 0) == 0;) {
        // "  copy, cp    description": the name is the first word; aliases follow a comma.
        const auto name = line.substr(2, line.find_first_of(" ,", 2) - 2);
        if (name.empty() || command.size() > 3) continue;
        auto sub = command;
        sub.push_back(name);
        collect_flags(sub, flags);
    }
}

// Every `--flag` that the program's messages name (hints above all) is a flag the CLI has:
// the text of every string literal in src/ against the flags in the --help of every command.
TEST(Hints, EveryFlagNamedInAMessageExists) {
    std::set<std::string> flags;
    collect_flags({}, flags);
    ASSERT_TRUE(flags.count("--max-file-size"));
    ASSERT_TRUE(flags.count("--timeout"));
    const std::regex flag_pattern("--[a-z][a-z0-9-]+");

    const std::regex literal(R"("(?:[^"\\\n]|\\.)*")");
    int checked = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(std::filesystem::path(KARMOR_SOURCE_DIR) / "src")) {
        const auto ext = entry.path().extension();
        if (ext != ".cpp" && ext != ".hpp") continue;
        const auto text = testing::read_text(entry.path());
        for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it) {
            const auto s = it->str();
            for (std::sregex_iterator f(s.begin(), s.end(), flag_pattern), fend; f != fend; ++f) {
                ++checked;
                EXPECT_TRUE(flags.count(f->str())) << entry.path().filename().string() << " names " << f->str()
                                                   << ", which karmor does not have: " << s;
            }
        }
    }
    EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace karmor
