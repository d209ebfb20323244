// SPEC §14 through the karmor binary, against a real Kubernetes API server (etcd and
// k8s.io/apiextensions-apiserver with KubeArmor's CRDs: tests/support/kube_api_server.hpp),
// with a real docker-registry. The server's audit log is how requests are counted.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/kube_api_server.hpp"
#include "support/local_registry.hpp"
#include "util/encoding.hpp"

namespace karmor {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::AuditEvent;
using testing::KubeApiServer;
using testing::read_text;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::string api = "/apis/security.kubearmor.com/v1";

std::string ksp(const std::string& name, const std::string& path, const std::string& ns = "web") {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name + "\n" +
           (ns.empty() ? "" : "  namespace: " + ns + "\n") +
           "spec:\n  severity: 5\n  message: null\n  selector:\n    matchLabels:\n      app: web\n"
           "  process:\n    matchPaths:\n      - path: " +
           path + "\n  action: Block\n";
}
const std::string hsp =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: audit-passwd\nspec:\n"
    "  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: vm-1\n  file:\n    matchPaths:\n"
    "      - path: /etc/passwd\n  action: Audit\n";
const std::string knp =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorNetworkPolicy\nmetadata:\n  name: allow-dns\nspec:\n"
    "  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: vm-1\n  egress:\n    - to:\n"
    "        - ipBlock:\n            cidr: 10.96.0.10/32\n      ports:\n        - protocol: UDP\n"
    "          port: \"53\"\n  action: Allow\n";
// Targets containers and nodes at once: the CRD's CEL rule refuses it, karmor's schema does not.
const std::string knp_both =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorNetworkPolicy\nmetadata:\n  name: both-targets\nspec:\n"
    "  selector:\n    matchLabels:\n      app: web\n  nodeSelector:\n    matchLabels:\n"
    "      kubernetes.io/hostname: vm-1\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n"
    "      limit: 10M\n      duration: 1s\n  action: Allow\n";
const std::string csp =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorClusterPolicy\nmetadata:\n  name: block-secrets\nspec:\n"
    "  selector:\n    matchExpressions:\n      - key: namespace\n        operator: NotIn\n        values:\n"
    "          - kube-system\n  file:\n    matchDirectories:\n      - dir: /run/secrets/\n  action: Block\n";

// Writes `files` into a new directory and pushes it to `image`.
void push_files(const std::string& image, const fs::path& dir, const std::map<std::string, std::string>& files) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& [name, text] : files) write_text(dir / name, text);
    const auto push = run_karmor({"oci", "push", "-i", image, "-p", dir.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
}

class KubeApply : public ::testing::Test {
protected:
    void SetUp() override {
        KARMOR_KUBE_API_SERVER(found);
        server = found;
        server->delete_all_policies();
        server->allow_everything();
        write_text(work / "kubeconfig", server->admin_kubeconfig());
        home = work / "home";
        fs::create_directories(home);
    }

    // The environment of a karmor run: this kubeconfig only, not a pod.
    std::map<std::string, std::string> env(const std::string& kubeconfig = {}) const {
        return {{"KUBECONFIG", kubeconfig.empty() ? (work / "kubeconfig").string() : kubeconfig},
                {"HOME", home.string()},
                {"KUBERNETES_SERVICE_HOST", ""},
                {"KUBERNETES_SERVICE_PORT", ""}};
    }

    testing::CommandResult apply(const std::string& image, std::vector<std::string> extra = {},
                                 const std::map<std::string, std::string>& environment = {}) const {
        std::vector<std::string> args{"oci", "apply", image, "--kube"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_karmor(args, {}, environment.empty() ? env() : environment);
    }

    // karmor's requests since the mark (the admin's own checks are the same user: taken before
    // the mark or after reading this).
    std::vector<AuditEvent> karmor_requests(const std::string& user = "karmor-admin") const {
        std::vector<AuditEvent> out;
        for (auto& event : server->audit_since_mark())
            if (event.user == user && event.uri.rfind("/apis/security.kubearmor.com/", 0) == 0) out.push_back(event);
        return out;
    }

    static std::vector<std::string> verbs(const std::vector<AuditEvent>& events) {
        std::vector<std::string> out;
        for (const auto& e : events) out.push_back(e.verb);
        return out;
    }

    static std::size_t writes(const std::vector<AuditEvent>& events) {
        std::size_t count = 0;
        for (const auto& e : events) count += e.verb != "get" && e.verb != "list" && e.verb != "watch" ? 1 : 0;
        return count;
    }

    KubeApiServer* server = nullptr;
    TempDir work;
    fs::path home;
};

TEST_F(KubeApply, CreatesWithProvenanceThenWritesNothingThenOnlyTheChangeAndPrunes) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1",
               {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"hsp.yaml", hsp}, {"csp.yaml", csp}, {"knp.yaml", knp}});

    auto v1 = apply(image);
    ASSERT_EQ(v1.exit_code, 0) << v1.err;
    EXPECT_EQ(v1.out, "KubeArmorClusterPolicy/block-secrets created\nKubeArmorHostPolicy/audit-passwd created\n"
                      "KubeArmorNetworkPolicy/allow-dns created\nKubeArmorPolicy/web/block-shell created\n");
    const auto object = server->get(api + "/namespaces/web/kubearmorpolicies/block-shell");
    ASSERT_TRUE(object.is_object());
    const auto& metadata = object["metadata"];
    EXPECT_EQ(metadata["labels"]["app.kubernetes.io/managed-by"], "karmor");
    EXPECT_EQ(metadata["labels"]["oci.kubearmor.io/set"], "team.policies");
    EXPECT_EQ(metadata["annotations"]["oci.kubearmor.io/tag"], "v1");
    const std::string digest = metadata["annotations"]["oci.kubearmor.io/digest"];
    EXPECT_EQ(digest.rfind("sha256:", 0), 0u);
    EXPECT_EQ(metadata["annotations"]["oci.kubearmor.io/reference"],
              registry->localhost() + "/team/policies@" + digest);
    EXPECT_EQ(object["spec"]["severity"], 5);
    EXPECT_FALSE(object["spec"].contains("message"));  // the null was not sent
    bool karmor_manages = false;
    for (const auto& field : metadata["managedFields"])
        karmor_manages |= field["manager"] == "karmor" && field["operation"] == "Apply";
    EXPECT_TRUE(karmor_manages) << metadata["managedFields"].dump();
    for (const auto& path :
         {api + "/kubearmorhostpolicies/audit-passwd", api + "/kubearmorclusterpolicies/block-secrets",
          api + "/kubearmornetworkpolicies/allow-dns"})
        EXPECT_EQ(server->get(path)["metadata"]["labels"]["oci.kubearmor.io/set"], "team.policies") << path;

    // The same artifact again: nothing written, four lists.
    server->mark_audit();
    auto again = apply(image, {"--output", "json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const auto report = Json::parse(again.out);
    for (const auto& policy : report["policies"]) EXPECT_EQ(policy["action"], "unchanged") << again.out;
    EXPECT_EQ(verbs(karmor_requests()), (std::vector<std::string>{"list", "list", "list", "list"}));
    EXPECT_EQ(report["requests"], 4);

    // v2: the KSP changed, the KNP gone; with --prune exactly those two written.
    const std::string v2_image = registry->localhost() + "/team/policies:v2";
    push_files(v2_image, work / "v2",
               {{"ksp.yaml", ksp("block-shell", "/bin/bash")}, {"hsp.yaml", hsp}, {"csp.yaml", csp}});
    server->mark_audit();
    auto v2 = apply(v2_image, {"--prune"});
    ASSERT_EQ(v2.exit_code, 0) << v2.err;
    EXPECT_EQ(v2.out, "KubeArmorClusterPolicy/block-secrets unchanged\nKubeArmorHostPolicy/audit-passwd unchanged\n"
                      "KubeArmorPolicy/web/block-shell configured\nKubeArmorNetworkPolicy/allow-dns pruned\n");
    EXPECT_EQ(writes(karmor_requests()), 2u);
    EXPECT_TRUE(server->get(api + "/kubearmornetworkpolicies/allow-dns").is_null());
    const auto changed = server->get(api + "/namespaces/web/kubearmorpolicies/block-shell");
    EXPECT_EQ(changed["spec"]["process"]["matchPaths"][0]["path"], "/bin/bash");
    EXPECT_EQ(changed["metadata"]["annotations"]["oci.kubearmor.io/tag"], "v2");
}

TEST_F(KubeApply, WithoutPruneWarnsAndAnotherSetIsNeverPruned) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string first = registry->localhost() + "/team/first:v1";
    const std::string second = registry->localhost() + "/team/second:v1";
    push_files(first, work / "a", {{"a.yaml", ksp("from-first", "/bin/sh")}});
    push_files(second, work / "b", {{"b.yaml", ksp("from-second", "/bin/sh")}});
    ASSERT_EQ(apply(first).exit_code, 0);
    ASSERT_EQ(apply(second, {"--prune"}).exit_code, 0);
    EXPECT_TRUE(server->get(api + "/namespaces/web/kubearmorpolicies/from-first").is_object());

    push_files(first, work / "a", {{"a.yaml", ksp("renamed", "/bin/sh")}});
    auto warned = apply(first);
    EXPECT_EQ(warned.exit_code, 0) << warned.err;
    EXPECT_NE(warned.err.find("KubeArmorPolicy/web/from-first is of the set \"team.first\" and no longer in the "
                              "artifact; --prune deletes it"),
              std::string::npos)
        << warned.err;
    EXPECT_TRUE(server->get(api + "/namespaces/web/kubearmorpolicies/from-first").is_object());
}

TEST_F(KubeApply, RefusesAnObjectKarmorDoesNotManageUnlessForced) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1", {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"hsp.yaml", hsp}});
    // Created by hand, as `kubectl create` would: no labels, another field manager.
    const std::string by_hand =
        R"({"apiVersion":"security.kubearmor.com/v1","kind":"KubeArmorPolicy","metadata":{"name":"block-shell",)"
        R"("namespace":"web"},"spec":{"selector":{"matchLabels":{"app":"shop"}},"process":{"matchPaths":)"
        R"([{"path":"/bin/zsh"}]},"action":"Audit"}})";
    ASSERT_EQ(
        server->request("POST", api + "/namespaces/web/kubearmorpolicies?fieldManager=kubectl-create", by_hand).status,
        201);

    auto refused = apply(image);
    EXPECT_EQ(refused.exit_code, 9) << refused.err;
    EXPECT_NE(refused.err.find("KubeArmorPolicy/web/block-shell already exists in the cluster and karmor does not "
                               "manage it"),
              std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("kubectl-create"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--force-conflicts"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.out, "KubeArmorHostPolicy/audit-passwd created\n");
    auto untouched = server->get(api + "/namespaces/web/kubearmorpolicies/block-shell");
    EXPECT_FALSE(untouched["metadata"].contains("labels"));
    EXPECT_EQ(untouched["spec"]["action"], "Audit");

    auto forced = apply(image, {"--force-conflicts"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_NE(forced.out.find("KubeArmorPolicy/web/block-shell configured"), std::string::npos) << forced.out;
    auto taken = server->get(api + "/namespaces/web/kubearmorpolicies/block-shell");
    EXPECT_EQ(taken["metadata"]["labels"]["oci.kubearmor.io/set"], "team.policies");
    EXPECT_EQ(taken["spec"]["action"], "Block");
    EXPECT_EQ(taken["spec"]["process"]["matchPaths"][0]["path"], "/bin/sh");
}

// The API server's own checks beyond the schema: annotations over 256 KiB in all. karmor's
// validation does not count them; the server refuses the object with 422.
std::string hsp_with_annotation(std::size_t bytes) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: big-note\n"
           "  annotations:\n    note: \"" +
           std::string(bytes, 'x') +
           "\"\nspec:\n  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: vm-1\n  file:\n"
           "    matchPaths:\n      - path: /etc/shadow\n  action: Audit\n";
}

TEST_F(KubeApply, APolicyTheServerRefusesIsNamedWithItsFileAndTheOthersApply) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(
        image, work / "v1",
        {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"hsp.yaml", hsp}, {"big.yaml", hsp_with_annotation(300'000)}});
    auto first = apply(image);
    EXPECT_EQ(first.exit_code, 9) << first.err;
    EXPECT_NE(first.err.find("hsp-big-note.yaml: KubeArmorHostPolicy/big-note: the API server at " + server->url() +
                             " refused kubearmorhostpolicies.security.kubearmor.com/big-note (422 Invalid)"),
              std::string::npos)
        << first.err;
    EXPECT_NE(first.err.find("metadata.annotations: Too long"), std::string::npos) << first.err;
    EXPECT_EQ(first.out, "KubeArmorHostPolicy/audit-passwd created\nKubeArmorPolicy/web/block-shell created\n");
    EXPECT_TRUE(server->get(api + "/kubearmorhostpolicies/big-note").is_null());

    // Again: the others are unchanged, only the refused one is sent; fixed, it converges.
    server->mark_audit();
    auto second = apply(image);
    EXPECT_EQ(second.exit_code, 9) << second.err;
    EXPECT_EQ(writes(karmor_requests()), 1u);
    push_files(
        image, work / "v1",
        {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"hsp.yaml", hsp}, {"big.yaml", hsp_with_annotation(1000)}});
    auto fixed = apply(image);
    EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
    EXPECT_NE(fixed.out.find("KubeArmorHostPolicy/big-note created"), std::string::npos) << fixed.out;
}

// The CRD's CEL rules are karmor's validation too: a policy they forbid (pushed with
// --skip-validation) stops the apply before anything reaches the cluster.
TEST_F(KubeApply, APolicyTheCrdsCelRuleForbidsIsRefusedBeforeAnyWrite) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/cel:v1";
    fs::create_directories(work / "cel");
    write_text(work / "cel" / "ksp.yaml", ksp("block-shell", "/bin/sh"));
    write_text(work / "cel" / "both.yaml", knp_both);
    ASSERT_EQ(run_karmor({"oci", "push", "-i", image, "-p", (work / "cel").string(), "--skip-validation"}).exit_code,
              0);
    server->mark_audit();
    auto refused = apply(image);
    EXPECT_EQ(refused.exit_code, 3) << refused.err;
    EXPECT_NE(refused.err.find("A policy cannot target both containers and host nodes"), std::string::npos)
        << refused.err;
    EXPECT_TRUE(karmor_requests().empty());
    EXPECT_TRUE(server->get(api + "/namespaces/web/kubearmorpolicies/block-shell").is_null());
}

TEST_F(KubeApply, VerificationFailureWritesNothingToTheCluster) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/signed:v1";
    push_files(image, work / "v1", {{"ksp.yaml", ksp("block-shell", "/bin/sh")}});
    for (const std::string name : {"signer", "stranger"}) {
        ASSERT_EQ(run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                               (work / (name + ".key")).string()})
                      .exit_code,
                  0);
        ASSERT_EQ(run_command({"openssl", "pkey", "-in", (work / (name + ".key")).string(), "-pubout", "-out",
                               (work / (name + ".pub")).string()})
                      .exit_code,
                  0);
    }
    ASSERT_EQ(run_karmor({"oci", "sign", "-i", image, "--key", (work / "signer.key").string()}).exit_code, 0);
    server->mark_audit();
    auto refused = apply(image, {"--verify-key", (work / "stranger.pub").string()});
    EXPECT_EQ(refused.exit_code, 8) << refused.err;
    EXPECT_TRUE(karmor_requests().empty());
    EXPECT_TRUE(server->get(api + "/namespaces/web/kubearmorpolicies/block-shell").is_null());
    auto verified = apply(image, {"--verify-key", (work / "signer.pub").string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    EXPECT_TRUE(server->get(api + "/namespaces/web/kubearmorpolicies/block-shell").is_object());
}

TEST_F(KubeApply, AnUnchangedApplyOfTenPoliciesSendsNoWrite) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/ten:v1";
    std::map<std::string, std::string> files;
    for (int i = 0; i < 10; ++i)
        files["p" + std::to_string(i) + ".yaml"] = ksp("policy-" + std::to_string(i), "/bin/sh");
    push_files(image, work / "ten", files);
    server->mark_audit();
    auto first = apply(image);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    // Four lists of the set, a GET for each new name, a PATCH each.
    EXPECT_EQ(writes(karmor_requests()), 10u);
    server->mark_audit();
    auto second = apply(image);
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const auto events = karmor_requests();
    EXPECT_EQ(writes(events), 0u);
    EXPECT_EQ(events.size(), 4u);
    EXPECT_NE(second.err.find("0 created, 0 configured, 10 unchanged, 0 pruned, 0 refused; 4 requests"),
              std::string::npos)
        << second.err;
}

TEST_F(KubeApply, DryRunWritesNothingAndServerDryRunAsksTheServer) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1",
               {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"big.yaml", hsp_with_annotation(300'000)}});
    server->mark_audit();
    auto client = apply(image, {"--dry-run"});
    EXPECT_EQ(client.exit_code, 0) << client.err;
    EXPECT_NE(client.out.find("KubeArmorPolicy/web/block-shell created (dry run)"), std::string::npos) << client.out;
    EXPECT_EQ(writes(karmor_requests()), 0u);

    server->mark_audit();
    auto at_server = apply(image, {"--dry-run=server"});
    EXPECT_EQ(at_server.exit_code, 9) << at_server.err;  // the server's checks ran: it refuses one
    EXPECT_NE(at_server.out.find("KubeArmorPolicy/web/block-shell created (server dry run)"), std::string::npos)
        << at_server.out;
    for (const auto& event : karmor_requests())
        if (event.verb == "patch") {
            EXPECT_NE(event.uri.find("dryRun=All"), std::string::npos) << event.uri;
        }
    EXPECT_TRUE(server->get(api + "/namespaces/web/kubearmorpolicies/block-shell").is_null());
}

TEST_F(KubeApply, NamespaceComesFromTheFlagThenTheContext) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1", {{"ksp.yaml", ksp("no-namespace", "/bin/sh", "")}});
    auto config = server->admin_kubeconfig();
    config += "    namespace: from-context\n";
    write_text(work / "ns.kubeconfig", config);
    auto context = apply(image, {}, env((work / "ns.kubeconfig").string()));
    EXPECT_EQ(context.exit_code, 0) << context.err;
    EXPECT_TRUE(server->get(api + "/namespaces/from-context/kubearmorpolicies/no-namespace").is_object());
    auto flag = apply(image, {"--namespace", "from-flag"});
    EXPECT_EQ(flag.exit_code, 0) << flag.err;
    EXPECT_TRUE(server->get(api + "/namespaces/from-flag/kubearmorpolicies/no-namespace").is_object());
}

// --- Connection, as kubectl makes it ---

std::string b64(const std::string& text) {
    return util::base64_encode(text);
}

TEST_F(KubeApply, KubeconfigWithInlineDataAndTwoFilesAndContexts) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1", {{"hsp.yaml", hsp}});
    // File one: the contexts, current-context "down" (nothing listens there). File two: the
    // clusters and users, with data inline, and its own current-context, which loses the merge.
    write_text(work / "one.yaml", "apiVersion: v1\nkind: Config\ncurrent-context: down\ncontexts:\n"
                                  "- name: down\n  context:\n    cluster: nowhere\n    user: admin\n"
                                  "- name: up\n  context:\n    cluster: test\n    user: admin\n");
    write_text(work / "two.yaml", "apiVersion: v1\nkind: Config\ncurrent-context: up\nclusters:\n- name: test\n"
                                  "  cluster:\n    server: " +
                                      server->url() +
                                      "\n    certificate-authority-data: " + b64(read_text(server->ca())) +
                                      "\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:1\n"
                                      "users:\n- name: admin\n  user:\n    client-certificate-data: " +
                                      b64(read_text(server->admin_cert())) +
                                      "\n    client-key-data: " + b64(read_text(server->admin_key())) + "\n");
    const auto both =
        env((work / "one.yaml").string() + ":" + (work / "missing.yaml").string() + ":" + (work / "two.yaml").string());
    auto down = apply(image, {}, both);
    EXPECT_EQ(down.exit_code, 6) << down.err;
    EXPECT_NE(down.err.find("cannot connect to the Kubernetes API server at https://127.0.0.1:1 (context \"down\""),
              std::string::npos)
        << down.err;
    auto up = apply(image, {"--context", "up"}, both);
    EXPECT_EQ(up.exit_code, 0) << up.err;
    EXPECT_EQ(up.out, "KubeArmorHostPolicy/audit-passwd created\n");
    auto unknown = apply(image, {"--context", "nope"}, both);
    EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
    EXPECT_NE(unknown.err.find("the contexts there are: down, up"), std::string::npos) << unknown.err;
}

TEST_F(KubeApply, ExecPluginsGiveACertificateOrAToken) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1", {{"hsp.yaml", hsp}});
    // v1, a client certificate; it counts its runs and checks what karmor told it.
    const auto cert = Json(read_text(server->admin_cert())).dump();
    const auto key = Json(read_text(server->admin_key())).dump();
    write_text(work / "cert-plugin",
               "#!/bin/sh\necho run >> \"$(dirname \"$0\")/cert-runs\"\n"
               "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*'\"server\":\"" +
                   server->url() +
                   "\"'*) ;; *) echo \"unexpected KUBERNETES_EXEC_INFO: $KUBERNETES_EXEC_INFO\" >&2; exit 3;; esac\n"
                   "cat <<EOF\n{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                   "\"status\":{\"clientCertificateData\":" +
                   cert + ",\"clientKeyData\":" + key + ",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}\nEOF\n");
    ::chmod((work / "cert-plugin").c_str(), 0755);
    write_text(work / "exec.kubeconfig",
               "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: t\n  cluster:\n    server: " +
                   server->url() + "\n    certificate-authority: " + server->ca().string() +
                   "\ncontexts:\n- name: c\n  context:\n    cluster: t\n    user: u\nusers:\n- name: u\n  user:\n"
                   "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./cert-plugin\n"
                   "      interactiveMode: Never\n      provideClusterInfo: true\n");
    auto by_cert = apply(image, {}, env((work / "exec.kubeconfig").string()));
    EXPECT_EQ(by_cert.exit_code, 0) << by_cert.err;
    EXPECT_EQ(read_text(work / "cert-runs"), "run\n");  // once for all the requests of the run

    // v1beta1, a token the webhook knows; a wrong apiVersion in the answer is refused.
    server->add_token("exec-token-1", "exec-user", true);
    write_text(work / "token-plugin", "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/" +
                                          std::string("v1beta1") +
                                          "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token-1\"}}'\n");
    ::chmod((work / "token-plugin").c_str(), 0755);
    auto config = read_text(work / "exec.kubeconfig");
    config.replace(config.find("client.authentication.k8s.io/v1\n"), 32, "client.authentication.k8s.io/v1beta1\n");
    config.replace(config.find("./cert-plugin"), 13, (work / "token-plugin").string());
    write_text(work / "token.kubeconfig", config);
    server->mark_audit();
    auto by_token = apply(image, {}, env((work / "token.kubeconfig").string()));
    EXPECT_EQ(by_token.exit_code, 0) << by_token.err;
    EXPECT_EQ(karmor_requests("exec-user").size(), 4u);

    config.replace(config.find("client.authentication.k8s.io/v1beta1\n"), 37, "client.authentication.k8s.io/v1\n");
    write_text(work / "mismatch.kubeconfig", config);
    auto mismatch = apply(image, {}, env((work / "mismatch.kubeconfig").string()));
    EXPECT_EQ(mismatch.exit_code, 5) << mismatch.err;
    EXPECT_NE(mismatch.err.find("answered apiVersion \"client.authentication.k8s.io/v1beta1\", not "
                                "client.authentication.k8s.io/v1"),
              std::string::npos)
        << mismatch.err;
    EXPECT_EQ(mismatch.err.find("exec-token-1"), std::string::npos) << mismatch.err;
}

TEST_F(KubeApply, InClusterServiceAccountWithATokenReadEachTime) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1", {{"ksp.yaml", ksp("in-pod", "/bin/sh", "")}});
    const auto account = work / "serviceaccount";
    fs::create_directories(account);
    fs::copy_file(server->ca(), account / "ca.crt");
    write_text(account / "namespace", "team-ns");
    write_text(account / "token", "sa-token-1\n");
    server->add_token("sa-token-1", "system:serviceaccount:team-ns:karmor", true);
    const std::map<std::string, std::string> pod{{"KUBECONFIG", ""},
                                                 {"HOME", home.string()},
                                                 {"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                                                 {"KUBERNETES_SERVICE_PORT", std::to_string(server->port())},
                                                 {"KARMOR_SERVICE_ACCOUNT_DIR", account.string()}};
    auto first = apply(image, {}, pod);
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_TRUE(server->get(api + "/namespaces/team-ns/kubearmorpolicies/in-pod").is_object());
    // The token rotated: the old one is refused (401), the new one read.
    write_text(account / "token", "sa-token-2\n");
    auto rotated_unknown = apply(image, {}, pod);
    EXPECT_EQ(rotated_unknown.exit_code, 5) << rotated_unknown.err;
    EXPECT_NE(rotated_unknown.err.find("401 Unauthorized"), std::string::npos) << rotated_unknown.err;
    EXPECT_EQ(rotated_unknown.err.find("sa-token-2"), std::string::npos) << rotated_unknown.err;
    server->add_token("sa-token-2", "system:serviceaccount:team-ns:karmor", true);
    auto rotated = apply(image, {}, pod);
    EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
}

TEST_F(KubeApply, TheErrorsAClusterGives) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/policies:v1";
    push_files(image, work / "v1", {{"hsp.yaml", hsp}});
    const auto with_cluster = [&](const std::string& cluster_lines, const std::string& user_lines) {
        return "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: t\n  cluster:\n" + cluster_lines +
               "contexts:\n- name: c\n  context:\n    cluster: t\n    user: u\nusers:\n- name: u\n  user:\n" +
               user_lines;
    };
    const std::string admin_user = "    client-certificate: " + server->admin_cert().string() +
                                   "\n    client-key: " + server->admin_key().string() + "\n";
    const auto run_with = [&](const std::string& text) {
        write_text(work / "case.kubeconfig", text);
        return apply(image, {}, env((work / "case.kubeconfig").string()));
    };

    auto wrong_ca = run_with(with_cluster("    server: " + server->url() +
                                              "\n    certificate-authority: " + server->other_ca().string() + "\n",
                                          admin_user));
    EXPECT_EQ(wrong_ca.exit_code, 6) << wrong_ca.err;
    EXPECT_NE(wrong_ca.err.find("did not verify against " + server->other_ca().string()), std::string::npos)
        << wrong_ca.err;

    auto unreachable = run_with(with_cluster("    server: https://127.0.0.1:1\n", admin_user));
    EXPECT_EQ(unreachable.exit_code, 6) << unreachable.err;
    EXPECT_NE(unreachable.err.find("cannot connect to the Kubernetes API server at https://127.0.0.1:1"),
              std::string::npos)
        << unreachable.err;

    // tls-server-name: the serving certificate names 127.0.0.1 and kube.test, not localhost.
    const std::string by_name = "    server: https://localhost:" + std::to_string(server->port()) +
                                "\n    certificate-authority: " + server->ca().string() + "\n";
    auto name_mismatch = run_with(with_cluster(by_name, admin_user));
    EXPECT_EQ(name_mismatch.exit_code, 6) << name_mismatch.err;
    EXPECT_NE(name_mismatch.err.find("did not verify"), std::string::npos) << name_mismatch.err;
    auto server_name = run_with(with_cluster(by_name + "    tls-server-name: kube.test\n", admin_user));
    EXPECT_EQ(server_name.exit_code, 0) << server_name.err;

    auto insecure =
        run_with(with_cluster("    server: " + server->url() + "\n    insecure-skip-tls-verify: true\n", admin_user));
    EXPECT_EQ(insecure.exit_code, 0) << insecure.err;

    auto provider = run_with(
        with_cluster("    server: " + server->url() + "\n", "    auth-provider:\n      name: gcp\n      config: {}\n"));
    EXPECT_EQ(provider.exit_code, 2) << provider.err;
    EXPECT_NE(provider.err.find("uses the auth-provider \"gcp\""), std::string::npos) << provider.err;
    EXPECT_NE(provider.err.find("gke-gcloud-auth-plugin"), std::string::npos) << provider.err;

    const std::string ca_line =
        "    server: " + server->url() + "\n    certificate-authority: " + server->ca().string() + "\n";
    auto unknown_token = run_with(with_cluster(ca_line, "    token: not-a-known-token\n"));
    EXPECT_EQ(unknown_token.exit_code, 5) << unknown_token.err;
    EXPECT_NE(unknown_token.err.find("(401 Unauthorized)"), std::string::npos) << unknown_token.err;
    EXPECT_EQ(unknown_token.err.find("not-a-known-token"), std::string::npos) << unknown_token.err;

    // The user may list but not patch: 403 names the verb and the resource.
    auto limited = run_with(with_cluster(ca_line, "    client-certificate: " + server->limited_cert().string() +
                                                      "\n    client-key: " + server->limited_key().string() + "\n"));
    EXPECT_EQ(limited.exit_code, 0) << limited.err;  // the webhook allows everything but what it is told
    server->deny("limited", "patch");
    push_files(image, work / "v1", {{"hsp.yaml", hsp}, {"csp.yaml", csp}});
    auto forbidden = run_with(with_cluster(ca_line, "    client-certificate: " + server->limited_cert().string() +
                                                        "\n    client-key: " + server->limited_key().string() + "\n"));
    EXPECT_EQ(forbidden.exit_code, 5) << forbidden.err;
    EXPECT_NE(forbidden.err.find("forbids patch on kubearmorclusterpolicies.security.kubearmor.com/block-secrets"),
              std::string::npos)
        << forbidden.err;
    EXPECT_NE(forbidden.err.find("stopped half-way: 0 done"), std::string::npos) << forbidden.err;

    auto basic = run_with(with_cluster(ca_line, "    username: someone\n    password: secret-pw\n"));
    // The server takes no basic authentication: the request is anonymous, which is forbidden.
    EXPECT_EQ(basic.exit_code, 5) << basic.err;
    EXPECT_EQ(basic.err.find("secret-pw"), std::string::npos) << basic.err;
}

// docs/kubernetes.md's ClusterRole: get, list, create, patch and delete are all apply --prune
// needs (a server-side apply that creates an object is authorized as patch and as create).
TEST_F(KubeApply, TheLeastRbacOfTheDocsIsEnough) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/least:v1";
    push_files(image, work / "v1", {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"hsp.yaml", hsp}});
    write_text(work / "limited.kubeconfig",
               "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: t\n  cluster:\n    server: " +
                   server->url() + "\n    certificate-authority: " + server->ca().string() +
                   "\ncontexts:\n- name: c\n  context:\n    cluster: t\n    user: u\nusers:\n- name: u\n  user:\n"
                   "    client-certificate: " +
                   server->limited_cert().string() + "\n    client-key: " + server->limited_key().string() + "\n");
    const auto limited = env((work / "limited.kubeconfig").string());
    server->deny("limited", "create");
    auto without_create = apply(image, {}, limited);
    EXPECT_EQ(without_create.exit_code, 5) << without_create.err;
    EXPECT_NE(without_create.err.find("forbids create on kubearmorhostpolicies.security.kubearmor.com/audit-passwd"),
              std::string::npos)
        << without_create.err;

    server->allow_everything();
    for (const std::string verb : {"update", "deletecollection", "watch", "escalate", "bind"})
        server->deny("limited", verb);
    auto created = apply(image, {}, limited);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    EXPECT_EQ(created.out, "KubeArmorHostPolicy/audit-passwd created\nKubeArmorPolicy/web/block-shell created\n");
    push_files(image, work / "v1", {{"ksp.yaml", ksp("block-shell", "/bin/bash")}});
    auto pruned = apply(image, {"--prune"}, limited);
    EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
    EXPECT_EQ(pruned.out, "KubeArmorPolicy/web/block-shell configured\nKubeArmorHostPolicy/audit-passwd pruned\n");
}

TEST_F(KubeApply, FollowOnceAppliesEachChange) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/team/followed:prod";
    push_files(image, work / "v1", {{"ksp.yaml", ksp("block-shell", "/bin/sh")}, {"hsp.yaml", hsp}});
    const std::vector<std::string> follow{"oci",    "follow",  "-i",     image,    "-o", (work / "out").string(),
                                          "--once", "--apply", "--kube", "--prune"};
    auto first = run_karmor(follow, {}, env());
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.out.find("KubeArmorPolicy/web/block-shell created"), std::string::npos) << first.out;
    EXPECT_EQ(server->get(api + "/kubearmorhostpolicies/audit-passwd")["metadata"]["labels"]["oci.kubearmor.io/set"],
              "team.followed");

    push_files(image, work / "v2", {{"ksp.yaml", ksp("block-shell", "/bin/bash")}});
    server->mark_audit();
    auto second = run_karmor(follow, {}, env());
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(second.out.find("KubeArmorPolicy/web/block-shell configured"), std::string::npos) << second.out;
    EXPECT_NE(second.out.find("KubeArmorHostPolicy/audit-passwd pruned"), std::string::npos) << second.out;
    EXPECT_EQ(writes(karmor_requests()), 2u);
    EXPECT_TRUE(server->get(api + "/kubearmorhostpolicies/audit-passwd").is_null());
    EXPECT_EQ(
        server->get(api +
                    "/namespaces/web/kubearmorpolicies/block-shell")["metadata"]["annotations"]["oci.kubearmor.io/tag"],
        "prod");
}

// With --semver the annotation names the version chosen, as follow's report and
// KARMOR_REFERENCE do (REPO:TAG@DIGEST), not the tag REF happens to carry.
TEST_F(KubeApply, FollowSemverAnnotatesTheChosenVersion) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string repository = registry->localhost() + "/team/versioned";
    push_files(repository + ":1.2.0", work / "v1", {{"ksp.yaml", ksp("block-shell", "/bin/sh")}});
    push_files(repository + ":1.10.1", work / "v2", {{"ksp.yaml", ksp("block-shell", "/bin/bash")}});
    push_files(repository + ":2.0.0", work / "v3", {{"ksp.yaml", ksp("block-shell", "/bin/dash")}});
    auto followed = run_karmor({"oci", "follow", "-i", repository, "-o", (work / "out").string(), "--once",
                                "--semver", "^1", "--apply", "--kube"},
                               {}, env());
    ASSERT_EQ(followed.exit_code, 0) << followed.err;
    const auto annotations =
        server->get(api + "/namespaces/web/kubearmorpolicies/block-shell")["metadata"]["annotations"];
    EXPECT_EQ(annotations["oci.kubearmor.io/tag"], "1.10.1") << annotations.dump();
    EXPECT_EQ(annotations["oci.kubearmor.io/reference"].get<std::string>().rfind(repository + "@sha256:", 0), 0u)
        << annotations.dump();
}

}  // namespace
}  // namespace karmor

namespace karmor {
namespace {

// What no real API server does on demand: 429 and 503 with Retry-After, a 403 half-way, the
// CRDs missing. A scripted server in plain HTTP (the kubeconfig's server is http://).
class KubeFaults : public ::testing::Test {
protected:
    void SetUp() override {
        KARMOR_REQUIRE_PROGRAM("docker-registry");
        std::string error;
        registry = testing::LocalRegistry::start(testing::RegistryConfig{}, error);
        ASSERT_TRUE(registry) << error;
        image = registry->localhost() + "/team/faults:v1";
        push_files(image, work / "v1",
                   {{"a.yaml", ksp("a", "/bin/sh")}, {"b.yaml", ksp("b", "/bin/sh")}, {"c.yaml", ksp("c", "/bin/sh")}});
    }
    testing::CommandResult apply_to(const testing::HttpServer& server) {
        write_text(work / "kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n"
                                        "  cluster:\n    server: " +
                                            server.url() +
                                            "\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
                                            "users:\n- name: u\n  user:\n    token: scripted-token\n");
        return run_karmor({"oci", "apply", image, "--kube"}, {},
                          {{"KUBECONFIG", (work / "kubeconfig").string()}, {"KUBERNETES_SERVICE_HOST", ""}});
    }
    static testing::ServedResponse status(int code, const std::string& reason, const std::string& message) {
        return {code,
                {{"Content-Type", "application/json"}},
                R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":")" + reason + R"(","message":")" +
                    message + R"(","code":)" + std::to_string(code) + "}"};
    }
    TempDir work;
    std::unique_ptr<testing::LocalRegistry> registry;
    std::string image;
};

TEST_F(KubeFaults, RetriesWhatTheServerAsksToBeRetriedAndReportsAHalfWayStop) {
    int lists = 0;
    int patches = 0;
    testing::HttpServer server([&](const testing::ServedRequest& request) -> testing::ServedResponse {
        if (request.method == "GET" && request.target.find("labelSelector=") != std::string::npos) {
            ++lists;
            if (lists == 1) return {429, {{"Retry-After", "1"}}, "slow down"};
            if (lists == 2) return {503, {{"Retry-After", "0"}}, "busy"};
            return {200, {{"Content-Type", "application/json"}}, R"({"kind":"List","items":[],"metadata":{}})"};
        }
        if (request.method == "GET") return status(404, "NotFound", "not found");
        if (request.method == "PATCH") {
            ++patches;
            if (patches == 1) return {201, {{"Content-Type", "application/json"}}, "{}"};
            return status(403, "Forbidden", "user cannot patch resource");
        }
        return {500, {}, ""};
    });
    auto result = apply_to(server);
    EXPECT_EQ(result.exit_code, 5) << result.err;
    EXPECT_EQ(result.out, "KubeArmorPolicy/web/a created\n");
    EXPECT_NE(result.err.find("forbids patch on kubearmorpolicies.security.kubearmor.com/b in namespace web"),
              std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("stopped half-way: 1 done (listed above), 2 not attempted: KubeArmorPolicy/web/b, "
                              "KubeArmorPolicy/web/c"),
              std::string::npos)
        << result.err;
    EXPECT_EQ(lists, 6);  // the first list three times (429, 503, 200), the other three kinds once
    for (const auto& request : server.requests()) {
        EXPECT_EQ(request.header("authorization"), "Bearer scripted-token");
        if (request.method == "PATCH") {
            EXPECT_EQ(request.header("content-type"), "application/apply-patch+yaml");
            EXPECT_NE(request.target.find("fieldManager=karmor"), std::string::npos) << request.target;
        }
    }
    EXPECT_EQ(result.err.find("scripted-token"), std::string::npos) << result.err;
}

TEST_F(KubeFaults, CrdsMissingAndServerErrorsThatAreNotRetried) {
    testing::HttpServer missing([&](const testing::ServedRequest&) {
        return status(404, "NotFound", "the server could not find the requested resource");
    });
    auto no_crds = apply_to(missing);
    EXPECT_EQ(no_crds.exit_code, 4) << no_crds.err;
    EXPECT_NE(no_crds.err.find("does not serve kubearmorpolicies.security.kubearmor.com: KubeArmor's custom resource "
                               "definitions are not installed"),
              std::string::npos)
        << no_crds.err;
    EXPECT_EQ(missing.requests().size(), 1u);

    testing::HttpServer failing([&](const testing::ServedRequest&) { return status(500, "InternalError", "boom"); });
    auto failed = apply_to(failing);
    EXPECT_EQ(failed.exit_code, 6) << failed.err;
    EXPECT_EQ(failing.requests().size(), 1u);  // a 500 without Retry-After is not retried (client-go's rule)
}

}  // namespace
}  // namespace karmor
