// The CRD patterns are matched by hand (policy/schema.cpp): each hand-written matcher must accept
// exactly what the pattern itself accepts, checked here with std::regex over every short string
// of the characters that matter and over the alternatives with things around them.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "policy/schema.hpp"

namespace karmor {
namespace {

using policy::schema::Node;
using policy::schema::StringRule;

// Go RE2 and ECMAScript agree on the CRDs' patterns except for '.', which in Go matches every
// character but '\n' and in ECMAScript also stops at '\r'.
std::string ecmascript_from_re2(const std::string& re2) {
    std::string out;
    bool in_class = false;
    for (std::size_t i = 0; i < re2.size(); ++i) {
        const char c = re2[i];
        if (c == '\\' && i + 1 < re2.size()) {
            out += c;
            out += re2[++i];
        } else if (c == '[') {
            in_class = true;
            out += c;
        } else if (c == ']') {
            in_class = false;
            out += c;
        } else if (c == '.' && !in_class) {
            out += "[^\\n]";
        } else {
            out += c;
        }
    }
    return out;
}

void collect(const Node& node, std::set<const StringRule*>& rules) {
    if (node.string_rule && !node.string_rule->crd_pattern().empty()) rules.insert(node.string_rule);
    for (const auto& property : node.properties) collect(*property.schema, rules);
    if (node.items) collect(*node.items, rules);
    if (node.additional_properties) collect(*node.additional_properties, rules);
}

std::vector<std::string> short_strings(const std::string& alphabet, std::size_t longest) {
    std::vector<std::string> out{""};
    std::size_t from = 0;
    for (std::size_t length = 1; length <= longest; ++length) {
        const auto to = out.size();
        for (std::size_t i = from; i < to; ++i)
            for (char c : alphabet) out.push_back(out[i] + c);
        from = to;
    }
    return out;
}

TEST(StringRules, HandWrittenMatchersAgreeWithTheCrdPatterns) {
    std::set<const StringRule*> rules;
    for (const char* kind :
         {"KubeArmorPolicy", "KubeArmorHostPolicy", "KubeArmorClusterPolicy", "KubeArmorNetworkPolicy"})
        collect(*policy::schema::document_schema(kind), rules);
    ASSERT_EQ(rules.size(), 7u) << "file path, directory, file or directory, program name, capability, protocol, "
                                   "bandwidth";
    auto texts = short_strings("/a\n\r.KB1_", 5);
    for (const auto* word : {"net_raw", "tcp", "TCP", "all", "sys_admin", "500MB", "12G", "7", "KB"}) {
        const std::string w = word;
        for (const auto* around : {"", "x", "cap_", "/", "\n", " ", "_"}) {
            texts.push_back(around + w);
            texts.push_back(w + around);
            texts.push_back(around + w + around);
        }
        texts.push_back(w.substr(1));
        texts.push_back(w.substr(0, w.size() - 1));
    }
    texts.push_back("/etc/ssh/");
    texts.push_back("/usr/bin/tool-00000001");
    texts.push_back("/a\xC3\xA9");
    std::size_t compared = 0;
    for (const auto* rule : rules) {
        SCOPED_TRACE(rule->crd_pattern());
        const std::regex pattern(ecmascript_from_re2(rule->crd_pattern()), std::regex::ECMAScript);
        std::size_t accepted = 0;
        for (const auto& text : texts) {
            const bool expected = std::regex_search(text, pattern);
            EXPECT_EQ(rule->accepts(text), expected) << "\"" << text << "\"";
            accepted += expected ? 1 : 0;
            ++compared;
        }
        EXPECT_GT(accepted, 0u) << "the strings must exercise both answers";
    }
    EXPECT_GT(compared, 100'000u);
}

}  // namespace
}  // namespace karmor
