#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace karmor::testing {

std::optional<std::filesystem::path> find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        if (access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
        return std::nullopt;
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

bool skipping_allowed() {
    const char* value = std::getenv("KARMOR_TESTS_ALLOW_SKIP");
    return value && std::string(value) == "1";
}

namespace {

CommandResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          const std::map<std::string, std::string>& env, const std::filesystem::path& cwd,
                          int signal_number, int signal_after_ms) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");

    std::map<std::string, std::string> environment;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        const auto eq = entry.find('=');
        if (eq != std::string::npos) environment[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : env) environment[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : environment) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    CommandResult result;
    if (rc != 0) {
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(err_pipe[0]);
        result.err = "cannot run " + argv[0] + ": " + std::strerror(rc);
        return result;
    }

    std::thread signaller;
    if (signal_number != 0) {
        signaller = std::thread([pid, signal_number, signal_after_ms] {
            std::this_thread::sleep_for(std::chrono::milliseconds(signal_after_ms));
            kill(pid, signal_number);
        });
    }
    std::size_t written = 0;
    if (input.empty()) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
    int open_outputs = 2;
    char buffer[65536];
    while (open_outputs > 0) {
        const nfds_t count = in_pipe[1] >= 0 ? 3 : 2;
        if (poll(fds, count, -1) < 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
                const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
                if (n <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_outputs;
                } else {
                    (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
                }
            }
        }
        if (in_pipe[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = write(in_pipe[1], input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n <= 0 || written == input.size()) {
                close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
    }
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (signaller.joinable()) signaller.join();
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          const std::map<std::string, std::string>& env, const std::filesystem::path& cwd) {
    return run_process(argv, input, env, cwd, 0, 0);
}

CommandResult run_command_with_signal(const std::vector<std::string>& argv, int signal_number, int after_ms) {
    return run_process(argv, {}, {}, {}, signal_number, after_ms);
}

CommandResult run_karmor(const std::vector<std::string>& args, const std::string& input,
                         const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv{KARMOR_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input, env);
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "karmor-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void write_text(const std::filesystem::path& path, const std::string& content) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

ListeningPort wait_for_listening_port(pid_t pid, const std::filesystem::path& stdout_path) {
    static const std::regex listening(R"(listening on 127\.0\.0\.1:([0-9]+))");
    return wait_for_listening_port(pid, stdout_path, listening);
}

ListeningPort wait_for_listening_port(pid_t pid, const std::filesystem::path& log_path, const std::regex& pattern,
                                      std::chrono::seconds timeout) {
    ListeningPort result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch match;
        result.printed = read_text(log_path);
        if (std::regex_search(result.printed, match, pattern)) {
            result.port = std::stoi(match[1].str());
            return result;
        }
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            result.exited = true;
            return result;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return result;
}

}  // namespace karmor::testing
