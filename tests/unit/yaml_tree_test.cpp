// The YAML front end (policy/yaml_tree): libyaml events to nodes, one document at a time.
#include <gtest/gtest.h>

#include <regex>

#include "karmor/policy.hpp"
#include "policy/yaml_document.hpp"
#include "policy/yaml_tree.hpp"

namespace karmor {
namespace {

using policy::YamlDocumentReader;
using policy::YamlNode;

TEST(YamlTree, DocumentsScalarsAndPositions) {
    YamlDocumentReader reader("a: 1\nb: 'quoted'\nc:\n  - x\n  - ~\n---\n- !!str 5\n- !!int '7'\n");
    const auto* first = reader.next();
    ASSERT_NE(first, nullptr);
    ASSERT_TRUE(first->is_mapping());
    ASSERT_EQ(first->entries.size(), 3u);
    EXPECT_TRUE(first->find("a")->resolvable);
    EXPECT_FALSE(first->find("b")->resolvable);
    const auto* c = first->find("c");
    ASSERT_TRUE(c && c->is_sequence());
    EXPECT_EQ(c->items[0]->text, "x");
    EXPECT_EQ(c->items[0]->line, 4);
    EXPECT_EQ(c->items[0]->column, 5);
    EXPECT_TRUE(c->items[1]->is_null());
    EXPECT_EQ(first->find("missing"), nullptr);

    const auto* second = reader.next();
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(policy::scalar_value(*second->items[0]), nlohmann::ordered_json("5"));
    EXPECT_EQ(policy::scalar_value(*second->items[1]), nlohmann::ordered_json(7));
    EXPECT_EQ(reader.next(), nullptr);
    EXPECT_FALSE(reader.error());
}

// yaml-cpp 0.7 decoded \N and \_ to the bare bytes 0x85 and 0xA0, which are not UTF-8, and
// serializing them crashed (found by fuzz/policy_fuzz). libyaml encodes them properly.
TEST(YamlTree, EscapesDecodeToUtf8) {
    YamlDocumentReader reader(R"(["\N", "\_", "\L\P", "\x41\u00e9\U0001F642"])");
    const auto* root = reader.next();
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root->items[0]->text, "\xC2\x85");
    EXPECT_EQ(root->items[1]->text, "\xC2\xA0");
    EXPECT_EQ(root->items[2]->text, "\xE2\x80\xA8\xE2\x80\xA9");
    EXPECT_EQ(root->items[3]->text, "A\xC3\xA9\xF0\x9F\x99\x82");

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
TEST(YamlTree, SerializedTextReadsBackTheSameWithLineBreakCharacters) {
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

TEST(YamlTree, AliasesShareTheAnchoredNode) {
    YamlDocumentReader reader("base: &b {x: 1}\ncopy: *b\n");
    const auto* root = reader.next();
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root->find("base"), root->find("copy"));
}

TEST(YamlTree, BadAliasesAreErrorsWithAPosition) {
    {
        YamlDocumentReader reader("a: 1\nb: *nowhere\n");
        EXPECT_EQ(reader.next(), nullptr);
        ASSERT_TRUE(reader.error());
        EXPECT_NE(reader.error()->message.find("unknown alias *nowhere"), std::string::npos);
        EXPECT_EQ(reader.error()->line, 2);
        EXPECT_EQ(reader.error()->column, 4);
    }
    {
        YamlDocumentReader reader("a: &loop [1, *loop]\n");
        EXPECT_EQ(reader.next(), nullptr);
        ASSERT_TRUE(reader.error());
        EXPECT_NE(reader.error()->message.find("contains it"), std::string::npos) << reader.error()->message;
    }
    {  // anchors do not cross documents
        YamlDocumentReader reader("a: &x 1\n---\nb: *x\n");
        EXPECT_NE(reader.next(), nullptr);
        EXPECT_EQ(reader.next(), nullptr);
        EXPECT_TRUE(reader.error());
    }
}

TEST(YamlTree, DeepNestingIsAnErrorNotAStackOverflow) {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    YamlDocumentReader reader(deep);
    EXPECT_EQ(reader.next(), nullptr);
    ASSERT_TRUE(reader.error());
    EXPECT_NE(reader.error()->message.find("nests deeper than"), std::string::npos);
}

TEST(YamlTree, SyntaxErrorsSayWhatAndWhere) {
    YamlDocumentReader reader("a: 1\nb: [unclosed\nc: 3\n");
    EXPECT_EQ(reader.next(), nullptr);
    ASSERT_TRUE(reader.error());
    EXPECT_GT(reader.error()->line, 1);
    EXPECT_FALSE(reader.error()->message.empty());
    EXPECT_EQ(reader.next(), nullptr) << "the reader stays finished after an error";
}

TEST(YamlTree, EmptyStreamsAndEmptyDocuments) {
    {
        YamlDocumentReader reader("# only a comment\n");
        EXPECT_EQ(reader.next(), nullptr);
        EXPECT_FALSE(reader.error());
    }
    {
        YamlDocumentReader reader("---\n---\na: 1\n");
        const auto* first = reader.next();
        ASSERT_NE(first, nullptr);
        EXPECT_TRUE(first->is_null());
        const auto* second = reader.next();
        ASSERT_NE(second, nullptr);
        EXPECT_TRUE(second->is_mapping());
    }
}

// The number syntax is matched by hand (std::regex was a tenth of the push time); the YAML
// 1.1 patterns it implements serve as the oracle, on every string of up to four characters
// over the characters that matter.
TEST(YamlTree, NumberSyntaxAgreesWithTheYaml11Patterns) {
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
