// A line diff for `karmor oci diff` (SPEC §11): the longest common subsequence of two texts'
// lines, printed as a unified diff (diff -u) with three lines of context.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karmor::moving {

enum class LineChange { same, removed, added };

struct DiffLine {
    LineChange change;
    std::string text;
};

// Every line of `before` and `after` in order, marked. Texts of more than `max_cells`
// line pairs are compared as wholly replaced (bounded memory and time).
std::vector<DiffLine> diff_lines(std::string_view before, std::string_view after, std::size_t max_cells = 16u << 20);

// The unified diff of two texts with `---`/`+++` headers; empty when they are equal.
std::string unified_diff(std::string_view before, std::string_view after, const std::string& before_name,
                         const std::string& after_name, int context = 3);

}  // namespace karmor::moving
