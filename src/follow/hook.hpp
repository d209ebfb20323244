// follow's --exec hook: `sh -c CMD` in a process group of its own, so that a stop ends all of it
// (the shell and whatever it started), not only the shell.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::follow {

struct HookRequest {
    std::string command;                      // run as `sh -c command`
    std::vector<std::string> environment;     // NAME=VALUE added to the caller's, whose KARMOR_* are left out
    const std::atomic<bool>* stop = nullptr;  // set when the caller is asked to stop
    int stop_fd = -1;                         // readable once `stop` is set (-1: look at `stop` every 50 ms)
    std::chrono::milliseconds grace{1000};    // between SIGTERM and SIGKILL on a stop
};

struct HookOutcome {
    int exit_code = -1;    // when it exited
    int signal = 0;        // when a signal ended it
    bool stopped = false;  // a stop came while it ran: its group got SIGTERM
    bool killed = false;   // ... and, still there after the grace, SIGKILL
    bool succeeded() const { return !stopped && exit_code == 0; }
};

// Runs the hook and waits for it. Its stdin is /dev/null (it runs unattended, and a background
// process group reading the terminal would be stopped), its stdout goes to the caller's stderr
// (the caller's stdout carries follow's reports). When `stop` is set while it runs, its process
// group gets SIGTERM, and SIGKILL after `grace`; the call returns once the shell is gone. An error
// only when it cannot be started.
Result<HookOutcome> run_hook(const HookRequest& request);

}  // namespace karmor::follow
