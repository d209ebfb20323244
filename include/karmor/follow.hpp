// Keeping a directory equal to what a reference names (SPEC §10): one round of `karmor oci
// follow`. The loop (interval, jitter, backoff, signals, --exec) belongs to the caller.
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
    std::string location;  // REF@DIGEST
    PolicyChanges changes;
    std::filesystem::path version_directory;  // what DIR points to
    std::vector<SignatureReport> signatures;  // with verify
};

// The versions directory: DIR.versions beside DIR.
std::filesystem::path follow_versions_directory(const std::filesystem::path& directory);

// One round: one manifest HEAD (plus one referrers listing when following an image) when
// nothing changed; otherwise pull by digest, verify, validate and switch DIR. On any error DIR
// and the state are as they were.
Result<FollowRound> follow_once(const FollowOptions& options);

}  // namespace karmor
