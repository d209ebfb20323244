// Strict schema validation (SPEC §5, issue 3): one failing and one passing case per rule,
// with the exact field path, line and column of each problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "karmor/policy.hpp"
#include "policy/scalars.hpp"
#include "policy/yaml_events.hpp"
#include "support/process.hpp"

namespace karmor {
namespace {

using testing::TempDir;
using testing::write_text;

// Five header lines: the spec's own lines start at line 6.
std::string document(const std::string& kind, const std::string& spec_lines) {
    return "apiVersion: security.kubearmor.com/v1\nkind: " + kind + "\nmetadata:\n  name: p\nspec:\n" + spec_lines;
}

std::vector<Diagnostic> problems_of(const std::string& text, const LoadOptions& options = {}) {
    std::vector<Diagnostic> problems;
    parse_policy_text(text, "t.yaml", options, problems);
    return problems;
}

std::string all(const std::vector<Diagnostic>& problems) {
    std::string out;
    for (const auto& problem : problems) out += problem.str() + "\n";
    return out;
}

struct InvalidCase {
    const char* rule;
    std::string text;
    std::string field_path;
    int line;
    int column;
    std::string message_part;
};

const std::string ksp = "KubeArmorPolicy";
const std::string csp = "KubeArmorClusterPolicy";
const std::string hsp = "KubeArmorHostPolicy";
const std::string knp = "KubeArmorNetworkPolicy";
const std::string host_nodes = "  nodeSelector:\n    matchLabels: {kubernetes.io/os: linux}\n";  // lines 6-7

const std::vector<InvalidCase> invalid_cases = {
    {"enum is case-sensitive", document(ksp, "  action: audit\n"), "spec.action", 6, 11,
     R"(unsupported value "audit": expected one of "Allow", "Audit", "Block" (case-sensitive))"},
    {"unknown field with a typo",
     document(ksp, "  file:\n    matchDirectories:\n      - dir: /etc/\n"
                   "        recurive: true\n"),
     "spec.file.matchDirectories[0].recurive", 9, 9, R"(unknown field (did you mean "recursive"?))"},
    {"dir pattern needs a trailing slash", document(ksp, "  file:\n    matchDirectories:\n      - dir: /etc\n"),
     "spec.file.matchDirectories[0].dir", 8, 14,
     R"("/etc" does not match the pattern ^\/$|^\/.*\/$: expected an absolute directory path ending with '/')"},
    {"severity above the range", document(ksp, "  severity: 11\n"), "spec.severity", 6, 13,
     "11 is out of range: expected an integer from 1 to 10"},
    {"severity below the range", document(ksp, "  file:\n    severity: 0\n"), "spec.file.severity", 7, 15,
     "0 is out of range: expected an integer from 1 to 10"},
    {"quoted integer", document(ksp, "  severity: \"5\"\n"), "spec.severity", 6, 13,
     "expected an integer, got the string \"5\" (remove the quotes)"},
    {"number where a string is expected", document(ksp, "  message: 5\n"), "spec.message", 6, 12,
     "expected a string, got the integer 5 (put it in quotes to make it a string)"},
    {"YAML 1.1 boolean where a string is expected", document(ksp, "  message: yes\n"), "spec.message", 6, 12,
     "expected a string, got the boolean true"},
    {"scalar where a list is expected", document(ksp, "  tags: CIS\n"), "spec.tags", 6, 9,
     "expected a list, got the string \"CIS\""},
    {"list where an object is expected", document(ksp, "  file: [a]\n"), "spec.file", 6, 9,
     "expected an object, got a list"},
    {"quoted boolean",
     document(ksp, "  file:\n    matchDirectories:\n      - dir: /etc/\n        recursive: \"true\"\n"),
     "spec.file.matchDirectories[0].recursive", 9, 20,
     "expected a boolean (true or false), got the string \"true\" (remove the quotes)"},
    {"required rule key", document(ksp, "  file:\n    matchPaths:\n      - readOnly: true\n"),
     "spec.file.matchPaths[0].path", 8, 9, "required field is missing"},
    {"null counts as missing",
     document(ksp, "  file:\n    matchDirectories:\n      - dir: null\n        recursive: true\n"),
     "spec.file.matchDirectories[0].dir", 8, 9, "required field is missing"},
    {"unknown field even when null",
     document(ksp, "  file:\n    matchDirectories:\n      - dir: /etc/\n"
                   "        recurive: ~\n"),
     "spec.file.matchDirectories[0].recurive", 9, 9, R"(did you mean "recursive"?)"},
    {"null inside a list", document(ksp, "  tags: [a, null]\n"), "spec.tags[1]", 6, 13, "expected a string, got null"},
    {"label map values are strings", document(ksp, "  selector:\n    matchLabels:\n      app: 5\n"),
     "spec.selector.matchLabels.app", 8, 12, "expected a string, got the integer 5"},
    {"block indented too little", document(ksp, "  matchPaths:\n    - path: /bin/sh\n"), "spec.matchPaths", 6, 3,
     R"(unknown field (it is a field of "file" or "process" or "syscalls": is it indented too little?))"},
    {"block indented too much",
     document(ksp, "  selector:\n    matchLabels:\n      app: x\n    process:\n"
                   "      matchPaths:\n        - path: /bin/sh\n"),
     "spec.selector.process", 9, 5, "unknown field (it belongs one level up: is it indented too much?)"},
    {"field of another kind", document(ksp, "  device:\n    matchDevice:\n      - class: usb\n"), "spec.device", 6, 3,
     "unknown field (expected one of: action, message, severity, tags, apparmor, capabilities, file, network, "
     "process, syscalls, presets, selector)"},
    {"maxItems",
     document(ksp,
              "  process:\n    matchPaths:\n      - path: /bin/x\n        allowedArgs: "
              "[a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21]\n"),
     "spec.process.matchPaths[0].allowedArgs", 9, 22, "has 21 items: at most 20 are allowed"},
    {"maxLength", document(ksp, "  file:\n    matchPaths:\n      - path: /" + std::string(200, 'a') + "\n"),
     "spec.file.matchPaths[0].path", 8, 15, "is 201 characters long: at most 200 are allowed"},
    {"file path pattern", document(ksp, "  file:\n    matchPaths:\n      - path: etc/passwd\n"),
     "spec.file.matchPaths[0].path", 8, 15, "expected an absolute file path, not ending with '/'"},
    {"file or directory pattern", document(ksp, "  syscalls:\n    matchPaths:\n      - path: etc/\n"),
     "spec.syscalls.matchPaths[0].path", 8, 15, "expected an absolute file path, or a directory path ending with '/'"},
    {"fromSource path pattern",
     document(ksp,
              "  process:\n    matchPaths:\n      - path: /bin/sh\n        fromSource:\n          - path: /bin/\n"),
     "spec.process.matchPaths[0].fromSource[0].path", 10, 19, "expected an absolute file path, not ending with '/'"},
    {"capability pattern", document(ksp, "  capabilities:\n    matchCapabilities:\n      - capability: CAP_NET_RAW\n"),
     "spec.capabilities.matchCapabilities[0].capability", 8, 21, "does not match the pattern (chown|"},
    {"protocol pattern", document(ksp, "  network:\n    matchProtocols:\n      - protocol: TCP6\n"),
     "spec.network.matchProtocols[0].protocol", 8, 19, "expected a protocol such as tcp"},
    {"execname pattern", document(ksp, "  process:\n    matchPaths:\n      - execname: /bin/sh\n"),
     "spec.process.matchPaths[0].execname", 8, 19, R"(does not match the pattern ^[^\/]+$)"},
    {"syscall enum", document(ksp, "  syscalls:\n    matchSyscalls:\n      - syscall:\n          - opne\n"),
     "spec.syscalls.matchSyscalls[0].syscall[0]", 9, 13,
     R"(unsupported value "opne": expected one of 335 values (did you mean "open"?))"},
    {"container selector keys", document(ksp, "  selector:\n    matchExpressions:\n      - key: namespace\n"),
     "spec.selector.matchExpressions[0].key", 8, 14, R"(expected one of "label")"},
    {"cluster policies have no matchLabels", document(csp, "  selector:\n    matchLabels:\n      app: x\n"),
     "spec.selector.matchLabels", 7, 5, "unknown field"},
    {"host policy without nodeSelector", document(hsp, "  action: Audit\n"), "spec.nodeSelector", 5, 1,
     "required field is missing: a KubeArmorHostPolicy must name its nodes with spec.nodeSelector.matchLabels "
     "(policies written for KubeArmor in VM mode omit it"},
    {"host capability rules need fromSource",
     document(hsp, host_nodes + "  capabilities:\n    matchCapabilities:\n      - capability: net_raw\n"),
     "spec.capabilities.matchCapabilities[0].fromSource", 10, 9, "required field is missing"},
    {"network policy: containers or hosts", document(knp, "  selector:\n    matchLabels: {app: x}\n" + host_nodes),
     "spec", 5, 1, "A policy cannot target both containers and host nodes."},
    {"network policy: container quotas need limit and duration",
     document(knp, "  selector:\n    matchLabels: {app: x}\n  ingress:\n    - limit: 5GB\n"), "spec", 5, 1,
     "all ingress rules must declare both 'limit' and 'duration'"},
    {"network policy: egress quotas too",
     document(knp, "  selector:\n    matchExpressions: []\n  egress:\n    - duration: 1h\n"), "spec", 5, 1,
     "all egress rules must declare both 'limit' and 'duration'"},
    {"network policy: a type error is reported once",
     document(knp, "  selector:\n    matchLabels: {app: x}\n  ingress:\n    - 5GB\n"), "spec.ingress[0]", 9, 7,
     "expected an object, got the string \"5GB\""},
    {"network policy: port range",
     document(knp, host_nodes + "  egress:\n    - ports:\n        - port: \"80\"\n          endPort: 70000\n"),
     "spec.egress[0].ports[0].endPort", 11, 20, "70000 is out of range: expected an integer from 1 to 65535"},
    {"network policy: required port", document(knp, host_nodes + "  egress:\n    - ports:\n        - protocol: TCP\n"),
     "spec.egress[0].ports[0].port", 10, 11, "required field is missing"},
    {"network policy: bandwidth pattern", document(knp, host_nodes + "  egress:\n    - limit: 5TB\n"),
     "spec.egress[0].limit", 9, 14, "expected a number with an optional unit"},
    {"network policy: level enum", document(knp, host_nodes + "  level: POD\n"), "spec.level", 8, 10,
     R"(expected one of "pod", "policy", "Pod", "Policy")"},
    {"name is a DNS-1123 subdomain",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: a..b\n", "metadata.name", 4, 9,
     "\"a..b\" is invalid: expected a DNS-1123 subdomain"},
    {"name is required", "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  namespace: x\n",
     "metadata.name", 3, 1, "required field is missing"},
    {"namespace is a DNS-1123 label",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\n  namespace: Shop\n",
     "metadata.namespace", 5, 14, "\"Shop\" is invalid: expected a DNS-1123 label"},
    {"unknown metadata field",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\n  label:\n    a: b\n",
     "metadata.label", 5, 3, R"(unknown field (did you mean "labels"?))"},
    {"label values",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\n  labels:\n    app: -x-\n",
     "metadata.labels.app", 6, 10, "\"-x-\" is invalid: expected empty, or at most 63 letters"},
    {"label keys",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\n  annotations:\n"
     "    bad key: x\n",
     "metadata.annotations.bad key", 6, 5, "invalid key \"bad key\": expected a qualified name"},
    {"unknown top-level field",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\nspecs:\n"
     "  action: Block\n",
     "specs", 5, 1, R"(unknown field (did you mean "spec"?))"},
    {"status has one field",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: p\nstatus:\n"
     "  phase: x\n",
     "status.phase", 6, 3, "unknown field"},
};

TEST(Validation, EachRuleRejectsItsCaseWithPathAndPosition) {
    for (const auto& c : invalid_cases) {
        SCOPED_TRACE(c.rule);
        const auto problems = problems_of(c.text);
        ASSERT_EQ(problems.size(), 1u) << all(problems);
        EXPECT_EQ(problems[0].field_path, c.field_path);
        EXPECT_EQ(problems[0].where.file, "t.yaml");
        EXPECT_EQ(problems[0].where.line, c.line) << problems[0].str();
        EXPECT_EQ(problems[0].where.column, c.column) << problems[0].str();
        EXPECT_NE(problems[0].message.find(c.message_part), std::string::npos) << problems[0].str();
    }
}

struct ValidCase {
    const char* rule;
    std::string text;
};

const std::vector<ValidCase> valid_cases = {
    {"enum value", document(ksp, "  action: Audit\n")},
    {"field spelled right",
     document(ksp, "  file:\n    matchDirectories:\n      - dir: /etc/\n        recursive: true\n")},
    {"root directory", document(ksp, "  file:\n    matchDirectories:\n      - dir: /\n")},
    {"severity bounds", document(ksp, "  severity: 10\n  file:\n    severity: 1\n")},
    {"integral YAML numbers", document(ksp, "  severity: 5.0\n  file:\n    severity: 0x5\n")},
    {"quoted string that looks like a number", document(ksp, "  message: \"5\"\n  tags: [\"1.1.3\", yes-no]\n")},
    {"YAML 1.1 booleans", document(ksp, "  file:\n    matchDirectories:\n      - dir: /etc/\n        recursive: yes\n"
                                        "        readOnly: off\n")},
    {"null values are pruned", document(ksp, "  severity: null\n  file:\n    matchPaths:\n      - path: /etc/passwd\n"
                                             "        fromSource: null\n  message: ~\n")},
    {"labels map", document(ksp, "  selector:\n    matchLabels:\n      app: \"5\"\n      tier: web\n")},
    {"allowedArgs at maxItems",
     document(ksp, "  process:\n    matchPaths:\n      - path: /bin/x\n        allowedArgs: "
                   "[a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20]\n")},
    {"path at maxLength", document(ksp, "  file:\n    matchPaths:\n      - path: /" + std::string(199, 'a') + "\n")},
    {"capability", document(ksp, "  capabilities:\n    matchCapabilities:\n      - capability: net_raw\n")},
    // The CRD's capability and protocol patterns are anchored only at the end; the API server
    // accepts what they match, and so do we.
    {"unanchored patterns", document(ksp, "  capabilities:\n    matchCapabilities:\n      - capability: cap_net_raw\n"
                                          "  network:\n    matchProtocols:\n      - protocol: ICMP\n")},
    // Go's '.' matches '\r'; a carriage return in a path is accepted as the API server does.
    {"carriage return in a path", document(ksp, "  file:\n    matchPaths:\n      - path: \"/a\\rb\"\n")},
    {"execname", document(ksp, "  process:\n    matchPaths:\n      - execname: sh\n")},
    {"syscalls", document(ksp, "  syscalls:\n    matchPaths:\n      - path: /etc/\n        recursive: true\n"
                               "        syscall: [open, openat]\n        fromSource:\n          - dir: /bin/\n")},
    {"presets", document(ksp, "  presets:\n    - name: filelessExec\n      action: Audit\n")},
    {"multi-line plain scalar", document(ksp, "  action:\n    Block\n")},
    {"cluster selector keys", document(csp, "  selector:\n    matchExpressions:\n      - key: namespace\n"
                                            "        operator: NotIn\n        values: [kube-system]\n")},
    // The API server drops the namespace of a cluster-scoped object rather than checking it.
    {"cluster-scoped namespace ignored", "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorClusterPolicy\n"
                                         "metadata:\n  name: p\n  namespace: Not_A_Label\n"},
    {"host policy", document(hsp, host_nodes + "  device:\n    matchDevice:\n      - class: USB\n        level: 1\n"
                                               "        subClass: 3\n  capabilities:\n    matchCapabilities:\n"
                                               "      - capability: net_raw\n        fromSource:\n"
                                               "          - path: /bin/ping\n")},
    // `required` applies inside spec: without a spec there is nothing to check.
    {"host policy without spec", "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\n"
                                 "metadata:\n  name: p\n"},
    {"network host policy", document(knp, host_nodes + "  ingress:\n    - from:\n        - ipBlock:\n"
                                                       "            cidr: 10.0.0.0/8\n      ports:\n"
                                                       "        - port: \"443\"\n          endPort: 65535\n"
                                                       "          protocol: tcp\n  level: policy\n")},
    {"network container quota", document(knp, "  selector:\n    matchLabels: {app: x}\n  egress:\n"
                                              "    - limit: 500MB\n      duration: 1h\n")},
    {"object metadata",
     "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: a.b-c\n"
     "  namespace: shop\n  generateName: x-\n  creationTimestamp: null\n  uid: abc-123\n"
     "  labels:\n    app.kubernetes.io/name: web\n    empty: \"\"\n  annotations:\n"
     "    example.com/note: \"any text: here\"\n    Example.com/Upper: x\n  finalizers: [example.com/f]\n"
     "  ownerReferences:\n    - {apiVersion: v1, kind: ConfigMap, name: c, uid: \"1\"}\n"},
};

TEST(Validation, EachRuleAcceptsItsValidCase) {
    for (const auto& c : valid_cases) {
        SCOPED_TRACE(c.rule);
        const auto problems = problems_of(c.text);
        EXPECT_TRUE(problems.empty()) << all(problems) << c.text;
    }
}

TEST(Validation, NewlineInAPathDoesNotMatch) {
    const auto problems = problems_of(document(ksp, "  file:\n    matchPaths:\n      - path: \"/a\\nb\"\n"));
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_EQ(problems[0].field_path, "spec.file.matchPaths[0].path");
}

TEST(Validation, EveryProblemOfADocumentIsReported) {
    const auto text = document(ksp, "  action: audit\n  severity: 11\n  file:\n    matchDirectories:\n"
                                    "      - dir: /etc\n        recurive: true\n");
    const auto problems = problems_of(text);
    ASSERT_EQ(problems.size(), 4u) << all(problems);
    EXPECT_EQ(problems[0].str(), R"(t.yaml:6:11: spec.action: unsupported value "audit": expected one of "Allow", )"
                                 R"("Audit", "Block" (case-sensitive))");
    EXPECT_EQ(problems[1].str(), "t.yaml:7:13: spec.severity: 11 is out of range: expected an integer from 1 to 10");
    EXPECT_EQ(problems[2].field_path, "spec.file.matchDirectories[0].dir");
    EXPECT_EQ(problems[3].str(),
              R"(t.yaml:11:9: spec.file.matchDirectories[0].recurive: unknown field (did you mean "recursive"?))");
}

TEST(Validation, PositionsCountFromTheFileNotTheDocument) {
    const auto text =
        "---\r\n" + document(ksp, "  action: Block\r\n") + "---\r\n" + document(ksp, "  action: block\r\n");
    const auto problems = problems_of(text);
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_EQ(problems[0].where.document, 2);
    EXPECT_EQ(problems[0].where.line, 14);
    EXPECT_EQ(problems[0].where.column, 11);
}

TEST(Validation, SkipValidationChecksOnlyIdentity) {
    LoadOptions options;
    options.skip_validation = true;
    EXPECT_TRUE(problems_of(document(ksp, "  action: audit\n  recurive: x\n"), options).empty());
    EXPECT_EQ(
        problems_of("apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {}\n", options).size(),
        1u);
    EXPECT_EQ(problems_of(document(ksp, "  action: audit\n")).size(), 1u);
}

TEST(Validation, RepositoryExamplesAreValid) {
    const auto dir = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";
    auto loaded = load_policy_files({dir});
    ASSERT_TRUE(loaded) << loaded.error().message << "\n"
                        << (loaded.error().details.empty() ? "" : loaded.error().details[0]);
    EXPECT_EQ(loaded->size(), 4u);
}

// The public examples in shared/kubearmor/examples, each with what the CRDs say of it.
TEST(Validation, SharedExamplesAsTheCrdsJudgeThem) {
    const auto dir = std::filesystem::path(KARMOR_SHARED_DIR) / "kubearmor" / "examples";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "SKIPPED: " << dir << " is not present";
    struct Expected {
        std::string field_path;  // empty: valid
        int line = 0;
        int column = 0;
    };
    const std::map<std::string, Expected> expected = {
        {"5gsec_oai-core_ksp-core-udm-zero-trust.yaml", {}},
        {"KubeArmor_examples_nginx-csp_cluster-security-policies_csp-matchlabels-in-block-process.yaml", {}},
        {"KubeArmor_examples_nginx-csp_cluster-security-policies_csp-not-in-operator-block-file-access.yaml", {}},
        {"cis_system_hsp-cis-1-1-3-controller-manager-pod-block.yaml", {}},
        {"cve_system_ksp-block-atlassian-confluence-cve-2022-26134.yaml", {}},
        {"django_system_ksp-django-audit-tcp-connection-from-pod.yaml", {}},
        {"exposures_logs_ksp-npm-debug-log-file.yaml", {}},
        {"java_system_ksp-block-spring4shell.yaml", {}},
        {"malware_system_ksp-block-sysrv-hello-malware.yaml", {}},
        // The name "ksp-mitre-t1059.yaml" is a valid DNS-1123 subdomain.
        {"mitre_system_ksp-mitre-t1059.yaml", {}},
        {"nist_system_hsp-nist-au-3-audit-bash-config-files.yaml", {}},
        // A host policy written for VM mode: no spec.nodeSelector, which the CRD requires.
        {"stigs_system_hsp-audit-stig-ubuntu-20-010451-conf.yaml", {"spec.nodeSelector", 9, 1}},
    };
    std::size_t seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        SCOPED_TRACE(name);
        const auto it = expected.find(name);
        if (it == expected.end()) {
            ADD_FAILURE() << "a new shared example: add what the CRDs say of it to this table";
            continue;
        }
        ++seen;
        std::vector<Diagnostic> problems;
        parse_policy_text(testing::read_text(entry.path()), name, {}, problems);
        if (it->second.field_path.empty()) {
            EXPECT_TRUE(problems.empty()) << all(problems);
            continue;
        }
        ASSERT_EQ(problems.size(), 1u) << all(problems);
        EXPECT_EQ(problems[0].field_path, it->second.field_path);
        EXPECT_EQ(problems[0].where.line, it->second.line);
        EXPECT_EQ(problems[0].where.column, it->second.column);
    }
    EXPECT_EQ(seen, expected.size());
}

TEST(Validation, TenValidAndThreeBrokenFilesGiveThreeErrors) {
    TempDir dir;
    for (int i = 0; i < 10; ++i) {
        const auto name = "valid-" + std::to_string(i);
        write_text(dir / (name + ".yaml"), "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n"
                                           "  name: " +
                                               name +
                                               "\nspec:\n  process:\n    matchPaths:\n"
                                               "      - path: /bin/sh\n  action: Block\n");
    }
    write_text(dir / "broken-action.yaml", document(ksp, "  action: audit\n"));
    write_text(dir / "broken-typo.yaml",
               "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorClusterPolicy\nmetadata:\n  name: typo\nspec:\n"
               "  file:\n    matchDirectories:\n      - dir: /etc/\n        recurive: true\n");
    write_text(dir / "broken-host.yaml", "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\n"
                                         "metadata:\n  name: host\nspec:\n  action: Audit\n");
    auto loaded = load_policy_files({dir.path()});
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().kind, ErrorKind::validation);
    const auto& details = loaded.error().details;
    ASSERT_EQ(details.size(), 3u);
    EXPECT_EQ(details[0], (dir / "broken-action.yaml").string() +
                              R"(:6:11: spec.action: unsupported value "audit": expected one of "Allow", "Audit", )"
                              R"("Block" (case-sensitive))");
    EXPECT_EQ(details[1].rfind((dir / "broken-host.yaml").string() + ":5:1: spec.nodeSelector: required field", 0), 0u)
        << details[1];
    EXPECT_EQ(details[2], (dir / "broken-typo.yaml").string() +
                              R"(:9:9: spec.file.matchDirectories[0].recurive: unknown field (did you mean )"
                              R"("recursive"?))");
}

// The validator's shortcut for string fields must agree with the full scalar resolution.
TEST(Validation, StringShortcutAgreesWithScalarResolution) {
    struct RootScalar final : policy::YamlNodeSink {
        int scalars = 0;
        void scalar(const policy::YamlScalar& s) override {
            ++scalars;
            EXPECT_EQ(policy::scalar_is_string(s), policy::scalar_value(s).is_string()) << s.text;
        }
        bool begin(const policy::YamlCollection&) override { return true; }
        void end() override {}
    };
    for (const std::string text :
         {"yes",    "FALSE", "Off",   "~",    "null", "Null",     "0x1F",    "1e3",      ".inf",
          "-.inf",  "+5",    "1_000", "0o17", ".nan", "1.2.3",    "/bin/sh", "true_ish", "offset",
          "abcdef", "y",     "-",     "--x",  "'5'",  "\"true\"", "!!str 5", "!!int 5",  "!local 5"}) {
        SCOPED_TRACE(text);
        policy::YamlEventReader reader(text);
        RootScalar sink;
        ASSERT_TRUE(reader.next(sink));
        EXPECT_EQ(sink.scalars, 1);
    }
}

}  // namespace
}  // namespace karmor
