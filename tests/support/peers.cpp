#include "support/peers.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "support/process.hpp"

namespace karmor::testing {

std::filesystem::path peers_bin_dir() {
    if (const char* bin = std::getenv("KARMOR_PEERS_BIN"); bin && *bin) return bin;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : "/root") / ".cache" / "karmor-peers" / "bin";
}

std::optional<std::filesystem::path> find_peer(const std::string& name) {
    const auto path = peers_bin_dir() / name;
    if (access(path.c_str(), X_OK) == 0) return path;
    return std::nullopt;
}

bool peers_opted_out() {
    const char* value = std::getenv("KARMOR_SKIP_PEERS");
    return value && std::string(value) == "1";
}

std::string peer_missing_message(const std::string& name, bool skipping) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string test_name = test ? std::string(test->test_suite_name()) + "." + test->name() : "this test";
    std::string message;
    if (skipping && peers_opted_out()) {
        message = "PEER TEST NOT RUN: " + test_name + " needs '" + name + "' and KARMOR_SKIP_PEERS=1 is set";
    } else {
        message = std::string(skipping ? "PEER TEST NOT RUN: " : "") + test_name + " needs the peer program '" + name +
                  "', which is not in " + peers_bin_dir().string() +
                  ": run scripts/peers.sh (it builds the peers with Go >= 1.25 and prints the directory for "
                  "KARMOR_PEERS_BIN), or set KARMOR_SKIP_PEERS=1 to opt out of the peer tests";
    }
    if (skipping) std::cerr << "*** " << message << " ***\n";
    return message;
}

}  // namespace karmor::testing
