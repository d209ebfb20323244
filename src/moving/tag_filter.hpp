// Which tags people want to see (SPEC §11 `tags`): not the bookkeeping tags that clients write
// next to artifacts — the referrers fallback tag `sha256-<hex>` (image-spec "Referrers Tag
// Schema") and cosign's `sha256-<hex>.sig`, `.att`, `.sbom` — and, with --semver, the
// versions in a range.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "moving/semver.hpp"

namespace karmor::moving {

// `<alg>-<64 hex>` for sha256/sha512, optionally with `.sig`, `.att` or `.sbom`.
bool is_bookkeeping_tag(std::string_view tag);

// The tags that are versions in `range`, lowest version first (ties in tag order); the others
// are dropped.
std::vector<std::string> select_versions(const std::vector<std::string>& tags, const Range& range);

}  // namespace karmor::moving
