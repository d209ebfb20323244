// One follower per directory for the whole life of a process: an flock(2) on a lock file, which
// the kernel releases however the holder ends (a killed follower's lock is free again), and a
// record in that file of who holds it, so that the next one can name the holder.
#pragma once

#include <filesystem>
#include <string>

#include "karmor/result.hpp"

namespace karmor::follow {

struct LockHolder {
    long pid = 0;
    std::string host;
    std::string reference;  // what the holder follows, as it was given
    std::string semver;     // its --semver range, if any
};

inline constexpr const char* lock_file_name = ".lock";

// Takes `directory`/.lock without waiting and records `holder` in it. Returns the open
// descriptor that holds the lock (close it to release). When another process holds the lock,
// an error naming `followed` and the holder as it recorded itself.
Result<int> take_lock(const std::filesystem::path& directory, const LockHolder& holder,
                      const std::filesystem::path& followed);

// This process as a holder: its pid and host name.
LockHolder this_process_as_holder();

}  // namespace karmor::follow
