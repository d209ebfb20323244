// Peer programs the tests check karmor against (SPEC §13): ORAS, cosign, cosign-v2 and the
// referrers-API registry, built from pinned versions by scripts/peers.sh into a cache. Tests
// find them in $KARMOR_PEERS_BIN (default $HOME/.cache/karmor-peers/bin), never on PATH, so a
// different oras or cosign installed on the machine cannot stand in for the pinned one.
//
// A test that needs a missing peer FAILS, naming the program and saying to run
// scripts/peers.sh. It is skipped, loudly (on stderr and in the gtest report), only when the
// machine opted out with KARMOR_SKIP_PEERS=1 (no Go) or with KARMOR_TESTS_ALLOW_SKIP=1.
//
//   TEST(Peers, Something) {
//       KARMOR_REQUIRE_PEER(oras, "oras");              // declares std::filesystem::path oras
//       run_command({oras.string(), "version"});
//   }
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

#include "support/process.hpp"

namespace karmor::testing {

// $KARMOR_PEERS_BIN, or $HOME/.cache/karmor-peers/bin.
std::filesystem::path peers_bin_dir();

// The peer `name` (e.g. "oras", "cosign", "cosign-v2", "referrers-registry") if it is an
// executable in peers_bin_dir().
std::optional<std::filesystem::path> find_peer(const std::string& name);

// KARMOR_SKIP_PEERS=1: the machine opted out of the peer tests (they are skipped, loudly,
// whether the programs are there or not, so the run is the same on every such machine).
bool peers_opted_out();

// Why the current test cannot run without `name`; printed on stderr too, so that a skip is
// seen in ctest's log and not only in the gtest report.
std::string peer_missing_message(const std::string& name, bool skipping);

// Declares `std::filesystem::path variable` = the peer `name`, or fails (skips when allowed)
// the current test. Usable in TEST bodies and in void SetUp() functions.
#define KARMOR_REQUIRE_PEER(variable, name)                                                                            \
    std::filesystem::path variable;                                                                                    \
    do {                                                                                                               \
        const bool karmor_skip_peer_ = ::karmor::testing::peers_opted_out() || ::karmor::testing::skipping_allowed();  \
        const auto karmor_found_peer_ = ::karmor::testing::find_peer(name);                                            \
        if (::karmor::testing::peers_opted_out() || !karmor_found_peer_) {                                             \
            if (karmor_skip_peer_) GTEST_SKIP() << ::karmor::testing::peer_missing_message(name, true);                \
            FAIL() << ::karmor::testing::peer_missing_message(name, false);                                            \
        }                                                                                                              \
        variable = *karmor_found_peer_;                                                                                \
    } while (0)

}  // namespace karmor::testing
