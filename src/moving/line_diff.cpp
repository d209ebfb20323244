#include "moving/line_diff.hpp"

#include <algorithm>
#include <cstdint>

namespace karmor::moving {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

}  // namespace

std::vector<DiffLine> diff_lines(std::string_view before, std::string_view after, std::size_t max_cells) {
    const auto a = split_lines(before);
    const auto b = split_lines(after);
    // Lines shared at both ends need no table.
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    const std::size_t n = a.size() - prefix - suffix;
    const std::size_t m = b.size() - prefix - suffix;

    std::vector<DiffLine> out;
    for (std::size_t i = 0; i < prefix; ++i) out.push_back({LineChange::same, std::string(a[i])});
    if ((n + 1) * (m + 1) > max_cells) {
        for (std::size_t i = 0; i < n; ++i) out.push_back({LineChange::removed, std::string(a[prefix + i])});
        for (std::size_t j = 0; j < m; ++j) out.push_back({LineChange::added, std::string(b[prefix + j])});
    } else {
        // lcs[i][j]: length of the LCS of a[i..n) and b[j..m) (of the middle parts).
        std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
        const auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
        for (std::size_t i = n; i-- > 0;)
            for (std::size_t j = m; j-- > 0;)
                at(i, j) = a[prefix + i] == b[prefix + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
        std::size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
                out.push_back({LineChange::same, std::string(a[prefix + i])});
                ++i;
                ++j;
            } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
                // On a tie the removal goes first, as diff -u prints a change.
                out.push_back({LineChange::removed, std::string(a[prefix + i])});
                ++i;
            } else {
                out.push_back({LineChange::added, std::string(b[prefix + j])});
                ++j;
            }
        }
    }
    for (std::size_t k = a.size() - suffix; k < a.size(); ++k) out.push_back({LineChange::same, std::string(a[k])});
    return out;
}

std::string unified_diff(std::string_view before, std::string_view after, const std::string& before_name,
                         const std::string& after_name, int context) {
    const auto lines = diff_lines(before, after);
    const auto width = static_cast<std::size_t>(std::max(context, 0));
    std::vector<std::size_t> changed;
    for (std::size_t k = 0; k < lines.size(); ++k)
        if (lines[k].change != LineChange::same) changed.push_back(k);
    if (changed.empty()) return {};

    std::string out = "--- " + before_name + "\n+++ " + after_name + "\n";
    std::size_t next = 0;
    while (next < changed.size()) {
        // A hunk: changes closer than 2 × context lines apart share one.
        const std::size_t first = changed[next] >= width ? changed[next] - width : 0;
        std::size_t last_change = changed[next];
        while (next + 1 < changed.size() && changed[next + 1] - last_change <= 2 * width) last_change = changed[++next];
        ++next;
        const std::size_t end = std::min(lines.size(), last_change + width + 1);
        // Line numbers where the hunk starts on each side.
        std::size_t old_line = 1, new_line = 1;
        for (std::size_t k = 0; k < first; ++k) {
            if (lines[k].change != LineChange::added) ++old_line;
            if (lines[k].change != LineChange::removed) ++new_line;
        }
        std::size_t old_count = 0, new_count = 0;
        std::string body;
        for (std::size_t k = first; k < end; ++k) {
            const auto& l = lines[k];
            if (l.change != LineChange::added) ++old_count;
            if (l.change != LineChange::removed) ++new_count;
            body += (l.change == LineChange::same ? " " : l.change == LineChange::removed ? "-" : "+") + l.text + "\n";
        }
        // diff -u numbers an empty side by the line before it.
        const auto range = [](std::size_t start, std::size_t count) {
            std::string text = std::to_string(count == 0 ? start - 1 : start);
            if (count != 1) {  // appended, not "," + std::string: GCC 12 -O3 warns falsely (-Wrestrict)
                text += ',';
                text += std::to_string(count);
            }
            return text;
        };
        out += "@@ -" + range(old_line, old_count) + " +" + range(new_line, new_count) + " @@\n" + body;
    }
    return out;
}

}  // namespace karmor::moving
