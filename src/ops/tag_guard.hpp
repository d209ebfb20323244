// The one rule for every command that moves a tag (push, tag, copy, load; SPEC §6, issue 22):
// a tag that holds something other than KubeArmor policies (an image, an index, a chart, a
// signature) is replaced only with --force, and the refusal names the tag and what it holds.
#pragma once

#include <optional>
#include <string>

#include "karmor/digest.hpp"
#include "karmor/result.hpp"
#include "oci/target.hpp"

namespace karmor::ops {

// `current` is what the tag holds now. A usage error unless it is a KubeArmor artifact or
// `force`; `hint` says what to do instead (each command has its own way out).
Result<void> allow_tag_replacement(const oci::Target& target, const std::string& tag,
                                   const oci::FetchedManifest& current, bool force, const std::string& hint);

// What moving a tag to a digest would do.
struct TagMove {
    bool unchanged = false;          // the tag already holds the digest: nothing to send
    std::optional<Digest> replaced;  // the digest it held before, when it held another
};

// The same rule for a tag about to hold `digest`, reading what it holds first (a HEAD, and
// the manifest only when it holds another digest and `force` is not given).
Result<TagMove> check_tag_move(oci::Target& target, const std::string& tag, const Digest& digest, bool force);

}  // namespace karmor::ops
