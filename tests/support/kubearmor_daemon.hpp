// A test double of the KubeArmor daemon's gRPC PolicyService: tests/support/kubearmor_daemon.py
// on grpcio (Debian's python3-grpcio), plaintext or TLS, on 127.0.0.1 with a port the kernel
// picks. It records every request and answers per policy as configured. Stopped with SIGTERM
// when the object goes away.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace karmor::testing {

struct DaemonConfig {
    // Server certificate and key: TLS. With client_ca also mutual TLS.
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    std::filesystem::path client_ca;
};

struct DaemonRequest {
    std::string rpc;      // containerPolicy, hostPolicy, networkPolicy
    std::string payload;  // the bytes of field 1 of the `policy` message, as received
};

class FakeKubeArmorDaemon {
public:
    static std::unique_ptr<FakeKubeArmorDaemon> start(const DaemonConfig& config, std::string& error);
    ~FakeKubeArmorDaemon();
    FakeKubeArmorDaemon(const FakeKubeArmorDaemon&) = delete;
    FakeKubeArmorDaemon& operator=(const FakeKubeArmorDaemon&) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string localhost() const { return "localhost:" + std::to_string(port_); }

    // Every request so far, in order.
    std::vector<DaemonRequest> requests() const;
    // Forgets the requests so far.
    void clear_requests() const;
    // {"byName": {NAME: STATUS}, "byKind": {KIND: STATUS}, "delaySeconds": {NAME: N},
    // "abort": {NAME: [GRPC_STATUS_CODE, MESSAGE]}}; read at every request. An abort is a gRPC
    // error without a message: a trailers-only answer.
    void configure(const nlohmann::json& answers) const;
    std::string log() const;

private:
    FakeKubeArmorDaemon() = default;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// The Python with grpcio: Debian's /usr/bin/python3 (scripts/setup.sh installs python3-grpcio).
bool grpc_python_available();

// A private CA (ca.pem), a server certificate for 127.0.0.1 and localhost (server.pem,
// server-key.pem) and a client certificate (client.pem, client-key.pem) in `dir`.
bool make_mutual_tls_certificates(const std::filesystem::path& dir, std::string& error);

// Starts the daemon or fails the current test (skips only with KARMOR_TESTS_ALLOW_SKIP=1).
#define KARMOR_START_DAEMON(variable, config)                                                                          \
    if (!::karmor::testing::grpc_python_available()) {                                                                 \
        if (::karmor::testing::skipping_allowed()) GTEST_SKIP() << "SKIPPED: python3-grpcio is not installed";         \
        FAIL() << "python3-grpcio is not installed for /usr/bin/python3: run scripts/setup.sh";                        \
    }                                                                                                                  \
    std::string variable##_error;                                                                                      \
    auto variable = ::karmor::testing::FakeKubeArmorDaemon::start(config, variable##_error);                           \
    ASSERT_TRUE(variable) << "cannot start the test daemon: " << variable##_error

}  // namespace karmor::testing
