// A registry with the OCI 1.1 referrers API for tests: the `referrers-registry` peer
// (go-containerregistry's pkg/registry with referrers support on, built by scripts/peers.sh
// from tests/support/referrers_registry). It keeps everything in memory, listens on 127.0.0.1
// with a port the kernel picks, and logs one "METHOD URI STATUS" line per request on stderr,
// written before the client gets its answer. Stopped with SIGTERM when the object goes away.
//
// TestRegistry runs either it or docker-registry (LocalRegistry, no referrers API: clients
// keep the fallback tag), for tests that must hold against both:
//
//   class Peers : public ::testing::TestWithParam<RegistryKind> {};
//   TEST_P(Peers, Something) {
//       KARMOR_START_TEST_REGISTRY(registry, GetParam());
//       ... registry->address() ... registry->requests() ...
//   }
//   INSTANTIATE_TEST_SUITE_P(Registries, Peers, ::testing::ValuesIn(all_registry_kinds()), registry_kind_name);
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "support/local_registry.hpp"
#include "support/peers.hpp"
#include "support/process.hpp"

namespace karmor::testing {

class ReferrersRegistry {
public:
    // Runs `program` (find_peer("referrers-registry")), or returns nullptr and sets `error`.
    static std::unique_ptr<ReferrersRegistry> start(const std::filesystem::path& program, std::string& error);
    ~ReferrersRegistry();
    ReferrersRegistry(const ReferrersRegistry&) = delete;
    ReferrersRegistry& operator=(const ReferrersRegistry&) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string localhost() const { return "localhost:" + std::to_string(port_); }

    // Everything it wrote on stderr: the request lines and the registry's own messages.
    std::string log() const;
    // Requests to /v2/ so far, as "METHOD URI" (the format of LocalRegistry::requests()).
    std::vector<std::string> requests() const;
    // The same with the status: "METHOD URI STATUS".
    std::vector<std::string> requests_with_status() const;

private:
    ReferrersRegistry() = default;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

enum class RegistryKind {
    distribution,   // Debian's docker-registry 2.8: no referrers API, fallback tag
    referrers_api,  // the referrers-registry peer: GET /v2/NAME/referrers/DIGEST answers
};

inline std::vector<RegistryKind> all_registry_kinds() {
    return {RegistryKind::distribution, RegistryKind::referrers_api};
}

// "DockerRegistry" or "ReferrersApi": a name for parameterized tests.
std::string registry_kind_name(const ::testing::TestParamInfo<RegistryKind>& info);
// How gtest prints the parameter (instead of its bytes).
void PrintTo(RegistryKind kind, std::ostream* out);

// One running registry of either kind.
class TestRegistry {
public:
    explicit TestRegistry(std::unique_ptr<LocalRegistry> registry) : distribution_(std::move(registry)) {}
    explicit TestRegistry(std::unique_ptr<ReferrersRegistry> registry) : referrers_(std::move(registry)) {}

    RegistryKind kind() const { return referrers_ ? RegistryKind::referrers_api : RegistryKind::distribution; }
    bool has_referrers_api() const { return kind() == RegistryKind::referrers_api; }
    // 127.0.0.1:PORT (plain HTTP: karmor uses it for loopback; oras needs --plain-http).
    std::string address() const { return referrers_ ? referrers_->address() : distribution_->address(); }
    std::string localhost() const { return referrers_ ? referrers_->localhost() : distribution_->localhost(); }
    std::string log() const { return referrers_ ? referrers_->log() : distribution_->log(); }
    // "METHOD URI" per request to /v2/ so far.
    std::vector<std::string> requests() const {
        return referrers_ ? referrers_->requests() : distribution_->requests();
    }

private:
    std::unique_ptr<LocalRegistry> distribution_;
    std::unique_ptr<ReferrersRegistry> referrers_;
};

// Starts a plain registry of `kind`, or returns nullptr and sets `error`. Prefer the macro,
// which first fails (or skips loudly) when the program is missing.
std::unique_ptr<TestRegistry> start_test_registry(RegistryKind kind, std::string& error);

// Starts the referrers registry or fails the current test (see KARMOR_REQUIRE_PEER).
#define KARMOR_START_REFERRERS_REGISTRY(variable)                                                                      \
    KARMOR_REQUIRE_PEER(variable##_program, "referrers-registry");                                                     \
    std::string variable##_error;                                                                                      \
    auto variable = ::karmor::testing::ReferrersRegistry::start(variable##_program, variable##_error);                 \
    ASSERT_TRUE(variable) << "cannot start referrers-registry: " << variable##_error

// Starts a registry of `kind` (a RegistryKind) or fails the current test.
#define KARMOR_START_TEST_REGISTRY(variable, kind)                                                                     \
    if ((kind) == ::karmor::testing::RegistryKind::referrers_api) {                                                    \
        KARMOR_REQUIRE_PEER(variable##_program, "referrers-registry");                                                 \
    } else {                                                                                                           \
        KARMOR_REQUIRE_PROGRAM("docker-registry");                                                                     \
    }                                                                                                                  \
    std::string variable##_error;                                                                                      \
    auto variable = ::karmor::testing::start_test_registry(kind, variable##_error);                                    \
    ASSERT_TRUE(variable) << "cannot start the registry: " << variable##_error

}  // namespace karmor::testing
