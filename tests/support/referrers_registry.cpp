#include "support/referrers_registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace karmor::testing {

std::unique_ptr<ReferrersRegistry> ReferrersRegistry::start(const std::filesystem::path& program, std::string& error) {
    std::unique_ptr<ReferrersRegistry> registry(new ReferrersRegistry());
    const auto& dir = registry->dir_.path();
    const auto out_path = dir / "stdout.log";
    const auto err_path = dir / "stderr.log";
    const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0 || err_fd < 0) {
        if (out_fd >= 0) close(out_fd);
        if (err_fd >= 0) close(err_fd);
        error = "cannot create the log files in " + dir.string();
        return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::string path = program.string(), flag = "--address", address = "127.0.0.1:0";
    char* argv[] = {path.data(), flag.data(), address.data(), nullptr};
    const int rc = posix_spawn(&registry->pid_, path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_fd);
    close(err_fd);
    if (rc != 0) {
        registry->pid_ = -1;
        error = "cannot run " + path + " (build it with scripts/peers.sh)";
        return nullptr;
    }

    const auto started = wait_for_listening_port(registry->pid_, out_path);
    if (started.port) {
        registry->port_ = *started.port;
        return registry;
    }
    if (started.exited) {
        registry->pid_ = -1;
        error = path + " exited: " + started.printed + registry->log();
        return nullptr;
    }
    error = path + " did not print its port within 15 s: " + registry->log();
    return nullptr;
}

ReferrersRegistry::~ReferrersRegistry() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

std::string ReferrersRegistry::log() const {
    return read_text(dir_.path() / "stderr.log");
}

std::vector<std::string> ReferrersRegistry::requests_with_status() const {
    static const std::regex request(R"(^(GET|HEAD|POST|PUT|PATCH|DELETE) (/v2/\S*) ([0-9]{3})$)");
    std::vector<std::string> out;
    std::istringstream lines(log());
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch match;
        if (std::regex_match(line, match, request))
            out.push_back(match[1].str() + " " + match[2].str() + " " + match[3].str());
    }
    return out;
}

std::vector<std::string> ReferrersRegistry::requests() const {
    auto out = requests_with_status();
    for (auto& line : out) line.erase(line.rfind(' '));
    return out;
}

std::string registry_kind_name(const ::testing::TestParamInfo<RegistryKind>& info) {
    return info.param == RegistryKind::referrers_api ? "ReferrersApi" : "DockerRegistry";
}

void PrintTo(RegistryKind kind, std::ostream* out) {
    *out << (kind == RegistryKind::referrers_api ? "referrers-registry (go-containerregistry, referrers API)"
                                                 : "docker-registry (Distribution 2.8, fallback tag)");
}

std::unique_ptr<TestRegistry> start_test_registry(RegistryKind kind, std::string& error) {
    if (kind == RegistryKind::referrers_api) {
        const auto program = find_peer("referrers-registry");
        if (!program) {
            error = "referrers-registry is not in " + peers_bin_dir().string() + ": run scripts/peers.sh";
            return nullptr;
        }
        auto registry = ReferrersRegistry::start(*program, error);
        return registry ? std::make_unique<TestRegistry>(std::move(registry)) : nullptr;
    }
    auto registry = LocalRegistry::start(RegistryConfig{}, error);
    return registry ? std::make_unique<TestRegistry>(std::move(registry)) : nullptr;
}

}  // namespace karmor::testing
