// An HTTP proxy in front of a real registry that injects faults (issue 6): error statuses,
// connection resets, truncated or corrupted bodies, stalls, oversized bodies. One request per
// upstream connection; the client may keep its connection alive.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace karmor::testing {

enum class FaultKind {
    status,         // answer with `status` (and Retry-After: 0 for 429/503) without forwarding
    reset,          // read the request, then close the connection without an answer
    truncate_body,  // forward, but send only half the body, then close
    corrupt_body,   // forward with one body byte flipped
    stall,          // wait `stall_ms` before forwarding
    huge_body,      // answer 200 with `huge_bytes` bytes of JSON-looking junk
};

struct Fault {
    std::string method;         // empty: any
    std::string path_contains;  // empty: any
    FaultKind kind = FaultKind::status;
    int times = 1;
    int status = 503;
    int stall_ms = 0;
    std::size_t huge_bytes = 0;
};

class FaultProxy {
public:
    // Listens on 127.0.0.1 with a kernel-chosen port and forwards to upstream_port.
    explicit FaultProxy(int upstream_port);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    int port() const { return port_; }
    void add_fault(Fault fault);
    int faults_fired() const { return fired_; }
    std::vector<std::string> log() const;  // "METHOD PATH -> what happened"

private:
    void accept_loop();
    void serve(int client);
    bool take_fault(const std::string& method, const std::string& path, Fault& out);
    void note(const std::string& line);

    int upstream_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> fired_{0};
    mutable std::mutex mutex_;
    std::vector<Fault> faults_;
    std::vector<std::string> log_;
    std::vector<std::thread> workers_;
    std::thread acceptor_;
};

}  // namespace karmor::testing
