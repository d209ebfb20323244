// Running programs from tests: the karmor binary, skopeo, openssl, docker-registry.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace karmor::testing {

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv to completion, feeding `input` on stdin. `env` entries are added to (or replace
// names in) the current environment.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                          const std::map<std::string, std::string>& env = {}, const std::filesystem::path& cwd = {});

// Like run_command, and sends `signal` to the process `after_ms` after it started.
CommandResult run_command_with_signal(const std::vector<std::string>& argv, int signal, int after_ms);

// The karmor binary under test, with arguments.
CommandResult run_karmor(const std::vector<std::string>& args, const std::string& input = {},
                         const std::map<std::string, std::string>& env = {});

// The path of a program on PATH, if any.
std::optional<std::filesystem::path> find_program(const std::string& name);

// A program the test needs. When it is missing the test fails (or, with
// KARMOR_TESTS_ALLOW_SKIP=1 in the environment, is skipped with a loud message).
#define KARMOR_REQUIRE_PROGRAM(name)                                                                                   \
    do {                                                                                                               \
        if (!::karmor::testing::find_program(name)) {                                                                  \
            if (::karmor::testing::skipping_allowed())                                                                 \
                GTEST_SKIP() << "SKIPPED: required program '" << (name) << "' is not installed";                       \
            FAIL() << "required program '" << (name) << "' is not installed: run scripts/setup.sh";                    \
        }                                                                                                              \
    } while (0)

bool skipping_allowed();

// What a server the tests started printed while it came up.
struct ListeningPort {
    std::optional<int> port;  // from "listening on 127.0.0.1:PORT" on its stdout
    bool exited = false;      // it exited (and was reaped) before printing one
    std::string printed;      // its stdout so far
};
// Waits up to 15 s for the server running as `pid` to print its port into `stdout_path`.
ListeningPort wait_for_listening_port(pid_t pid, const std::filesystem::path& stdout_path);
// The same for a server that says it otherwise: the first group of `pattern` is the port.
ListeningPort wait_for_listening_port(pid_t pid, const std::filesystem::path& log_path, const std::regex& pattern,
                                      std::chrono::seconds timeout = std::chrono::seconds(15));

// A directory removed at the end of the test.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

void write_text(const std::filesystem::path& path, const std::string& content);
std::string read_text(const std::filesystem::path& path);

}  // namespace karmor::testing
