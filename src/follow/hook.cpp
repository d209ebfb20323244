#include "follow/hook.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace karmor::follow {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A descriptor that becomes readable when `pid` exits (Linux 5.3); -1 where the kernel or a
// seccomp filter refuses, and the wait then looks every 50 ms.
int open_pid_descriptor(pid_t pid) {
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    return -1;
#endif
}

// Has `pid` exited? It is left a zombie, so its pid, which is also its group's id, cannot be
// reused before the group is signalled one last time.
bool has_exited(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

struct SpawnSetup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attributes{};
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attributes);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

Result<HookOutcome> run_hook(const HookRequest& request) {
    std::vector<std::string> variables = request.environment;
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "KARMOR_", 7) != 0) envp.push_back(*e);
    for (auto& v : variables) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string sh = "sh", dash_c = "-c", command = request.command;
    char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

    SpawnSetup setup;
    posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, 2, 1);
    // Its own group (to be signalled as a whole), the signals karmor handles back to their
    // defaults, and nothing blocked.
    sigset_t defaults, none;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigemptyset(&none);
    posix_spawnattr_setpgroup(&setup.attributes, 0);
    posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
    posix_spawnattr_setsigmask(&setup.attributes, &none);
    posix_spawnattr_setflags(
        &setup.attributes, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
    pid_t pid = -1;
    if (const int rc = posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attributes, argv, envp.data()); rc != 0)
        return unexpected(Error(ErrorKind::io, std::string("cannot start /bin/sh for --exec: ") + std::strerror(rc)));

    const int exit_fd = open_pid_descriptor(pid);
    HookOutcome outcome;
    auto kill_at = Clock::time_point::max();
    while (!has_exited(pid)) {
        if (!outcome.stopped && request.stop && request.stop->load()) {
            outcome.stopped = true;
            ::kill(-pid, SIGTERM);
            kill_at = Clock::now() + request.grace;
        }
        if (outcome.stopped && !outcome.killed && Clock::now() >= kill_at) {
            outcome.killed = true;
            ::kill(-pid, SIGKILL);
        }
        pollfd watched[2];
        nfds_t count = 0;
        if (exit_fd >= 0) watched[count++] = {exit_fd, POLLIN, 0};
        // Once stopping, the stop descriptor stays readable: it is no longer watched.
        if (!outcome.stopped && request.stop_fd >= 0) watched[count++] = {request.stop_fd, POLLIN, 0};
        int timeout = exit_fd >= 0 ? -1 : 50;
        if (request.stop_fd < 0 && request.stop) timeout = 50;
        if (outcome.stopped && !outcome.killed) {
            const auto left = std::chrono::duration_cast<milliseconds>(kill_at - Clock::now()).count();
            const int until_kill = static_cast<int>(std::max<long long>(left, 0) + 1);
            timeout = timeout < 0 ? until_kill : std::min(timeout, until_kill);
        }
        ::poll(watched, count, timeout);  // EINTR (the stop's own signal) just goes round again
    }
    // What the shell left behind in its group goes too, on a stop; the shell is still a zombie
    // here, so the group id is still its own.
    if (outcome.stopped) ::kill(-pid, SIGKILL);
    if (exit_fd >= 0) ::close(exit_fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
    return outcome;
}

}  // namespace karmor::follow
