// Finding and recording referrers of an image on a target (SPEC §6): the target's own index
// (referrers API, image layout) first, else the fallback tag of the referrers tag schema.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/result.hpp"
#include "oci/target.hpp"

namespace karmor::ops {

struct ReferrersListing {
    std::vector<Descriptor> referrers;  // newest first
    std::string source;                 // "the referrers API", "the fallback tag sha256-…", …
    bool target_indexes = false;        // from the target's own index, not the fallback tag
    // The fallback tag as it was read (empty inside when the tag did not exist); only when
    // the listing came from it. add_to_fallback_tag starts from it instead of reading again.
    std::optional<std::optional<oci::FetchedManifest>> fallback_index;
};

// The referrers of `subject` of type `artifact_type`, newest first.
Result<ReferrersListing> find_referrers(oci::Target& target, const Digest& subject, const std::string& artifact_type);

// Adds `referrer` to the fallback tag's index of `subject` and returns the tag. Other
// writers are not lost: the index is re-read right before it is written and read back
// after, and the merge is redone (a bounded number of times) when it changed in between.
// `listing`, from find_referrers on the same subject, saves the first read of the tag; a change
// since then is caught by the re-read before the write.
Result<std::string> add_to_fallback_tag(oci::Target& target, const Digest& subject, const Descriptor& referrer,
                                        const ReferrersListing* listing = nullptr);

}  // namespace karmor::ops
