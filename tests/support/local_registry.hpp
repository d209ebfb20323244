// A real registry for tests: Debian's docker-registry (Docker Distribution 2.8) on
// 127.0.0.1 with a port the kernel picks, optionally with TLS (a private CA made with
// openssl) and htpasswd users. Stopped with SIGTERM when the object goes away.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace karmor::testing {

struct RegistryConfig {
    bool tls = false;
    std::string user;  // with password: htpasswd authentication
    std::string password;
    // Extra top-level YAML appended to the config (e.g. an auth.token section).
    std::string extra_config;
    // A pull-through cache of this registry (Distribution's proxy mode): it fetches what it has
    // not got from there, keeps it, and refuses pushes. E.g. http://127.0.0.1:5000.
    std::string proxy_remote_url;
};

class LocalRegistry {
public:
    // Starts the registry, or returns nullptr and sets `error`.
    static std::unique_ptr<LocalRegistry> start(const RegistryConfig& config, std::string& error);
    ~LocalRegistry();
    LocalRegistry(const LocalRegistry&) = delete;
    LocalRegistry& operator=(const LocalRegistry&) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string localhost() const { return "localhost:" + std::to_string(port_); }
    // The CA that signed the server certificate (tls only).
    std::filesystem::path ca_file() const { return dir_.path() / "ca.pem"; }
    const std::filesystem::path& work_dir() const { return dir_.path(); }

    // The registry's log (with its access log).
    std::string log() const;
    // Requests to /v2/ seen in the access log so far, e.g. "GET", "HEAD", "" for all.
    std::vector<std::string> requests() const;
    // How many requests of the access log so far start with `prefix`, e.g. "GET /v2/team/p/blobs/".
    std::size_t count_requests(const std::string& prefix) const;

private:
    LocalRegistry() = default;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// Makes a private CA and a server certificate for 127.0.0.1 and localhost in `dir`
// (ca.pem, server.pem, server-key.pem). Returns false and sets `error` on failure.
bool make_test_certificates(const std::filesystem::path& dir, std::string& error);

// Starts a plain registry or fails the current test (skips only with KARMOR_TESTS_ALLOW_SKIP=1).
#define KARMOR_START_REGISTRY(variable, config)                                                                        \
    KARMOR_REQUIRE_PROGRAM("docker-registry");                                                                         \
    std::string variable##_error;                                                                                      \
    auto variable = ::karmor::testing::LocalRegistry::start(config, variable##_error);                                 \
    ASSERT_TRUE(variable) << "cannot start docker-registry: " << variable##_error

}  // namespace karmor::testing
