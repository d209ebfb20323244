// "did you mean" for unknown fields: the closest known name by edit distance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karmor::policy {

// Edit distance (with swaps of neighbours), ignoring ASCII case: `matchpaths` is `matchPaths`.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `unknown` if it is close enough to be a typo (at most a third of
// the name's length, and at most 3 edits); empty otherwise.
std::string closest_name(std::string_view unknown, const std::vector<std::string_view>& candidates);

}  // namespace karmor::policy
