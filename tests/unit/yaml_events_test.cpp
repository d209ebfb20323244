// The YAML front end (policy/yaml_events): libyaml's events to nodes given one by one, one
// document at a time, aliases replayed.
#include <gtest/gtest.h>

#include <regex>

#include "karmor/policy.hpp"
#include "policy/scalars.hpp"
#include "policy/yaml_events.hpp"

namespace karmor {
namespace {

using policy::YamlCollection;
using policy::YamlEventReader;
using policy::YamlScalar;

// Writes what it is given as one line: `{` and `[` open, `}` and `]` close, a plain scalar as
// it is, any other (quoted, !!str) in '', a null as ~. Keeps every node's position.
class TraceSink final : public policy::YamlNodeSink {
public:
    std::string trace;
    std::vector<std::pair<int, int>> positions;  // in the order of the trace's nodes
    std::vector<nlohmann::ordered_json> values;  // of the scalars
    bool decline_sequences = false;

    void scalar(const YamlScalar& s) override {
        add(s.null ? "~" : s.resolvable ? std::string(s.text) : "'" + std::string(s.text) + "'", s.line, s.column);
        values.push_back(policy::scalar_value(s));
    }
    bool begin(const YamlCollection& c) override {
        if (!c.mapping && decline_sequences) {
            add("[declined]", c.line, c.column);
            return false;
        }
        closers_.push_back(c.mapping ? "}" : "]");
        add(c.mapping ? "{" : "[", c.line, c.column);
        return true;
    }
    void end() override {
        trace += " " + closers_.back();
        closers_.pop_back();
    }

private:
    void add(const std::string& text, int line, int column) {
        trace += (trace.empty() ? "" : " ") + text;
        positions.emplace_back(line, column);
    }
    std::vector<std::string> closers_;
};

// The trace of each document of `text`, and the error that ended it ("" for none).
std::vector<std::string> documents(std::string_view text, std::string* error = nullptr) {
    YamlEventReader reader(text);
    std::vector<std::string> out;
    for (;;) {
        TraceSink sink;
        if (!reader.next(sink)) break;
        out.push_back(sink.trace);
    }
    if (error) *error = reader.error() ? reader.error()->message : "";
    return out;
}

TEST(YamlEvents, DocumentsScalarsAndPositions) {
    YamlEventReader reader("a: 1\nb: 'quoted'\nc:\n  - x\n  - ~\n---\n- !!str 5\n- !!int '7'\n");
    TraceSink first;
    ASSERT_TRUE(reader.next(first));
    EXPECT_EQ(first.trace, "{ a 1 b 'quoted' c [ x ~ ] }");
    ASSERT_EQ(first.positions.size(), 9u);
    EXPECT_EQ(first.positions[0], std::make_pair(1, 1));  // the mapping
    EXPECT_EQ(first.positions[7], std::make_pair(4, 5));  // x
    EXPECT_EQ(first.positions[8], std::make_pair(5, 5));  // ~

    TraceSink second;
    ASSERT_TRUE(reader.next(second));
    EXPECT_EQ(second.trace, "[ '5' 7 ]");
    ASSERT_EQ(second.values.size(), 2u);
    EXPECT_EQ(second.values[0], nlohmann::ordered_json("5"));
    EXPECT_EQ(second.values[1], nlohmann::ordered_json(7));
    TraceSink none;
    EXPECT_FALSE(reader.next(none));
    EXPECT_FALSE(reader.error());
    EXPECT_EQ(none.trace, "");
}

// yaml-cpp 0.7 decoded \N and \_ to the bare bytes 0x85 and 0xA0, which are not UTF-8, and
// serializing them crashed (found by fuzz/policy_fuzz). libyaml encodes them properly.
TEST(YamlEvents, EscapesDecodeToUtf8) {
    YamlEventReader reader(R"(["\N", "\_", "\L\P", "\x41\u00e9\U0001F642"])");
    TraceSink sink;
    ASSERT_TRUE(reader.next(sink));
    ASSERT_EQ(sink.values.size(), 4u);
    EXPECT_EQ(sink.values[0], "\xC2\x85");
    EXPECT_EQ(sink.values[1], "\xC2\xA0");
    EXPECT_EQ(sink.values[2], "\xE2\x80\xA8\xE2\x80\xA9");
    EXPECT_EQ(sink.values[3], "A\xC3\xA9\xF0\x9F\x99\x82");

    std::vector<Diagnostic> problems;
    const auto policies = parse_policy_text(
        "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {name: p}\n"
        "spec:\n  selector: {matchLabels: {app: \"a\\N\"}}\n  process: {matchPaths: [{path: /bin/sh}]}\n"
        "  action: Block\n",
        "escape.yaml", {}, problems);
    ASSERT_EQ(policies.size(), 1u) << (problems.empty() ? "" : problems[0].str());
    EXPECT_NO_THROW((void)serialize_policy(policies[0], PolicyFormat::yaml));
    EXPECT_NO_THROW((void)serialize_policy(policies[0], PolicyFormat::json));
}

// Characters a YAML reader folds (NEL, LS, PS) or refuses (DEL, C1 controls, U+FEFF) inside a
// quoted scalar are written as escapes, so what push stores reads back the same (found by
// fuzz/policy_fuzz once \N decoded properly).
TEST(YamlEvents, SerializedTextReadsBackTheSameWithLineBreakCharacters) {
    std::vector<Diagnostic> problems;
    const auto policies =
        parse_policy_text("apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {name: p}\n"
                          "spec:\n  selector: {matchLabels: {app: \"a\\N\\L\\P\\x7f\\x80\\uFEFF\\_b\\u00e9\"}}\n"
                          "  process: {matchPaths: [{path: /bin/sh}]}\n  action: Block\n",
                          "breaks.yaml", {}, problems);
    ASSERT_EQ(policies.size(), 1u) << (problems.empty() ? "" : problems[0].str());
    EXPECT_EQ(policies[0].document["spec"]["selector"]["matchLabels"]["app"],
              "a\xC2\x85\xE2\x80\xA8\xE2\x80\xA9\x7F\xC2\x80\xEF\xBB\xBF\xC2\xA0"
              "b\xC3\xA9");
    for (const auto format : {PolicyFormat::yaml, PolicyFormat::json}) {
        const auto text = serialize_policy(policies[0], format);
        std::vector<Diagnostic> again_problems;
        const auto again = parse_policy_text(text, "again", {}, again_problems);
        ASSERT_EQ(again.size(), 1u) << text << (again_problems.empty() ? "" : again_problems[0].str());
        EXPECT_EQ(again[0].document, policies[0].document) << text;
    }
}

// An alias gives the anchored node again, at the anchored node's position; aliases inside
// anchored nodes are replayed too.
TEST(YamlEvents, AliasesReplayTheAnchoredNode) {
    EXPECT_EQ(documents("base: &b {x: 1}\ncopy: *b\n"), std::vector<std::string>{"{ base { x 1 } copy { x 1 } }"});
    EXPECT_EQ(documents("a: &s 5\nb: [*s, &l [*s, 'q']]\nc: *l\n"),
              std::vector<std::string>{"{ a 5 b [ 5 [ 5 'q' ] ] c [ 5 'q' ] }"});

    YamlEventReader reader("base: &b {x: 1}\ncopy: *b\n");
    TraceSink sink;
    ASSERT_TRUE(reader.next(sink));
    ASSERT_EQ(sink.positions.size(), 9u);
    EXPECT_EQ(sink.positions[2], sink.positions[6]);  // the mapping and its replay
    EXPECT_EQ(sink.positions[4], sink.positions[8]);  // 1 and its replay
    EXPECT_EQ(sink.positions[4], std::make_pair(1, 14));
}

// A collection the sink declines is neither given nor ended, nor are its aliases replayed into it.
TEST(YamlEvents, ADeclinedCollectionGivesNoChildrenAndNoEnd) {
    YamlEventReader reader("s: &l [1, [2, 3]]\nm: {k: [4]}\nr: *l\nv: 5\n");
    TraceSink sink;
    sink.decline_sequences = true;
    ASSERT_TRUE(reader.next(sink));
    EXPECT_EQ(sink.trace, "{ s [declined] m { k [declined] } r [declined] v 5 }");
}

TEST(YamlEvents, BadAliasesAreErrorsWithAPosition) {
    {
        YamlEventReader reader("a: 1\nb: *nowhere\n");
        TraceSink sink;
        EXPECT_FALSE(reader.next(sink));
        ASSERT_TRUE(reader.error());
        EXPECT_NE(reader.error()->message.find("unknown alias *nowhere"), std::string::npos);
        EXPECT_EQ(reader.error()->line, 2);
        EXPECT_EQ(reader.error()->column, 4);
    }
    {
        std::string error;
        documents("a: &loop [1, *loop]\n", &error);
        EXPECT_NE(error.find("contains it"), std::string::npos) << error;
    }
    {  // anchors do not cross documents
        std::string error;
        EXPECT_EQ(documents("a: &x 1\n---\nb: *x\n", &error).size(), 1u);
        EXPECT_NE(error.find("unknown alias *x"), std::string::npos) << error;
    }
}

TEST(YamlEvents, DeepNestingIsAnErrorNotAStackOverflow) {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    std::string error;
    EXPECT_TRUE(documents(deep, &error).empty());
    EXPECT_NE(error.find("nests deeper than 1000"), std::string::npos) << error;

    YamlEventReader shallow("a: {b: {c: 1}}\n", 2);
    TraceSink sink;
    EXPECT_FALSE(shallow.next(sink));
    ASSERT_TRUE(shallow.error());
    EXPECT_NE(shallow.error()->message.find("nests deeper than 2 levels (raise --max-depth)"), std::string::npos);
    EXPECT_EQ(shallow.error()->line, 1);
    EXPECT_EQ(shallow.error()->column, 8);
}

TEST(YamlEvents, SyntaxErrorsSayWhatAndWhere) {
    YamlEventReader reader("a: 1\nb: [unclosed\nc: 3\n");
    TraceSink sink;
    EXPECT_FALSE(reader.next(sink));
    ASSERT_TRUE(reader.error());
    EXPECT_GT(reader.error()->line, 1);
    EXPECT_FALSE(reader.error()->message.empty());
    EXPECT_FALSE(reader.next(sink)) << "the reader stays finished after an error";
}

TEST(YamlEvents, CancelEndsTheStream) {
    std::atomic<bool> cancel{true};
    YamlEventReader reader("a: 1\n", policy::max_nesting_depth, &cancel);
    TraceSink sink;
    EXPECT_FALSE(reader.next(sink));
    ASSERT_TRUE(reader.error());
    EXPECT_EQ(reader.error()->message, "interrupted");
}

TEST(YamlEvents, EmptyStreamsAndEmptyDocuments) {
    std::string error;
    EXPECT_TRUE(documents("# only a comment\n", &error).empty());
    EXPECT_EQ(error, "");
    EXPECT_EQ(documents("---\n---\na: 1\n"), (std::vector<std::string>{"~", "{ a 1 }"}));
}

// The number syntax is matched by hand (std::regex was a tenth of the push time); the YAML
// 1.1 patterns it implements serve as the oracle, on every string of up to four characters
// over the characters that matter.
TEST(YamlEvents, NumberSyntaxAgreesWithTheYaml11Patterns) {
    const std::regex integer(R"([-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[1-9][0-9_]*|0))");
    const std::regex floating(R"([-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?)");
    const std::string alphabet = "0179abxoeE_.-+";
    std::vector<std::string> texts{""};
    for (std::size_t length = 1; length <= 4; ++length) {
        std::vector<std::string> longer;
        for (const auto& t : texts)
            if (t.size() == length - 1)
                for (char c : alphabet) longer.push_back(t + c);
        texts.insert(texts.end(), longer.begin(), longer.end());
    }
    std::size_t numbers = 0;
    for (const auto& text : texts) {
        if (text.empty()) continue;
        const auto value = policy::resolve_plain_scalar(text);
        const bool int_syntax = std::regex_match(text, integer);
        const bool float_syntax = std::regex_match(text, floating);
        SCOPED_TRACE(text);
        std::string body = text;
        if (body[0] == '-' || body[0] == '+') body.erase(0, 1);
        const bool prefixed = body.rfind("0b", 0) == 0 || body.rfind("0x", 0) == 0 || body.rfind("0o", 0) == 0;
        if (int_syntax && body.find_first_not_of('_', prefixed ? 2 : 0) != std::string::npos) {
            EXPECT_TRUE(value.is_number_integer());
        }
        // A text of integer syntax whose digits do not parse in its base ("0b_") falls back to
        // the float rule, like any other text.
        if (value.is_number_integer()) {
            EXPECT_TRUE(int_syntax);
            ++numbers;
        } else if (value.is_number_float()) {
            EXPECT_TRUE(float_syntax);
            ++numbers;
        } else {
            EXPECT_FALSE(float_syntax);
        }
    }
    EXPECT_GT(numbers, 1000u);
}

}  // namespace
}  // namespace karmor
