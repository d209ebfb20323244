#include <gtest/gtest.h>

#include "moving/line_diff.hpp"

namespace karmor::moving {
namespace {

std::string marks(const std::vector<DiffLine>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += (l.change == LineChange::same ? " " : l.change == LineChange::removed ? "-" : "+") + l.text + "|";
    return out;
}

TEST(LineDiff, MarksTheLongestCommonSubsequence) {
    struct Case {
        const char* before;
        const char* after;
        const char* expected;
    };
    const Case cases[] = {
        {"a\nb\nc\n", "a\nb\nc\n", " a| b| c|"},
        {"", "", ""},
        {"", "a\n", "+a|"},
        {"a\n", "", "-a|"},
        {"a\nb\nc\n", "a\nx\nc\n", " a|-b|+x| c|"},
        {"a\nb\nc\nd\n", "a\nc\nd\ne\n", " a|-b| c| d|+e|"},
        {"x\na\nb\n", "a\nb\ny\n", "-x| a| b|+y|"},
        {"a\nb\n", "b\na\n", "-a| b|+a|"},
        {"a\nb", "a\nb\n", " a| b|"},  // a missing final newline does not count
    };
    for (const auto& c : cases)
        EXPECT_EQ(marks(diff_lines(c.before, c.after)), c.expected) << c.before << "→" << c.after;
}

TEST(LineDiff, LargeInputsDegradeToReplacement) {
    const auto lines = diff_lines("a\nb\nc\n", "a\nx\nc\n", 1);
    EXPECT_EQ(marks(lines), " a|-b|+x| c|");  // the common ends still count
    const auto whole = diff_lines("b\nq\n", "x\ny\n", 1);
    EXPECT_EQ(marks(whole), "-b|-q|+x|+y|");
}

TEST(LineDiff, UnifiedHunksWithContext) {
    std::string before, after;
    for (int i = 1; i <= 20; ++i) {
        before += "line" + std::to_string(i) + "\n";
        after += (i == 5    ? std::string("changed5")
                  : i == 16 ? std::string("changed16")
                            : "line" + std::to_string(i)) +
                 "\n";
    }
    const auto diff = unified_diff(before, after, "a/p", "b/p");
    EXPECT_EQ(diff, "--- a/p\n+++ b/p\n"
                    "@@ -2,7 +2,7 @@\n line2\n line3\n line4\n-line5\n+changed5\n line6\n line7\n line8\n"
                    "@@ -13,7 +13,7 @@\n line13\n line14\n line15\n-line16\n+changed16\n line17\n line18\n line19\n");
    EXPECT_EQ(unified_diff(before, before, "a", "b"), "");
    EXPECT_EQ(unified_diff("", "x\n", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
    // Changes closer than twice the context share a hunk.
    EXPECT_EQ(unified_diff("1\n2\n3\n4\n5\n", "1\nX\n3\nY\n5\n", "a", "b"),
              "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n-4\n+Y\n 5\n");
}

}  // namespace
}  // namespace karmor::moving
