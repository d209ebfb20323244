// What a pull wrote into a directory, so that a later pull or follow can tell its own files
// (and which of them a person has since edited) from everyone else's (SPEC §10).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/policy.hpp"
#include "karmor/result.hpp"

namespace karmor::follow {

// Hidden, and without a .yaml/.json extension, so that `kubectl apply -f DIR` skips it.
inline constexpr std::string_view pull_state_file_name = ".karmor-pull-state";

struct RecordedFile {
    std::string name;    // a plain file name in the directory
    std::string sha256;  // hex of the content karmor wrote
    PolicyIdentity identity;
    // Written by an earlier pull, not part of the artifact pulled last (kept because the
    // pull did not prune it): still karmor's, so a later --prune may remove it.
    bool leftover = false;
};

struct PullState {
    std::string digest;     // the artifact's manifest digest
    std::string reference;  // REF@DIGEST, for people
    std::vector<RecordedFile> files;
};

std::string sha256_hex(std::string_view bytes);

// The state's entries for `policies` written under `names` (same length, same order): the
// hashes of their `serialized` texts are computed on every core once there are enough of them
// to pay for the threads, since a pull of many policies waits for them after they are read.
std::vector<RecordedFile> recorded_files(const std::vector<Policy>& policies, const std::vector<std::string>& names);

// std::nullopt when the directory has no state file. A state file that cannot be read is an
// error (of kind io) whose hint says to delete it.
Result<std::optional<PullState>> read_pull_state(const std::filesystem::path& directory);
// The state file's text (JSON).
std::string pull_state_json(const PullState& state);
// Atomic: a reader sees the old state or the new one.
Result<void> write_pull_state(const std::filesystem::path& directory, const PullState& state);

// The sha256 hex of the regular file at `path`; std::nullopt when it is missing, not a
// regular file (a symlink is not followed) or unreadable.
std::optional<std::string> file_sha256(const std::filesystem::path& path);

}  // namespace karmor::follow
