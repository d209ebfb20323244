// A real Kubernetes API server for tests (shared/KUBE-TEST-SERVER.md): Debian's etcd and the
// `apiextensions-apiserver` peer (k8s.io/apiextensions-apiserver, built by scripts/peers.sh),
// on 127.0.0.1 with ports picked by binding, serving KubeArmor's CRDs from ../shared. Its
// serving certificate and the client certificates are made here with OpenSSL; bearer tokens and
// authorization go to a webhook of the test's own (tests/support/kube_webhook.py), so tests
// can add tokens and deny verbs. Every request is in an audit log (level Metadata, blocking),
// which is how tests count requests and see that an unchanged apply writes nothing.
//
// Starting takes a few seconds: a suite shares one server (KubeApiServer::shared()).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/peers.hpp"
#include "support/process.hpp"

namespace karmor::testing {

struct AuditEvent {
    std::string verb;  // get, list, patch, delete, create, …
    std::string uri;   // requestURI
    std::string user;
    int code = 0;  // responseStatus.code
};

struct KubeHttpAnswer {
    long status = 0;
    std::string body;
};

class KubeApiServer {
public:
    // Starts etcd, the webhook and the API server, installs the CRDs and waits until they are
    // Established; nullptr and `error` when any of it fails.
    static std::unique_ptr<KubeApiServer> start(const std::filesystem::path& program, std::string& error);
    // One server for the whole test program, started at the first call (and stopped at exit).
    static KubeApiServer* shared(std::string& error);
    ~KubeApiServer();
    KubeApiServer(const KubeApiServer&) = delete;
    KubeApiServer& operator=(const KubeApiServer&) = delete;

    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    // The CA of the serving certificate (names: 127.0.0.1 and kube.test, not localhost) and of the
    // client certificates.
    std::filesystem::path ca() const { return dir() / "ca.pem"; }
    // A client certificate in system:masters, and one for the user "limited" (no group).
    std::filesystem::path admin_cert() const { return dir() / "admin.pem"; }
    std::filesystem::path admin_key() const { return dir() / "admin-key.pem"; }
    std::filesystem::path limited_cert() const { return dir() / "limited.pem"; }
    std::filesystem::path limited_key() const { return dir() / "limited-key.pem"; }
    // Another CA, which signed nothing the server shows: for "wrong CA".
    std::filesystem::path other_ca() const { return dir() / "other-ca.pem"; }

    // Bearer TOKEN authenticates as USER (in system:masters when `admin`); USER may be denied VERB.
    void add_token(const std::string& token, const std::string& user, bool admin) const;
    void deny(const std::string& user, const std::string& verb) const;
    void allow_everything() const;  // drops the deny rules

    // A kubeconfig with one cluster "test" and context "test" for the admin certificate.
    std::string admin_kubeconfig(const std::string& context = "test") const;

    // The request as the admin: for checking what karmor did, independently of karmor.
    KubeHttpAnswer request(const std::string& method, const std::string& path, const std::string& body = {},
                           const std::string& content_type = "application/json") const;
    // The object at `path`, or null when there is none.
    nlohmann::json get(const std::string& path) const;
    // Deletes every KubeArmor object (all four kinds, every namespace used by the tests).
    void delete_all_policies() const;

    // Everything in the audit log since the last mark (requests of the admin's checks included;
    // filter by user).
    std::vector<AuditEvent> audit_since_mark() const;
    void mark_audit();
    std::string logs() const;

private:
    KubeApiServer() = default;
    TempDir dir_;
    pid_t etcd_pid_ = -1;
    pid_t webhook_pid_ = -1;
    pid_t server_pid_ = -1;
    int port_ = 0;
    std::size_t audit_mark_ = 0;
};

// The program (a peer) or a failed/skipped test; then the shared server or a failed test.
#define KARMOR_KUBE_API_SERVER(variable)                                                                               \
    KARMOR_REQUIRE_PROGRAM("etcd");                                                                                    \
    KARMOR_REQUIRE_PROGRAM("openssl");                                                                                 \
    KARMOR_REQUIRE_PEER(variable##_program, "apiextensions-apiserver");                                                \
    std::string variable##_error;                                                                                      \
    auto* variable = ::karmor::testing::KubeApiServer::shared(variable##_error);                                       \
    ASSERT_TRUE(variable) << "cannot start the Kubernetes API server: " << variable##_error

}  // namespace karmor::testing
