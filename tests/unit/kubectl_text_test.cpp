// Issue 22, fidelity with the API server: files are read as `kubectl apply -f` reads them
// (k8s.io/apimachinery's YAMLReader splits them into documents before go-yaml reads each one).
// What kubectl v1.37's splitter and go-yaml did with each case was checked with
// k8s.io/apimachinery v0.37.2's NewYAMLOrJSONDecoder.
#include <gtest/gtest.h>

#include "karmor/policy.hpp"
#include "policy/kubectl_text.hpp"

namespace karmor {
namespace {

const std::string bom = "\xEF\xBB\xBF";
const std::string policy_text =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\nspec:\n  action: Block\n";

std::vector<Policy> parse(const std::string& text, std::vector<Diagnostic>& problems, LoadOptions options = {}) {
    return parse_policy_text(text, "f.yaml", options, problems);
}

std::string all(const std::vector<Diagnostic>& problems) {
    std::string out;
    for (const auto& p : problems) out += p.str() + "\n";
    return out;
}

TEST(KubectlText, ByteOrderMarkAtTheStartOfTheFileIsAccepted) {
    std::vector<Diagnostic> problems;
    const auto policies = parse(bom + policy_text, problems);
    ASSERT_TRUE(problems.empty()) << all(problems);
    ASSERT_EQ(policies.size(), 1u);
    EXPECT_EQ(policies[0].origin.line, 1);
    EXPECT_EQ(policies[0].origin.column, 1) << "positions count from after the mark, as go-yaml's do";

    // Problems keep the positions they have without the mark.
    problems.clear();
    parse(bom +
              "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {name: p}\nspec: {action: x}\n",
          problems);
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_EQ(problems[0].where.line, 4);
    EXPECT_EQ(problems[0].where.column, 16);
}

TEST(KubectlText, ByteOrderMarkThatStartsALaterDocumentIsAccepted) {
    // kubectl's splitter ends the first document at `---`; go-yaml then reads the second one on
    // its own and drops the mark at its start.
    std::vector<Diagnostic> problems;
    auto second = policy_text;
    second.replace(second.find("name: p"), 7, "name: q");
    const auto policies = parse(policy_text + "---\n" + bom + second + "---\r\n" + bom + "# c\n", problems);
    ASSERT_TRUE(problems.empty()) << all(problems);
    ASSERT_EQ(policies.size(), 2u);
    EXPECT_EQ(policies[1].identity.name, "q");
    EXPECT_EQ(policies[1].origin.line, 8);

    // The view the YAML parser reads: the marks taken out, nothing else.
    const std::string marked = bom + "a: 1\n---\n" + bom + "b: 2\n";  // KubectlText views it
    const policy::KubectlText text(marked);
    EXPECT_EQ(text.text(), "a: 1\n---\nb: 2\n");
    EXPECT_FALSE(text.invalid_separator());
}

TEST(KubectlText, ByteOrderMarkInsideADocumentIsNotDropped) {
    // After a leading `---` the document has begun: kubectl's go-yaml keeps the mark as part of
    // the next key ("\uFEFFapiVersion"), which no cluster accepts. karmor refuses it too.
    const std::string marked = "---\n" + bom + "a: 1\nb: 2\n" + bom + "c: 3\n";  // KubectlText views it
    const policy::KubectlText text(marked);
    EXPECT_EQ(text.text(), "---\n" + bom + "a: 1\nb: 2\n" + bom + "c: 3\n");
    std::vector<Diagnostic> problems;
    EXPECT_TRUE(parse("---\n" + bom + policy_text, problems).empty());
    EXPECT_FALSE(problems.empty());
}

TEST(KubectlText, SeparatorWithTextAfterItIsRefusedAsKubectlRefusesIt) {
    struct Case {
        std::string text;
        int line;
        int column;
        std::string rest;
    };
    const std::vector<Case> refused = {
        {"--- !!map\n" + policy_text, 1, 5, "!!map"},
        {"----\n" + policy_text, 1, 4, "-"},
        {policy_text + "--- |\n  text\n", 7, 5, "|"},
        {policy_text + "---\t>  \r\n", 7, 5, ">"},
        // kubectl's splitter looks at every line, block scalars included.
        {"a: |\n  x\n---x\n  y\n", 3, 4, "x"},
    };
    for (const auto& c : refused) {
        SCOPED_TRACE(c.text);
        std::vector<Diagnostic> problems;
        EXPECT_TRUE(parse(c.text, problems).empty());
        ASSERT_FALSE(problems.empty());
        const auto& last = problems.back();
        EXPECT_EQ(last.where.line, c.line) << last.str();
        EXPECT_EQ(last.where.column, c.column) << last.str();
        EXPECT_EQ(last.message, "YAML syntax error: invalid document separator: \"" + c.rest +
                                    "\" after \"---\" (kubectl allows only spaces or a comment there: move it to the "
                                    "next line)");
    }
}

TEST(KubectlText, SeparatorsKubectlAcceptsStayAccepted) {
    for (const std::string& text : {"--- # a comment\n" + policy_text, "---\t\n" + policy_text + "---   \r\n",
                                    bom + "--- !!map\n" + policy_text}) {
        SCOPED_TRACE(text);
        std::vector<Diagnostic> problems;
        EXPECT_EQ(parse(text, problems).size(), 1u);
        EXPECT_TRUE(problems.empty()) << all(problems);
    }
    // A stream that starts with `{` is JSON to kubectl: its separator rule does not apply.
    const policy::KubectlText json("  {\"a\": 1}\n--- !!map\n");
    EXPECT_FALSE(json.invalid_separator());
}

TEST(KubectlText, DocumentsBeforeABadSeparatorAreStillChecked) {
    std::vector<Diagnostic> problems;
    auto invalid = policy_text;
    invalid.replace(invalid.find("Block"), 5, "block");
    EXPECT_TRUE(parse(invalid + "--- !!map\n" + policy_text, problems).empty());
    ASSERT_EQ(problems.size(), 2u) << all(problems);
    EXPECT_EQ(problems[0].field_path, "spec.action");
    EXPECT_EQ(problems[1].where.line, 7);
    // A YAML error before the bad line is the one reported.
    problems.clear();
    parse("a: b: c\nd: 1\n--- !!map\n", problems);
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_EQ(problems[0].message.find("invalid document separator"), std::string::npos) << all(problems);
}

// metadata.namespace: "" is the request's namespace, as no namespace is: "default" for karmor.
TEST(KubectlText, EmptyNamespaceMeansTheDefaultNamespace) {
    auto with_empty = policy_text;
    with_empty.replace(with_empty.find("  name: p\n"), 10, "  name: p\n  namespace: \"\"\n");
    for (const auto format : {PolicyFormat::yaml, PolicyFormat::json}) {
        LoadOptions options;
        options.serialize_as = format;
        std::vector<Diagnostic> problems;
        const auto policies = parse(with_empty, problems, options);
        ASSERT_TRUE(problems.empty()) << all(problems);
        ASSERT_EQ(policies.size(), 1u);
        EXPECT_EQ(policies[0].identity.namespace_name, "default");
        const auto& text = policies[0].serialized;
        EXPECT_TRUE(text.find("namespace: \"\"") != std::string::npos ||
                    text.find("\"namespace\": \"\"") != std::string::npos)
            << "the document is kept as written: " << text;
        EXPECT_EQ(policy_file_names(policies, format)[0],
                  format == PolicyFormat::yaml ? "ksp-default-p.yaml" : "ksp-default-p.json");
    }
    // The same identity as an explicit default namespace: two documents, one policy.
    auto with_default = policy_text;
    with_default.replace(with_default.find("  name: p\n"), 10, "  name: p\n  namespace: default\n");
    std::vector<Diagnostic> problems;
    auto policies = parse(with_empty + "---\n" + with_default, problems);
    ASSERT_EQ(policies.size(), 2u) << all(problems);
    find_duplicate_policies(policies, problems);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].message.find("KubeArmorPolicy/default/p is defined twice"), std::string::npos)
        << problems[0].str();
    // Anything else that is not a DNS-1123 label is still refused.
    problems.clear();
    auto spaced = policy_text;
    spaced.replace(spaced.find("  name: p\n"), 10, "  name: p\n  namespace: \" \"\n");
    parse(spaced, problems);
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_EQ(problems[0].field_path, "metadata.namespace");
}

}  // namespace
}  // namespace karmor
