// src/kube/: kubeconfig loading and merging, exec credentials, the objects karmor applies.
#include <gtest/gtest.h>

#include <map>

#include "kube/connection.hpp"
#include "kube/exec_credential.hpp"
#include "kube/objects.hpp"
#include "support/process.hpp"
#include "util/encoding.hpp"

namespace karmor::kube {
namespace {

using testing::TempDir;
using testing::write_text;
using Json = nlohmann::json;

struct Environment {
    std::map<std::string, std::string> values;
    Getenv getenv() const {
        return [this](const char* name) -> const char* {
            const auto found = values.find(name);
            return found == values.end() ? nullptr : found->second.c_str();
        };
    }
};

Result<Connection> load(const Environment& env, KubeConnectionOptions options = {}) {
    return load_connection(options, env.getenv());
}

TEST(Kubeconfig, MergesAListAsKubectlDoesFirstFileWins) {
    TempDir dir;
    write_text(dir / "a",
               "current-context: first\ncontexts:\n- name: first\n  context: {cluster: one, user: u, "
               "namespace: team}\nclusters:\n- name: one\n  cluster: {server: 'https://one.example:6443'}\n");
    write_text(dir / "b", "current-context: second\ncontexts:\n- name: second\n  context: {cluster: one, user: u}\n"
                          "clusters:\n- name: one\n  cluster: {server: 'https://shadowed.example'}\nusers:\n- name: u\n"
                          "  user: {token: abc, tokenFile: ''}\n");
    Environment env{
        {{"KUBECONFIG", (dir / "a").string() + "::" + (dir / "missing").string() + ":" + (dir / "b").string()}}};
    auto connection = load(env);
    ASSERT_TRUE(connection) << connection.error().message;
    EXPECT_EQ(connection->context, "first");
    EXPECT_EQ(connection->server, "https://one.example:6443");
    EXPECT_EQ(connection->namespace_name, "team");
    EXPECT_EQ(connection->token, "abc");

    KubeConnectionOptions second;
    second.context = "second";
    auto other = load(env, second);
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(other->server, "https://one.example:6443");  // the cluster "one" of the first file
    EXPECT_EQ(other->namespace_name, "");
}

TEST(Kubeconfig, RelativePathsAreRelativeToTheFileAndDataIsBase64) {
    TempDir dir;
    write_text(dir / "conf" / "ca.pem", "CA PEM");
    write_text(dir / "conf" / "token", "t\n");
    write_text(
        dir / "conf" / "config",
        "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n"
        "  cluster:\n    server: kube.example:443/\n    certificate-authority: ca.pem\n    tls-server-name: api\n"
        "    proxy-url: socks5://proxy:1080\nusers:\n- name: u\n  user:\n    tokenFile: token\n"
        "    client-certificate-data: " +
            util::base64_encode("CERT") + "\n    client-key-data: " + util::base64_encode("KEY") + "\n");
    KubeConnectionOptions options;
    options.kubeconfig = (dir / "conf" / "config").string();
    auto connection = load(Environment{{{"KUBECONFIG", "/nonexistent"}}}, options);
    ASSERT_TRUE(connection) << connection.error().message;
    EXPECT_EQ(connection->server, "https://kube.example:443");
    EXPECT_EQ(connection->ca_pem, "CA PEM");
    EXPECT_EQ(connection->ca_origin, (dir / "conf" / "ca.pem").string());
    EXPECT_EQ(connection->token_file, dir / "conf" / "token");
    EXPECT_EQ(connection->cert_pem, "CERT");
    EXPECT_EQ(connection->key_pem, "KEY");
    EXPECT_EQ(connection->tls_server_name, "api");
    EXPECT_EQ(connection->proxy_url, "socks5://proxy:1080");
}

struct BadCase {
    std::string name;
    std::string user_or_cluster;  // appended to a kubeconfig whose user "u" and cluster "k" are below
    std::string expected;
};

TEST(Kubeconfig, RefusesWhatKubectlRefusesAndWhatKarmorDoesNotDo) {
    const std::string base = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n";
    const std::string cluster = "clusters:\n- name: k\n  cluster: {server: 'https://k'}\n";
    const std::vector<BadCase> cases{
        {"auth-provider", cluster + "users:\n- name: u\n  user:\n    auth-provider: {name: oidc}\n",
         "uses the auth-provider \"oidc\""},
        {"v1alpha1",
         cluster + "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, "
                   "command: x}\n",
         "v1alpha1 is no longer supported"},
        {"v1 without interactiveMode",
         cluster + "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}\n",
         "interactiveMode: is required"},
        {"token and basic", cluster + "users:\n- name: u\n  user: {token: t, username: a, password: b}\n",
         "both a token and a username/password"},
        {"insecure with a CA",
         "clusters:\n- name: k\n  cluster: {server: 'https://k', insecure-skip-tls-verify: true, "
         "certificate-authority-data: " +
             util::base64_encode("x") + "}\nusers:\n- name: u\n  user: {}\n",
         "insecure-skip-tls-verify is set together with a certificate authority"},
        {"certificate without key",
         cluster + "users:\n- name: u\n  user: {client-certificate-data: " + util::base64_encode("x") + "}\n",
         "client certificate without its key"},
        {"wrong type", "clusters:\n- name: k\n  cluster: {server: [1]}\nusers:\n- name: u\n  user: {}\n",
         "clusters[0].cluster.server: must be a string"},
        {"duplicate key", "clusters:\n- name: k\n  cluster: {server: 'https://a', server: 'https://b'}\n", "server"},
        {"unknown cluster", "users:\n- name: u\n  user: {}\n",
         "names the cluster \"k\", which no kubeconfig file defines"},
        {"impersonation", cluster + "users:\n- name: u\n  user: {as: admin}\n", "impersonation"},
        {"two documents", cluster + "users:\n- name: u\n  user: {}\n---\nkind: Config\n",
         "holds more than one YAML document"},
        {"not YAML", "clusters: [unclosed\n", ":6:1: not YAML: "},
        {"non-string key", cluster + "users:\n- name: u\n  user: {[a]: b}\n", "mapping keys must be strings"},
    };
    for (const auto& c : cases) {
        TempDir dir;
        write_text(dir / "config", base + c.user_or_cluster);
        auto connection = load(Environment{{{"KUBECONFIG", (dir / "config").string()}}});
        ASSERT_FALSE(connection) << c.name;
        const auto& e = connection.error();
        std::string all = e.message;
        for (const auto& d : e.details) all += "\n" + d;
        EXPECT_NE(all.find(c.expected), std::string::npos) << c.name << ": " << all;
    }
}

TEST(Kubeconfig, InClusterOnlyWithoutAnyKubeconfig) {
    TempDir dir;
    write_text(dir / "sa" / "token", "sa-token");
    write_text(dir / "sa" / "ca.crt", "SA CA");
    write_text(dir / "sa" / "namespace", "team\n");
    Environment env{{{"HOME", (dir / "home").string()},
                     {"KUBERNETES_SERVICE_HOST", "fd00::1"},
                     {"KUBERNETES_SERVICE_PORT", "443"},
                     {"KARMOR_SERVICE_ACCOUNT_DIR", (dir / "sa").string()}}};
    auto connection = load(env);
    ASSERT_TRUE(connection) << connection.error().message;
    EXPECT_EQ(connection->server, "https://[fd00::1]:443");
    EXPECT_EQ(connection->ca_pem, "SA CA");
    EXPECT_EQ(connection->namespace_name, "team");
    EXPECT_EQ(connection->context, "in-cluster");
    EXPECT_EQ(connection->token_file, dir / "sa" / "token");

    write_text(dir / "home" / ".kube" / "config", "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n"
                                                  "clusters:\n- name: k\n  cluster: {server: 'https://k'}\n");
    auto kubeconfig = load(env);
    ASSERT_TRUE(kubeconfig) << kubeconfig.error().message;
    EXPECT_EQ(kubeconfig->server, "https://k");

    auto nothing = load(Environment{{{"HOME", (dir / "nowhere").string()}}});
    ASSERT_FALSE(nothing);
    EXPECT_NE(nothing.error().message.find("no kubeconfig"), std::string::npos);
}

ExecPlugin plugin(const std::string& version = "client.authentication.k8s.io/v1") {
    ExecPlugin p;
    p.api_version = version;
    p.command = "plugin";
    return p;
}

TEST(ExecCredential, ReadsTokenCertificateAndExpiry) {
    auto token = parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
                                       R"("spec":{"interactive":false},"status":{"token":"t",)"
                                       R"("expirationTimestamp":"2030-01-02T03:04:05Z"}})",
                                       plugin());
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(token->token, "t");
    ASSERT_TRUE(token->expires);
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*token->expires), 1893553445);
    auto cert = parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",)"
                                      R"("status":{"clientCertificateData":"C","clientKeyData":"K",)"
                                      R"("expirationTimestamp":"2030-01-02T05:04:05.5+02:00"}})",
                                      plugin("client.authentication.k8s.io/v1beta1"));
    ASSERT_TRUE(cert) << cert.error().message;
    EXPECT_EQ(cert->cert_pem, "C");
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*cert->expires), 1893553445);
}

TEST(ExecCredential, RefusesAnythingElse) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"not json", "not a JSON object"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}})",
         "answered apiVersion"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret","status":{"token":"t"}})",
         "kind other than ExecCredential"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
         "neither a token nor a client certificate"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientKeyData":"K"}})",
         "without its key"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","x":"y"}})",
         "unknown field status.x"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t",)"
         R"("expirationTimestamp":"tomorrow"}})",
         "not an RFC 3339 time"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":5}})",
         "not a string"},
        {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","extra":1,"status":{"token":"t"}})",
         "unknown field \"extra\""},
    };
    for (const auto& [output, expected] : cases) {
        auto parsed = parse_exec_credential(output, plugin());
        ASSERT_FALSE(parsed) << output;
        EXPECT_NE(parsed.error().message.find(expected), std::string::npos) << parsed.error().message;
        EXPECT_EQ(parsed.error().message.find("\"t\""), std::string::npos);  // no token in a message
    }
}

TEST(KubeObjects, AppliedObjectCarriesLabelsAndProvenanceAndUnchangedIgnoresOnlyProvenance) {
    nlohmann::ordered_json document = {{"apiVersion", "security.kubearmor.com/v1"},
                                       {"kind", "KubeArmorPolicy"},
                                       {"metadata", {{"name", "p"}, {"labels", {{"team", "a"}}}}},
                                       {"spec", {{"severity", 5}, {"action", "Block"}}}};
    const Provenance v1{"team.policies", "r/p@sha256:1", "v1", "sha256:1"};
    const Provenance v2{"team.policies", "r/p@sha256:2", "v2", "sha256:2"};
    const auto applied = applied_object(document, "web", v1);
    EXPECT_EQ(applied["metadata"]["namespace"], "web");
    EXPECT_EQ(applied["metadata"]["labels"]["team"], "a");
    EXPECT_EQ(applied["metadata"]["labels"]["app.kubernetes.io/managed-by"], "karmor");
    EXPECT_EQ(applied["metadata"]["labels"]["oci.kubearmor.io/set"], "team.policies");
    EXPECT_EQ(applied["metadata"]["annotations"]["oci.kubearmor.io/digest"], "sha256:1");
    const auto again = applied_object(document, "web", v2);
    EXPECT_EQ(applied["metadata"]["annotations"]["oci.kubearmor.io/applied-sha256"],
              again["metadata"]["annotations"]["oci.kubearmor.io/applied-sha256"]);

    // The live object: the server added fields, kept v1's provenance.
    Json live = Json(applied);
    live["metadata"]["uid"] = "u";
    live["metadata"]["managedFields"] = Json::array();
    live["spec"]["severity"] = 5.0;
    EXPECT_TRUE(is_unchanged(live, again));
    Json edited = live;
    edited["spec"]["action"] = "Audit";  // kubectl edit
    EXPECT_FALSE(is_unchanged(edited, again));
    auto fewer = document;
    fewer["spec"].erase("severity");  // a field karmor no longer sets
    EXPECT_FALSE(is_unchanged(live, applied_object(fewer, "web", v2)));
    EXPECT_EQ(set_of(live), "team.policies");
}

TEST(KubeObjects, LabelValuesAndPaths) {
    EXPECT_EQ(label_value("team/policies"), "team.policies");
    EXPECT_EQ(label_value("_a b_"), "a-b");
    const auto long_value = label_value(std::string(100, 'x') + "/end");
    EXPECT_LE(long_value.size(), 63u);
    EXPECT_NE(long_value, label_value(std::string(101, 'x') + "/end"));
    EXPECT_EQ(resource_path(*resource_for_kind("KubeArmorPolicy"), "web", "p"),
              "/apis/security.kubearmor.com/v1/namespaces/web/kubearmorpolicies/p");
    EXPECT_EQ(resource_path(*resource_for_kind("KubeArmorHostPolicy"), "", ""),
              "/apis/security.kubearmor.com/v1/kubearmorhostpolicies");
    EXPECT_EQ(resource_for_kind("Pod"), nullptr);
}

}  // namespace
}  // namespace karmor::kube
