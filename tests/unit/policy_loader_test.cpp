#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "karmor/policy.hpp"
#include "policy/conversion.hpp"
#include "policy/scalars.hpp"
#include "policy/value_writers.hpp"
#include "support/process.hpp"

namespace karmor {
namespace {

using testing::TempDir;
using testing::write_text;

const char* const block_shell = R"(apiVersion: security.kubearmor.com/v1
kind: KubeArmorPolicy
metadata:
  name: block-shell
spec:
  selector:
    matchLabels:
      app: nginx
  process:
    matchPaths:
      - path: /bin/sh
  action: Block
)";

std::vector<Policy> parse(const std::string& text, std::vector<Diagnostic>& problems) {
    return parse_policy_text(text, "test.yaml", {}, problems);
}

TEST(PolicyLoader, SingleDocumentIdentityDefaultsNamespace) {
    std::vector<Diagnostic> problems;
    auto policies = parse(block_shell, problems);
    ASSERT_TRUE(problems.empty()) << problems.front().str();
    ASSERT_EQ(policies.size(), 1u);
    EXPECT_EQ(policies[0].identity.kind, "KubeArmorPolicy");
    EXPECT_EQ(policies[0].identity.namespace_name, "default");
    EXPECT_EQ(policies[0].identity.name, "block-shell");
    EXPECT_EQ(policies[0].origin.line, 1);
}

TEST(PolicyLoader, MultiDocumentCrlfLeadingSeparatorNoFinalNewline) {
    std::string text = std::string("---\r\n") + block_shell + "---\r\n" +
                       "apiVersion: security.kubearmor.com/v1\r\nkind: KubeArmorHostPolicy\r\nmetadata:\r\n"
                       "  name: audit-passwd\t# a comment after a TAB\r\nspec:\r\n  nodeSelector:\r\n"
                       "    matchLabels:\r\n      kubernetes.io/os: linux\r\n  action: Audit";
    std::vector<Diagnostic> problems;
    auto policies = parse(text, problems);
    ASSERT_TRUE(problems.empty()) << problems.front().str();
    ASSERT_EQ(policies.size(), 2u);
    EXPECT_EQ(policies[1].identity.kind, "KubeArmorHostPolicy");
    EXPECT_EQ(policies[1].identity.namespace_name, "");
    EXPECT_EQ(policies[1].identity.name, "audit-passwd");
    EXPECT_EQ(policies[1].origin.document, 2);
}

TEST(PolicyLoader, OtherKindsAreNamedWithTheirDocument) {
    const std::string text =
        std::string(block_shell) + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
    std::vector<Diagnostic> problems;
    auto policies = parse(text, problems);
    EXPECT_EQ(policies.size(), 1u);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].where.file, "test.yaml");
    EXPECT_EQ(problems[0].where.line, 15);
    EXPECT_NE(problems[0].message.find("document 2 is a Deployment (apps/v1)"), std::string::npos) << problems[0].str();
}

TEST(PolicyLoader, YamlSyntaxErrorHasALine) {
    std::vector<Diagnostic> problems;
    parse("apiVersion: security.kubearmor.com/v1\nkind: [unclosed\n", problems);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_GT(problems[0].where.line, 0);
    EXPECT_NE(problems[0].message.find("YAML syntax error"), std::string::npos);
}

// Found by fuzz/policy_fuzz: a stray byte that is not UTF-8 made JSON serialization throw.
TEST(PolicyLoader, InvalidUtf8IsReportedWithPosition) {
    std::string text = block_shell;
    text.replace(text.find("nginx"), 1, "\x90");
    std::vector<Diagnostic> problems;
    auto policies = parse(text, problems);
    EXPECT_TRUE(policies.empty());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].where.line, 8);
    EXPECT_EQ(problems[0].where.column, 12);
    EXPECT_NE(problems[0].message.find("not valid UTF-8"), std::string::npos);
    for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
        problems.clear();
        parse(std::string("apiVersion: \"") + bad + "\"\n", problems);
        ASSERT_EQ(problems.size(), 1u) << bad;
        EXPECT_NE(problems[0].message.find("UTF-8"), std::string::npos);
    }
    problems.clear();
    parse(std::string(block_shell) + "# ünïcode comment, 漢字 and 🙂\n", problems);
    EXPECT_TRUE(problems.empty());
}

// Found by fuzz/policy_fuzz when the parser was yaml-cpp 0.7, which looped forever on a ','
// outside a flow collection.
TEST(PolicyLoader, StrayCommaIsASyntaxErrorNotAHang) {
    for (const char* text : {",", "- a\n,", "---\n,\n", ", a", "[a],"}) {
        std::vector<Diagnostic> problems;
        EXPECT_TRUE(parse(text, problems).empty()) << text;
        // "[a]," also reports its first document, a list: documents are checked as they are read.
        ASSERT_FALSE(problems.empty()) << text;
        EXPECT_NE(problems.back().message.find("YAML syntax error"), std::string::npos) << problems.back().str();
    }
    std::vector<Diagnostic> problems;
    EXPECT_EQ(parse(std::string(block_shell) + "---\n---\n" + block_shell, problems).size(), 2u);
    EXPECT_TRUE(problems.empty()) << "empty documents between --- are fine";
}

TEST(PolicyLoader, InvalidNameIsReportedWithPosition) {
    std::string text = block_shell;
    text.replace(text.find("block-shell"), 11, "Block Shell");
    std::vector<Diagnostic> problems;
    parse(text, problems);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].field_path, "metadata.name");
    EXPECT_EQ(problems[0].where.line, 4);
    EXPECT_EQ(problems[0].where.column, 9);
}

TEST(PolicyLoader, DuplicateKeysAreRefused) {
    std::vector<Diagnostic> problems;
    parse(std::string(block_shell) + "  action: Audit\n", problems);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].field_path, "spec.action");
}

TEST(PolicyLoader, SerializationDropsCommentsAndNullsKeepsKeyOrder) {
    const std::string text = "# leading comment\napiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\n"
                             "metadata:\n  name: p   # trailing\n  namespace: shop\nspec:\n  severity: null\n"
                             "  selector:\n    matchLabels: {app: web}\n  file:\n    matchPaths:\n"
                             "    - path: /etc/passwd\n      fromSource: ~\n  action: Audit\n";
    std::vector<Diagnostic> problems;
    auto policies = parse(text, problems);
    ASSERT_TRUE(problems.empty()) << problems.front().str();
    EXPECT_EQ(serialize_policy(policies[0], PolicyFormat::yaml),
              "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\n  namespace: shop\n"
              "spec:\n  selector:\n    matchLabels:\n      app: web\n  file:\n    matchPaths:\n"
              "      - path: /etc/passwd\n  action: Audit\n");
    EXPECT_EQ(
        policies[0].document.dump(),
        R"({"apiVersion":"security.kubearmor.com/v1","kind":"KubeArmorPolicy","metadata":{"name":"p","namespace":"shop"},"spec":{"selector":{"matchLabels":{"app":"web"}},"file":{"matchPaths":[{"path":"/etc/passwd"}]},"action":"Audit"}})");
}

// Scalars resolve as Kubernetes resolves them (YAML 1.1 through go-yaml v2), and the
// serializer quotes every string that would otherwise read back as something else.
TEST(YamlDocument, ScalarResolutionAndRoundTrip) {
    using nlohmann::ordered_json;
    EXPECT_EQ(policy::resolve_plain_scalar("5"), ordered_json(5));
    EXPECT_EQ(policy::resolve_plain_scalar("-12"), ordered_json(-12));
    EXPECT_EQ(policy::resolve_plain_scalar("0x1F"), ordered_json(31));
    EXPECT_EQ(policy::resolve_plain_scalar("1.5"), ordered_json(1.5));
    EXPECT_EQ(policy::resolve_plain_scalar("true"), ordered_json(true));
    EXPECT_EQ(policy::resolve_plain_scalar("yes"), ordered_json(true));
    EXPECT_EQ(policy::resolve_plain_scalar("Off"), ordered_json(false));
    EXPECT_TRUE(policy::resolve_plain_scalar("~").is_null());
    EXPECT_EQ(policy::resolve_plain_scalar("/bin/sh"), ordered_json("/bin/sh"));
    EXPECT_EQ(policy::resolve_plain_scalar("1.2.3"), ordered_json("1.2.3"));

    ordered_json doc = {{"strings",
                         {"true", "5", "yes", "", " padded", "a: b", "#x", "-dash", "multi\nline", "null", "0755",
                          "tab\there", "ünïcode", "1e3", "C:\\dir"}},
                        {"numbers", {1, -2, 3.25}},
                        {"bools", {true, false}},
                        {"empty_map", ordered_json::object()},
                        {"empty_list", ordered_json::array()},
                        {"nested", {{{"k", {1, 2}}}, {1, 2}}},
                        {"key: with colon", "v"}};
    std::string yaml;
    policy::YamlTextWriter writer(yaml);
    policy::write_json(doc, writer);
    std::vector<Diagnostic> problems;
    const auto reparsed = policy::read_json_documents(yaml, {"emitted"}, 2, problems);
    ASSERT_FALSE(reparsed.syntax_error) << reparsed.syntax_error->message << "\n" << yaml;
    EXPECT_TRUE(problems.empty());
    ASSERT_EQ(reparsed.documents.size(), 1u);
    EXPECT_EQ(reparsed.documents[0], doc) << yaml;
}

// The conversion keeps the keys of the open mappings only (issue 26: a big document's keys were
// megabytes): a key repeated after a nested mapping closed is still found, at every level.
TEST(Conversion, RepeatedKeysAreFoundAfterNestedMappingsClose) {
    std::vector<Diagnostic> problems;
    const auto read = policy::read_json_documents(
        "a: {x: 1, y: {z: 1, w: [{v: 1}, {v: 2}]}, x: 2}\nb: {x: 1}\nb: 3\nc: [{k: 1}, {k: 2, k: 3}]\n", {"keys"}, 1,
        problems);
    ASSERT_FALSE(read.syntax_error);
    std::vector<std::string> found;
    for (const auto& problem : problems) found.push_back(problem.str());
    EXPECT_EQ(found,
              (std::vector<std::string>{"keys:1:43: a.x: duplicate field \"x\"", "keys:3:1: b: duplicate field \"b\"",
                                        "keys:4:20: c[1].k: duplicate field \"k\""}));
}

// parse_policy_text_taking (pull, issue 26 goal 2): a text that is its policy's serialized YAML
// becomes the policy's text; any other text is left alone and gives what parse_policy_text
// gives, also when it differs from the serialized text only after many compared chunks.
TEST(PolicyLoader, TakingATextThatIsItsOwnSerializationMovesIt) {
    LoadOptions as_pull;
    as_pull.serialize_as = PolicyFormat::yaml;
    std::string paths;
    for (int i = 0; i < 20'000; ++i) paths += "      - path: /usr/local/bin/tool-" + std::to_string(i) + "\n";
    const std::string big = "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: many\n"
                            "  namespace: shop\nspec:\n  process:\n    matchPaths:\n" +
                            paths + "  action: Block\n";
    std::vector<Diagnostic> problems;
    const auto expected = parse_policy_text(big, "big.yaml", as_pull, problems);
    ASSERT_TRUE(problems.empty());
    ASSERT_EQ(expected.size(), 1u);
    ASSERT_EQ(expected[0].serialized, big) << "the test needs a text in karmor's own form";

    std::string text = big;
    const auto* bytes = text.data();
    auto taken = parse_policy_text_taking(text, "big.yaml", as_pull, problems);
    ASSERT_TRUE(problems.empty());
    ASSERT_EQ(taken.size(), 1u);
    EXPECT_TRUE(text.empty());
    EXPECT_EQ(taken[0].serialized.data(), bytes);
    EXPECT_EQ(taken[0].serialized, big);
    EXPECT_EQ(taken[0].identity.str(), expected[0].identity.str());

    const auto ends_apart = big.substr(0, big.size() - 1) + "  # trailing comment\n";
    const auto written_apart = "# first line\n" + big;
    const auto quoted_late = big.substr(0, big.size() - 20) + "\"Block\"\n";  // the last value quoted
    for (const std::string& other : {ends_apart, written_apart, quoted_late, "\xEF\xBB\xBF" + big, big + "---\n" + big,
                                     big + "...\n", big.substr(0, 100'000) + "  bad: [\n"}) {
        for (const auto& options : {as_pull, LoadOptions{}}) {
            std::vector<Diagnostic> plain_problems, taken_problems;
            const auto plain = parse_policy_text(other, "other.yaml", options, plain_problems);
            std::string copy = other;
            const auto from_copy = parse_policy_text_taking(copy, "other.yaml", options, taken_problems);
            EXPECT_EQ(copy, other);
            ASSERT_EQ(from_copy.size(), plain.size());
            for (std::size_t i = 0; i < plain.size(); ++i) {
                EXPECT_EQ(from_copy[i].serialized, plain[i].serialized);
                EXPECT_EQ(from_copy[i].document, plain[i].document);
            }
            ASSERT_EQ(taken_problems.size(), plain_problems.size());
            for (std::size_t i = 0; i < plain_problems.size(); ++i)
                EXPECT_EQ(taken_problems[i].str(), plain_problems[i].str());
        }
    }
}

TEST(PolicyFiles, DirectoriesDuplicatesAndEmptyInputs) {
    TempDir dir;
    write_text(dir / "a.yaml", block_shell);
    write_text(dir / "b.yml", block_shell);  // the same identity again
    write_text(dir / "notes.txt", "ignored");
    auto result = load_policy_files({dir.path()});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::validation);
    ASSERT_EQ(result.error().details.size(), 1u);
    EXPECT_NE(result.error().details[0].find("b.yml:1:1"), std::string::npos) << result.error().details[0];
    EXPECT_NE(result.error().details[0].find("a.yaml:1:1"), std::string::npos) << result.error().details[0];

    TempDir empty;
    auto none = load_policy_files({empty.path()});
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().details[0].find("holds no *.yaml"), std::string::npos);

    write_text(empty / "blank.yaml", "# only a comment\n");
    auto blank = load_policy_files({empty / "blank.yaml"});
    ASSERT_FALSE(blank);
    EXPECT_NE(blank.error().details[0].find("holds no policy"), std::string::npos);

    auto missing = load_policy_files({dir / "missing.yaml"});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::io);
}

// Files are loaded on every core: problems still come out in input order (each file's own, then
// the duplicates, each at its later copy in input order), and one problem in the last file
// refuses the whole set.
TEST(PolicyFiles, ProblemsOfManyFilesComeOutInInputOrder) {
    const auto policy_named = [](const std::string& name) {
        std::string text = block_shell;
        return text.replace(text.find("block-shell"), 11, name);
    };
    TempDir dir;
    for (int i = 0; i < 40; ++i) {
        const std::string file = "p" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".yaml";
        std::string text =
            policy_named("policy-" + std::to_string(i)) + "---\n" + policy_named("extra-" + std::to_string(i));
        if (i == 3) text = policy_named("Bad Name 3");
        if (i == 17) text += "---\n" + policy_named("policy-2");  // a duplicate of p02's
        if (i == 25) text = policy_named("policy-25") + "---\n" + policy_named("Bad Name 25");
        if (i == 33) text += "---\n" + policy_named("policy-2");  // the same, a third time
        if (i == 38) text += "---\n" + policy_named("extra-1");   // of p01's second policy
        write_text(dir / file, text);
    }
    auto all = load_policy_files({dir.path()});
    ASSERT_FALSE(all);
    EXPECT_EQ(all.error().kind, ErrorKind::validation);
    const auto& d = all.error().details;
    ASSERT_EQ(d.size(), 5u) << all.error().message;
    EXPECT_NE(d[0].find("p03.yaml:4:9: metadata.name"), std::string::npos) << d[0];
    EXPECT_NE(d[1].find("p25.yaml:17:9: metadata.name"), std::string::npos) << d[1];
    EXPECT_NE(
        d[2].find("p17.yaml:27:1: metadata.name: KubeArmorPolicy/default/policy-2 is defined twice: here and at "),
        std::string::npos)
        << d[2];
    EXPECT_NE(d[2].find("p02.yaml:1:1"), std::string::npos) << d[2];
    EXPECT_NE(d[3].find("p33.yaml:27:1"), std::string::npos) << d[3];
    EXPECT_NE(d[3].find("p02.yaml:1:1"), std::string::npos) << d[3];
    EXPECT_NE(d[4].find("p38.yaml:27:1"), std::string::npos) << d[4];
    EXPECT_NE(d[4].find("p01.yaml:14:1"), std::string::npos) << d[4];

    // Only the last file is wrong: the set is still refused, with that one problem.
    TempDir late;
    for (int i = 0; i < 40; ++i)
        write_text(late / ("p" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".yaml"),
                   policy_named(i == 39 ? "Late Bad" : "policy-" + std::to_string(i)));
    auto refused = load_policy_files({late.path()});
    ASSERT_FALSE(refused);
    ASSERT_EQ(refused.error().details.size(), 1u);
    EXPECT_NE(refused.error().details[0].find("p39.yaml:4:9"), std::string::npos) << refused.error().details[0];

    // Without problems: every policy, sorted by identity.
    std::filesystem::remove(late / "p39.yaml");
    auto loaded = load_policy_files({late.path()});
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->size(), 39u);
    EXPECT_TRUE(std::is_sorted(loaded->begin(), loaded->end(),
                               [](const Policy& a, const Policy& b) { return a.identity < b.identity; }));
    EXPECT_EQ(loaded->front().identity.name, "policy-0");
    EXPECT_EQ((*loaded)[1].identity.name, "policy-1");
    EXPECT_EQ((*loaded)[2].identity.name, "policy-10");
}

TEST(PolicyFiles, RecursiveOnlyWhenAsked) {
    TempDir dir;
    write_text(dir / "sub" / "p.yaml", block_shell);
    EXPECT_FALSE(load_policy_files({dir.path()}));
    LoadOptions options;
    options.recursive = true;
    auto loaded = load_policy_files({dir.path()}, options);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->size(), 1u);
}

TEST(PolicyFileNames, ShowKindNamespaceNameAndAreUnique) {
    std::vector<Policy> policies(4);
    policies[0].identity = {"KubeArmorPolicy", "default", "block-shell"};
    policies[1].identity = {"KubeArmorHostPolicy", "", "block-chfn"};
    policies[2].identity = {"KubeArmorPolicy", "a-b", "c"};  // flattens like a/b-c
    policies[3].identity = {"KubeArmorPolicy", "a", "b-c"};
    const auto names = policy_file_names(policies, PolicyFormat::yaml);
    EXPECT_EQ(names[0], "ksp-default-block-shell.yaml");
    EXPECT_EQ(names[1], "hsp-block-chfn.yaml");
    EXPECT_NE(names[2], names[3]);
    EXPECT_EQ(names[2].rfind("ksp-a-b-c-", 0), 0u);
    EXPECT_EQ(policy_file_names(policies, PolicyFormat::yaml), names) << "names must be deterministic";

    // Three that flatten alike, among others that do not: each of the three gets its own hash,
    // the others keep the plain name.
    policies.push_back({});
    policies.back().identity = {"KubeArmorPolicy", "a", "B-c"};  // ksp-a-b-c too
    policies.push_back({});
    policies.back().identity = {"KubeArmorPolicy", "default", "block-chfn"};
    const auto more = policy_file_names(policies, PolicyFormat::json);
    EXPECT_EQ(more[0], "ksp-default-block-shell.json");
    EXPECT_EQ(more[1], "hsp-block-chfn.json");
    EXPECT_EQ(more[5], "ksp-default-block-chfn.json");
    for (const std::size_t i : {2u, 3u, 4u}) {
        EXPECT_EQ(more[i].rfind("ksp-a-b-c-", 0), 0u) << more[i];
        EXPECT_EQ(more[i].size(), std::string("ksp-a-b-c-12345678.json").size()) << more[i];
    }
    EXPECT_NE(more[2], more[3]);
    EXPECT_NE(more[3], more[4]);
    EXPECT_NE(more[2], more[4]);
    EXPECT_EQ(more[2], names[2].substr(0, names[2].size() - 5) + ".json") << "the hash depends on the identity only";
}

}  // namespace
}  // namespace karmor
