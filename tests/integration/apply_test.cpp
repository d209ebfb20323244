// SPEC §12 through the karmor binary: a real docker-registry, and a test double of the
// KubeArmor daemon on a real gRPC server (grpcio) that records every request.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/kubearmor_daemon.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

namespace fs = std::filesystem;
using testing::DaemonRequest;
using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

// A container policy with a comment, a null and an integer: the JSON shows how YAML is read.
std::string ksp(const std::string& path) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: block-shell\n"
           "  namespace: web\nspec:\n  severity: 5  # a comment\n  message: null\n  selector:\n    matchLabels:\n"
           "      app: web\n  process:\n    matchPaths:\n      - path: " +
           path + "\n  action: Block\n";
}
std::string ksp_json(const std::string& path) {
    return R"({"apiVersion":"security.kubearmor.com/v1","kind":"KubeArmorPolicy","metadata":{"name":"block-shell",)"
           R"("namespace":"web"},"spec":{"severity":5,"selector":{"matchLabels":{"app":"web"}},"process":)"
           R"({"matchPaths":[{"path":")" +
           path + R"("}]},"action":"Block"}})";
}
const std::string hsp =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: audit-passwd\nspec:\n"
    "  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: vm-1\n  file:\n    matchPaths:\n"
    "      - path: /etc/passwd\n  action: Audit\n";
const std::string hsp_json =
    R"({"apiVersion":"security.kubearmor.com/v1","kind":"KubeArmorHostPolicy","metadata":{"name":"audit-passwd"},)"
    R"("spec":{"nodeSelector":{"matchLabels":{"kubernetes.io/hostname":"vm-1"}},"file":{"matchPaths":)"
    R"([{"path":"/etc/passwd"}]},"action":"Audit"}})";
const std::string knp =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorNetworkPolicy\nmetadata:\n  name: allow-dns\nspec:\n"
    "  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: vm-1\n  egress:\n    - to:\n"
    "        - ipBlock:\n            cidr: 10.96.0.10/32\n      ports:\n        - protocol: UDP\n"
    "          port: \"53\"\n  action: Allow\n";
const std::string knp_json =
    R"({"apiVersion":"security.kubearmor.com/v1","kind":"KubeArmorNetworkPolicy","metadata":{"name":"allow-dns"},)"
    R"("spec":{"nodeSelector":{"matchLabels":{"kubernetes.io/hostname":"vm-1"}},"egress":[{"to":[{"ipBlock":)"
    R"({"cidr":"10.96.0.10/32"}}],"ports":[{"protocol":"UDP","port":"53"}]}],"action":"Allow"}})";
const std::string csp =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorClusterPolicy\nmetadata:\n  name: block-secrets\nspec:\n"
    "  selector:\n    matchExpressions:\n      - key: namespace\n        operator: NotIn\n        values:\n"
    "          - kube-system\n  file:\n    matchDirectories:\n      - dir: /run/secrets/\n  action: Block\n";

std::string event(const std::string& type, const std::string& object) {
    return R"({"type":")" + type + R"(","object":)" + object + "}";
}

// v1: KSP, HSP, KNP, CSP. v2: the KSP changed, the KNP gone, the rest as it was.
void push_version(const std::string& image, const fs::path& work, int version) {
    const auto dir = work / ("v" + std::to_string(version));
    fs::create_directories(dir);
    write_text(dir / "ksp.yaml", ksp(version == 1 ? "/bin/sh" : "/bin/bash"));
    write_text(dir / "hsp.yaml", hsp);
    if (version == 1) write_text(dir / "knp.yaml", knp);
    write_text(dir / "csp.yaml", csp);
    const auto push = run_karmor({"oci", "push", "-i", image, "-p", dir.string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
}

std::vector<std::string> described(const std::vector<DaemonRequest>& requests) {
    std::vector<std::string> out;
    for (const auto& r : requests) out.push_back(r.rpc + " " + r.payload);
    return out;
}

std::vector<std::string> apply_args(const std::string& image, const testing::FakeKubeArmorDaemon& daemon,
                                    const fs::path& state, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"oci", "apply", "-i", image, "--grpc", daemon.address(), "--state", state.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

std::vector<std::string> state_names(const fs::path& state) {
    std::vector<std::string> out;
    const auto json = nlohmann::json::parse(read_text(state));  // alive while iterated
    for (const auto& p : json.at("policies"))
        out.push_back(p.at("kind").get<std::string>() + "/" + p.at("name").get<std::string>());
    return out;
}

TEST(Apply, SendsAddedThenOnlyTheDifferenceAndPrunes) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/policies:prod";
    push_version(image, work.path(), 1);

    auto v1 = run_karmor(apply_args(image, *daemon, state));
    ASSERT_EQ(v1.exit_code, 0) << v1.err;
    EXPECT_EQ(
        described(daemon->requests()),
        (std::vector<std::string>{"hostPolicy " + event("ADDED", hsp_json), "networkPolicy " + event("ADDED", knp_json),
                                  "containerPolicy " + event("ADDED", ksp_json("/bin/sh"))}));
    EXPECT_NE(v1.err.find("KubeArmorClusterPolicy/block-secrets is not deliverable in this mode"), std::string::npos)
        << v1.err;
    EXPECT_NE(v1.out.find("KubeArmorPolicy/web/block-shell ADDED Applied"), std::string::npos) << v1.out;
    EXPECT_NE(v1.out.find("KubeArmorHostPolicy/audit-passwd ADDED Applied"), std::string::npos) << v1.out;
    EXPECT_EQ(state_names(state),
              (std::vector<std::string>{"KubeArmorHostPolicy/audit-passwd", "KubeArmorNetworkPolicy/allow-dns",
                                        "KubeArmorPolicy/block-shell"}));

    // v2 without --prune: the change only, and a word about what is gone.
    push_version(image, work.path(), 2);
    daemon->clear_requests();
    auto v2 = run_karmor(apply_args(image, *daemon, state));
    ASSERT_EQ(v2.exit_code, 0) << v2.err;
    EXPECT_EQ(described(daemon->requests()),
              (std::vector<std::string>{"containerPolicy " + event("MODIFIED", ksp_json("/bin/bash"))}));
    EXPECT_NE(v2.err.find("KubeArmorNetworkPolicy/allow-dns was applied before"), std::string::npos) << v2.err;

    // With --prune: DELETED carries the object as it was applied; nothing for the unchanged.
    daemon->clear_requests();
    auto pruned = run_karmor(apply_args(image, *daemon, state, {"--prune", "--output", "json"}));
    ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
    EXPECT_EQ(described(daemon->requests()), (std::vector<std::string>{"networkPolicy " + event("DELETED", knp_json)}));
    const auto json = nlohmann::json::parse(pruned.out);
    ASSERT_EQ(json.at("policies").size(), 1u) << pruned.out;
    EXPECT_EQ(json["policies"][0]["event"], "DELETED");
    EXPECT_EQ(json["policies"][0]["status"], "Deleted");
    EXPECT_EQ(json.at("unchanged").size(), 2u);
    EXPECT_EQ(state_names(state),
              (std::vector<std::string>{"KubeArmorHostPolicy/audit-passwd", "KubeArmorPolicy/block-shell"}));

    // v2 again: no call at all.
    daemon->clear_requests();
    auto again = run_karmor(apply_args(image, *daemon, state, {"--prune"}));
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(daemon->requests().empty()) << described(daemon->requests()).front();

    // The set belongs to the daemon it was applied to: another address is refused, not pruned.
    auto other =
        run_karmor({"oci", "apply", "-i", image, "--grpc", daemon->localhost(), "--state", state.string(), "--prune"});
    EXPECT_EQ(other.exit_code, 2) << other.err;
    EXPECT_NE(other.err.find("records what " + daemon->address() + " was given"), std::string::npos) << other.err;
    EXPECT_TRUE(daemon->requests().empty());
}

TEST(Apply, RefusalsAreNamedExitNineAndOnlyWhatAppliedIsRecorded) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    daemon->configure({{"byName", {{"block-shell", "Invalid"}}}, {"byKind", {{"KubeArmorHostPolicy", "NotEnabled"}}}});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/refused:v1";
    push_version(image, work.path(), 1);

    auto refused = run_karmor(apply_args(image, *daemon, state));
    EXPECT_EQ(refused.exit_code, 9) << refused.err;
    EXPECT_EQ(daemon->requests().size(), 3u);
    EXPECT_NE(refused.out.find("KubeArmorPolicy/web/block-shell ADDED Invalid"), std::string::npos) << refused.out;
    EXPECT_NE(refused.out.find("KubeArmorHostPolicy/audit-passwd ADDED NotEnabled"), std::string::npos);
    EXPECT_NE(refused.err.find("KubeArmorPolicy/web/block-shell (Invalid)"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("KubeArmorHostPolicy/audit-passwd (NotEnabled)"), std::string::npos) << refused.err;
    EXPECT_EQ(state_names(state), (std::vector<std::string>{"KubeArmorNetworkPolicy/allow-dns"}));
    EXPECT_FALSE(nlohmann::json::parse(read_text(state)).at("complete").get<bool>());

    // Once the daemon takes them, the next apply sends exactly the two it refused.
    daemon->configure(nlohmann::json::object());
    daemon->clear_requests();
    auto retried = run_karmor(apply_args(image, *daemon, state));
    EXPECT_EQ(retried.exit_code, 0) << retried.err;
    EXPECT_EQ(described(daemon->requests()),
              (std::vector<std::string>{"hostPolicy " + event("ADDED", hsp_json),
                                        "containerPolicy " + event("ADDED", ksp_json("/bin/sh"))}));
    EXPECT_EQ(state_names(state).size(), 3u);
}

TEST(Apply, DaemonDownNotHttp2AndDeadlineAreClearErrorsAndLeaveTheState) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/errors:v1";
    push_version(image, work.path(), 1);

    std::string down_address;
    {
        KARMOR_START_DAEMON(gone, testing::DaemonConfig{});
        down_address = gone->address();
    }
    auto down = run_karmor({"oci", "apply", "-i", image, "--grpc", down_address, "--state", state.string()});
    EXPECT_EQ(down.exit_code, 6) << down.err;
    EXPECT_NE(down.err.find("cannot connect to the KubeArmor daemon at " + down_address), std::string::npos)
        << down.err;
    EXPECT_NE(down.err.find("systemctl status kubearmor"), std::string::npos) << down.err;
    EXPECT_FALSE(fs::exists(state));

    // The registry speaks HTTP/1.1 only.
    auto http1 = run_karmor({"oci", "apply", "-i", image, "--grpc", registry->address(), "--state", state.string()});
    EXPECT_EQ(http1.exit_code, 6) << http1.err;
    EXPECT_NE(http1.err.find("may not speak HTTP/2"), std::string::npos) << http1.err;
    EXPECT_FALSE(fs::exists(state));

    // A deadline: the first apply records v1; the MODIFIED of v2 gets no answer in time.
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    ASSERT_EQ(run_karmor(apply_args(image, *daemon, state)).exit_code, 0);
    const auto recorded = read_text(state);
    push_version(image, work.path(), 2);
    daemon->configure({{"delaySeconds", {{"block-shell", 3}}}});
    auto slow = run_karmor(apply_args(image, *daemon, state, {"--grpc-timeout", "500ms"}));
    EXPECT_EQ(slow.exit_code, 6) << slow.err;
    EXPECT_NE(slow.err.find("deadline exceeded"), std::string::npos) << slow.err;
    EXPECT_NE(slow.err.find("--grpc-timeout"), std::string::npos) << slow.err;
    EXPECT_EQ(read_text(state), recorded);
}

// A gRPC error (a trailers-only answer: grpc-status in the headers) stops the calls; what the
// daemon acknowledged before it is recorded, and the next apply sends the rest.
TEST(Apply, AGrpcErrorStopsTheCallsAndKeepsWhatWasAcknowledged) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    daemon->configure({{"abort", {{"allow-dns", {"UNIMPLEMENTED", "network policies are not served here"}}}}});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/grpc-error:v1";
    push_version(image, work.path(), 1);

    auto stopped = run_karmor(apply_args(image, *daemon, state));
    EXPECT_EQ(stopped.exit_code, 6) << stopped.err;
    EXPECT_NE(stopped.err.find("does not offer this call (UNIMPLEMENTED): network policies are not served here"),
              std::string::npos)
        << stopped.err;
    EXPECT_NE(stopped.out.find("KubeArmorHostPolicy/audit-passwd ADDED Applied"), std::string::npos) << stopped.out;
    EXPECT_EQ(daemon->requests().size(), 2u);  // the KSP after it was not sent
    EXPECT_EQ(state_names(state), (std::vector<std::string>{"KubeArmorHostPolicy/audit-passwd"}));

    daemon->configure(nlohmann::json::object());
    daemon->clear_requests();
    auto rest = run_karmor(apply_args(image, *daemon, state));
    EXPECT_EQ(rest.exit_code, 0) << rest.err;
    EXPECT_EQ(described(daemon->requests()),
              (std::vector<std::string>{"networkPolicy " + event("ADDED", knp_json),
                                        "containerPolicy " + event("ADDED", ksp_json("/bin/sh"))}));
}

TEST(Apply, TlsWithAnUnknownCaFailsAndMutualTlsWorks) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir certs, other, work;
    std::string error;
    ASSERT_TRUE(testing::make_mutual_tls_certificates(certs.path(), error)) << error;
    ASSERT_TRUE(testing::make_test_certificates(other.path(), error)) << error;
    KARMOR_START_DAEMON(daemon,
                        (testing::DaemonConfig{certs / "server.pem", certs / "server-key.pem", certs / "ca.pem"}));
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/tls:v1";
    push_version(image, work.path(), 1);
    const std::string client_cert = (certs / "client.pem").string(), client_key = (certs / "client-key.pem").string();

    auto unknown = run_karmor(
        apply_args(image, *daemon, state,
                   {"--tls-ca", (other / "ca.pem").string(), "--tls-cert", client_cert, "--tls-key", client_key}));
    EXPECT_EQ(unknown.exit_code, 6) << unknown.err;
    EXPECT_NE(unknown.err.find("did not verify against " + (other / "ca.pem").string()), std::string::npos)
        << unknown.err;
    EXPECT_NE(unknown.err.find("--tls-ca"), std::string::npos) << unknown.err;
    EXPECT_FALSE(fs::exists(state));
    EXPECT_TRUE(daemon->requests().empty());

    auto plaintext = run_karmor(apply_args(image, *daemon, state));
    EXPECT_EQ(plaintext.exit_code, 6) << plaintext.err;
    EXPECT_FALSE(fs::exists(state));

    auto mutual = run_karmor(
        apply_args(image, *daemon, state,
                   {"--tls-ca", (certs / "ca.pem").string(), "--tls-cert", client_cert, "--tls-key", client_key}));
    EXPECT_EQ(mutual.exit_code, 0) << mutual.err;
    EXPECT_EQ(daemon->requests().size(), 3u);
    EXPECT_EQ(state_names(state).size(), 3u);
}

// SPEC §9 and §12: with --verify-key nothing reaches the daemon unless a signature verifies.
TEST(Apply, VerifiesBeforeAnythingIsSent) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/signed:v1";
    push_version(image, work.path(), 1);
    for (const std::string name : {"signer", "stranger"}) {
        ASSERT_EQ(testing::run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                        "-out", (work / (name + ".key")).string()})
                      .exit_code,
                  0);
        ASSERT_EQ(testing::run_command({"openssl", "pkey", "-in", (work / (name + ".key")).string(), "-pubout", "-out",
                                        (work / (name + ".pub")).string()})
                      .exit_code,
                  0);
    }
    const auto sign = run_karmor({"oci", "sign", "-i", image, "--key", (work / "signer.key").string()});
    ASSERT_EQ(sign.exit_code, 0) << sign.err;

    auto refused = run_karmor(apply_args(image, *daemon, state, {"--verify-key", (work / "stranger.pub").string()}));
    EXPECT_EQ(refused.exit_code, 8) << refused.err;
    EXPECT_TRUE(daemon->requests().empty());
    EXPECT_FALSE(fs::exists(state));

    auto verified = run_karmor(apply_args(image, *daemon, state, {"--verify-key", (work / "signer.pub").string()}));
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    EXPECT_EQ(daemon->requests().size(), 3u);
}

TEST(Apply, DryRunSendsNothingAndKeepsNoState) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/dry:v1";
    push_version(image, work.path(), 1);
    auto dry = run_karmor(apply_args(image, *daemon, state, {"--dry-run", "--output", "json"}));
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_TRUE(daemon->requests().empty());
    EXPECT_FALSE(fs::exists(state));
    const auto json = nlohmann::json::parse(dry.out);
    EXPECT_EQ(json.at("policies").size(), 3u);
    EXPECT_EQ(json.at("notDeliverable").size(), 1u);
    EXPECT_TRUE(json.at("dryRun").get<bool>());
}

TEST(Apply, KubearmorServiceNamesTheDefaultAddress) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    TempDir work;
    const std::string image = registry->localhost() + "/vm/env:v1";
    push_version(image, work.path(), 1);
    auto applied = run_karmor({"oci", "apply", image}, {},
                              {{"KUBEARMOR_SERVICE", daemon->address()},
                               {"XDG_STATE_HOME", (work / "xdg").string()},
                               {"STATE_DIRECTORY", ""}});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_EQ(daemon->requests().size(), 3u);
    EXPECT_TRUE(
        fs::exists(work / "xdg" / "karmor" / ("applied-127.0.0.1_" + std::to_string(daemon->port()) + ".json")));
}

TEST(Apply, FollowOnceApplies) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    TempDir work;
    const auto state = work / "state.json";
    const std::string image = registry->localhost() + "/vm/follow:prod";
    push_version(image, work.path(), 1);
    const std::vector<std::string> follow{
        "oci",    "follow",          "-i",      image,         "-o", (work / "dir").string(), "--once", "--apply",
        "--grpc", daemon->address(), "--state", state.string()};
    auto first = run_karmor(follow);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(
        described(daemon->requests()),
        (std::vector<std::string>{"hostPolicy " + event("ADDED", hsp_json), "networkPolicy " + event("ADDED", knp_json),
                                  "containerPolicy " + event("ADDED", ksp_json("/bin/sh"))}));
    EXPECT_NE(first.out.find("KubeArmorPolicy/web/block-shell ADDED Applied"), std::string::npos) << first.out;

    // The next change is applied the same way, pruning with --prune.
    push_version(image, work.path(), 2);
    daemon->clear_requests();
    auto pruning = follow;
    pruning.push_back("--prune");
    auto second = run_karmor(pruning);
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(described(daemon->requests()),
              (std::vector<std::string>{"containerPolicy " + event("MODIFIED", ksp_json("/bin/bash")),
                                        "networkPolicy " + event("DELETED", knp_json)}));

    // Nothing new: no call.
    daemon->clear_requests();
    auto idle = run_karmor(pruning);
    ASSERT_EQ(idle.exit_code, 0) << idle.err;
    EXPECT_TRUE(daemon->requests().empty());
}

}  // namespace
}  // namespace karmor
