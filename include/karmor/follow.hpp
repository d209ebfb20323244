// Keeping a directory equal to what a reference names (SPEC §10): one round of `karmor oci
// follow`, under a lock the caller holds for as long as it follows. The loop (interval, jitter,
// backoff, signals, --exec) belongs to the caller.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "karmor/digest.hpp"
#include "karmor/options.hpp"
#include "karmor/policy.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "karmor/signing.hpp"

namespace karmor {

struct FollowOptions {
    // A KubeArmor artifact's tag, or an image whose newest attached artifact is followed.
    Reference reference;
    // DIR: a symlink that follow points at DIR.versions/<digest hex>/ and replaces with
    // rename(2), so a reader sees the whole old set or the whole new one.
    std::filesystem::path directory;
    // Where the last applied digest is kept; empty: DIR.versions (beside DIR).
    std::filesystem::path state_directory;
    // --semver RANGE: follow the highest tag of the repository in this range (pre-releases only
    // when the range names one); `reference`'s own tag is then not used.
    std::string semver;
    std::optional<SignatureRequirements> verify;  // --verify-key
    LoadOptions load;
    RemoteOptions remote;  // its `cancel` stops a round at a safe point, DIR untouched
    int keep = 1;          // previous versions kept for rollback
};

struct PolicyChanges {
    std::vector<PolicyIdentity> added;
    std::vector<PolicyIdentity> removed;
    std::vector<PolicyIdentity> changed;  // same identity, other content
};

struct FollowRound {
    bool changed = false;  // false: the reference still names what DIR holds
    Digest digest;         // the artifact DIR holds now
    // REPO:TAG@DIGEST: the tag followed (with --semver, the chosen version's; for an image's
    // attachment, the image's tag) and the digest of the artifact DIR holds.
    std::string location;
    PolicyChanges changes;
    std::filesystem::path version_directory;  // what DIR points to
    std::vector<SignatureReport> signatures;  // with verify
};

// The versions directory: DIR.versions beside DIR.
std::filesystem::path follow_versions_directory(const std::filesystem::path& directory);

// One follower per DIR for the whole life of a process (SPEC §10): two would flip DIR between
// their references and remove each other's temporary directories. An flock(2) on
// DIR.versions/.lock (and on STATE_DIR/.lock with --state-dir), so the kernel releases it however
// the holder ends; released when the FollowLock is destroyed.
class FollowLock {
public:
    FollowLock(FollowLock&& other) noexcept;
    FollowLock& operator=(FollowLock&& other) noexcept;
    FollowLock(const FollowLock&) = delete;
    FollowLock& operator=(const FollowLock&) = delete;
    ~FollowLock();

    const std::filesystem::path& versions_directory() const { return versions_; }

private:
    friend Result<FollowLock> lock_follow_directory(const FollowOptions& options);
    FollowLock() = default;
    void release();
    std::filesystem::path versions_;
    std::vector<int> descriptors_;
};

// Takes the lock of `options.directory` without waiting (it creates DIR.versions). When another
// process holds it: an error naming that process (its pid, and the reference it follows).
Result<FollowLock> lock_follow_directory(const FollowOptions& options);

// One round: one manifest HEAD (plus one referrers listing when following an image) when
// nothing changed; otherwise pull by digest, verify, validate and switch DIR. On any error DIR
// and the state are as they were. `lock` is the lock of `options.directory`.
Result<FollowRound> follow_once(const FollowOptions& options, const FollowLock& lock);

}  // namespace karmor
