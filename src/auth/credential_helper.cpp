#include "auth/credential_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "util/file_descriptor.hpp"

extern char** environ;

namespace karmor::auth {
namespace {

using Fd = util::FileDescriptor;

struct Pipe {
    Fd read_end;
    Fd write_end;
};

bool make_pipe(Pipe& p) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    p.read_end.reset(fds[0]);
    p.write_end.reset(fds[1]);
    return true;
}

std::optional<std::string> find_on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

// A helper that exits without reading its stdin must not kill us with SIGPIPE: the signal is
// blocked in this thread while writing and a pending one is consumed afterwards.
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
    }
    ~SigpipeBlock() {
        const timespec zero{0, 0};
        while (sigtimedwait(&set_, nullptr, &zero) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t set_{};
    sigset_t old_{};
};

// Exchanges `input` for the helper's stdout and stderr without deadlocking on full pipes.
void exchange(Fd& in, Fd& out, Fd& err, const std::string& input, HelperRun& run) {
    SigpipeBlock no_sigpipe;
    std::size_t written = 0;
    if (input.empty()) in.reset();
    char buffer[4096];
    while (out.get() >= 0 || err.get() >= 0) {
        std::array<pollfd, 3> fds{pollfd{out.get(), POLLIN, 0}, pollfd{err.get(), POLLIN, 0},
                                  pollfd{in.get(), POLLOUT, 0}};
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {
                (i == 0 ? out : err).reset();
            } else {
                (i == 0 ? run.out : run.err).append(buffer, static_cast<std::size_t>(n));
            }
        }
        if (in.get() >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = write(in.get(), input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n <= 0 || written == input.size()) in.reset();
        }
    }
}

std::string first_line(const std::string& text) {
    auto line = text.substr(0, text.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line.size() > 300 ? line.substr(0, 300) + "…" : line;
}

// The helpers of docker/docker-credential-helpers say so on stdout when they have nothing.
bool says_not_found(const HelperRun& run) {
    return (run.out + run.err).find("credentials not found") != std::string::npos;
}

Error helper_failed(const std::string& name, const std::string& action, const std::string& server_url,
                    const HelperRun& run) {
    const auto said = first_line(run.err.empty() ? run.out : run.err);
    return Error(ErrorKind::auth,
                 "docker-credential-" + name + " " + action + " failed for " + server_url + " (exit code " +
                     std::to_string(run.exit_code) + (said.empty() ? ")" : "): " + said),
                 "check the credential helper `" + name + "` configured in the Docker config (credsStore/credHelpers)");
}

}  // namespace

Result<HelperRun> run_credential_helper(const std::string& name, const std::string& action, const std::string& input) {
    const std::string program = "docker-credential-" + name;
    const auto path = find_on_path(program);
    if (!path)
        return unexpected(Error(ErrorKind::auth, program + " not found on PATH",
                                "install the credential helper `" + name +
                                    "`, or remove it from credsStore/credHelpers in the Docker config"));
    Pipe in, out, err;
    if (!make_pipe(in) || !make_pipe(out) || !make_pipe(err))
        return unexpected(Error(ErrorKind::io, "cannot create pipes for " + program + ": " + std::strerror(errno)));

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read_end.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out.write_end.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err.write_end.get(), 2);
    std::string arg0 = *path, arg1 = action;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, path->c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    in.read_end.reset();
    out.write_end.reset();
    err.write_end.reset();
    if (rc != 0)
        return unexpected(Error(ErrorKind::auth, "cannot run " + *path + ": " + std::strerror(rc),
                                "check that the credential helper is an executable program"));

    HelperRun run;
    exchange(in.write_end, out.read_end, err.read_end, input, run);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

Result<std::optional<Credentials>> helper_get(const std::string& name, const std::string& server_url) {
    auto run = run_credential_helper(name, "get", server_url);
    if (!run) return unexpected(std::move(run).error());
    if (run->exit_code != 0) {
        if (says_not_found(*run)) return std::optional<Credentials>();
        return unexpected(helper_failed(name, "get", server_url, *run));
    }
    const auto answer = nlohmann::json::parse(run->out, nullptr, false);
    if (!answer.is_object() || !answer.contains("Secret") || !answer["Secret"].is_string())
        return unexpected(
            Error(ErrorKind::auth,
                  "docker-credential-" + name + " get answered something that is not credentials for " + server_url,
                  "the helper must print {\"ServerURL\":…,\"Username\":…,\"Secret\":…}"));
    Credentials credentials;
    const auto username = answer.value("Username", std::string());
    // Docker's convention: the user name "<token>" marks an identity (refresh) token.
    if (username == "<token>") {
        credentials.identity_token = answer["Secret"].get<std::string>();
    } else {
        credentials.username = username;
        credentials.password = answer["Secret"].get<std::string>();
    }
    return std::optional<Credentials>(std::move(credentials));
}

Result<void> helper_store(const std::string& name, const std::string& server_url, const Credentials& credentials) {
    const nlohmann::json document = {
        {"ServerURL", server_url},
        {"Username", credentials.identity_token.empty() ? credentials.username : "<token>"},
        {"Secret", credentials.identity_token.empty() ? credentials.password : credentials.identity_token}};
    auto run = run_credential_helper(name, "store", document.dump());
    if (!run) return unexpected(std::move(run).error());
    if (run->exit_code != 0) return unexpected(helper_failed(name, "store", server_url, *run));
    return {};
}

Result<bool> helper_erase(const std::string& name, const std::string& server_url) {
    auto run = run_credential_helper(name, "erase", server_url);
    if (!run) return unexpected(std::move(run).error());
    if (run->exit_code == 0) return true;
    if (says_not_found(*run)) return false;
    return unexpected(helper_failed(name, "erase", server_url, *run));
}

}  // namespace karmor::auth
