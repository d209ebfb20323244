// follow's directory: DIR is a symlink to one complete version directory; switching is one
// rename(2) of a new symlink over DIR, and the last applied digest is kept in a state file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::follow {

struct FollowState {
    std::string reference;
    std::string resolved;  // what the reference's HEAD answered when it was last applied
    std::string applied;   // the artifact's digest DIR points to
    // Digest hexes applied, newest first: which version directories to keep.
    std::vector<std::string> history;
};

inline constexpr const char* follow_state_file_name = "follow-state.json";

Result<std::optional<FollowState>> read_follow_state(const std::filesystem::path& state_directory);
Result<void> write_follow_state(const std::filesystem::path& state_directory, const FollowState& state);

// The version directory DIR points to now; std::nullopt when DIR does not exist. DIR may be an
// empty directory (removed: there is nothing a reader could lose) or a symlink to a version in
// `versions` (DIR.versions/<digest hex>, as follow makes it, or as a rollback by hand does,
// relative or absolute; the version may be gone). Anything else is the user's and an error: a
// directory with files, a file, a symlink elsewhere (to a directory of files, dangling, to an
// empty directory).
Result<std::optional<std::filesystem::path>> current_version(const std::filesystem::path& directory,
                                                             const std::filesystem::path& versions);

// Points DIR at `version` (a directory beside DIR, referred to relatively so the tree can be
// moved or mounted elsewhere): a temporary symlink renamed over DIR, then the parent synced.
Result<void> switch_to(const std::filesystem::path& directory, const std::filesystem::path& version);

// Removes version directories (and temporary ones left by an interrupted round) in `versions`
// other than the first `keep + 1` of `history` and `current`.
void remove_old_versions(const std::filesystem::path& versions, const std::vector<std::string>& history, int keep,
                         const std::filesystem::path& current);

}  // namespace karmor::follow
