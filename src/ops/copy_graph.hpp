// Copying a manifest and everything it holds from one target to another (SPEC §11): blobs
// that the destination has are skipped, blobs of the same registry are mounted, an index's
// children come along, and with `recursive` so do its referrers (referrers API or fallback
// tag at the source; the fallback tag is maintained at a destination without the API) and
// cosign's `sha256-<hex>.sig/.att/.sbom` tags. Manifest bytes travel unchanged, so digests
// stay the same. Shared by copy, save and load.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "karmor/moving.hpp"
#include "oci/target.hpp"

namespace karmor::ops {

// Blobs are held in memory while they move; larger ones are refused.
inline constexpr std::uint64_t max_copied_blob_bytes = 1ull << 30;

class CopyGraph {
public:
    // `force`: a destination tag that holds something other than KubeArmor policies may be
    // moved (ops/tag_guard.hpp); otherwise copy() refuses before it writes anything.
    CopyGraph(oci::Target& source, oci::Target& destination, bool recursive, bool force = false)
        : source_(source), destination_(destination), recursive_(recursive), force_(force) {}

    // Copies what `reference` (a tag or digest) names at the source, and tags it `tag` at the
    // destination (untagged when `tag` is empty). Returns the manifest's descriptor.
    Result<Descriptor> copy(const std::string& reference, const std::string& tag);

    const CopyStats& stats() const { return stats_; }
    // The tags copy() moved away from another digest, and that digest.
    const std::map<std::string, Digest>& replaced() const { return replaced_; }

private:
    struct Copied {
        Descriptor descriptor;
        Manifest manifest;
    };
    // `follow` false: no referrers, no cosign tags (for the manifests those lead to, so that
    // signature tags of signature tags are not hunted for).
    // `guard`: `tag` is the user's, moved only as ops/tag_guard.hpp allows (cosign's tags are not).
    Result<std::optional<Copied>> copy_manifest(const std::string& reference, const std::string& tag, bool follow,
                                                bool guard = false);
    Result<void> copy_blob(const Descriptor& blob);
    Result<void> copy_referrers(const Copied& subject);
    Result<void> copy_cosign_tags(const Digest& subject);
    Result<bool> destination_indexes_referrers(const Digest& subject);

    oci::Target& source_;
    oci::Target& destination_;
    bool recursive_;
    bool force_;
    std::set<Digest> copied_;
    std::map<std::string, Digest> replaced_;
    std::set<Digest> blobs_done_;
    std::optional<bool> destination_indexes_;
    CopyStats stats_;
};

}  // namespace karmor::ops
