#include "support/kube_api_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "oci/http.hpp"

extern char** environ;

namespace karmor::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const char* const python = "/usr/bin/python3";
const std::vector<std::string> resources{"kubearmorpolicies", "kubearmorhostpolicies", "kubearmorclusterpolicies",
                                         "kubearmornetworkpolicies"};

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    close(fd);
    return port;
}

// Runs argv in the background with stdout and stderr into `log`; -1 when it cannot start.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& out_log, const fs::path& err_log) {
    const int out_fd = open(out_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = open(err_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);
    // etcd reads ETCD_* variables: none of the caller's may reach it.
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e)
        if (std::string(*e).rfind("ETCD_", 0) != 0) environment.push_back(*e);
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out_fd);
    close(err_fd);
    return rc == 0 ? pid : -1;
}

void stop(pid_t& pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            pid = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    pid = -1;
}

bool exited(pid_t pid) {
    int status = 0;
    return waitpid(pid, &status, WNOHANG) == pid;
}

bool run_ok(const std::vector<std::string>& argv, std::string& error) {
    const auto result = run_command(argv);
    if (result.exit_code == 0) return true;
    error = argv[0] + " failed: " + result.err;
    return false;
}

// ca.pem (and other-ca.pem), the server's certificate, the admin's and the limited user's.
bool make_certificates(const fs::path& dir, std::string& error) {
    const auto p = [&](const std::string& name) { return (dir / name).string(); };
    const std::vector<std::string> ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
    const auto make_ca = [&](const std::string& name) {
        std::vector<std::string> argv{"openssl", "req", "-x509"};
        argv.insert(argv.end(), ec.begin(), ec.end());
        argv.insert(argv.end(), {"-keyout", p(name + "-key.pem"), "-out", p(name + ".pem"), "-subj",
                                 "/CN=karmor test " + name, "-days", "2", "-addext",
                                 "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"});
        return run_ok(argv, error);
    };
    const auto make_leaf = [&](const std::string& name, const std::string& subject, const std::string& extensions) {
        write_text(dir / (name + ".ext"), extensions);
        std::vector<std::string> argv{"openssl", "req"};
        argv.insert(argv.end(), ec.begin(), ec.end());
        argv.insert(argv.end(), {"-keyout", p(name + "-key.pem"), "-out", p(name + ".csr"), "-subj", subject});
        return run_ok(argv, error) && run_ok({"openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"),
                                              "-CAkey", p("ca-key.pem"), "-CAcreateserial", "-out", p(name + ".pem"),
                                              "-days", "2", "-extfile", p(name + ".ext")},
                                             error);
    };
    const std::string client = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";
    return make_ca("ca") && make_ca("other-ca") &&
           make_leaf("server", "/CN=kube-apiserver",
                     "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
                     "subjectAltName=IP:127.0.0.1,DNS:kube.test\n") &&
           make_leaf("admin", "/O=system:masters/CN=karmor-admin", client) &&
           make_leaf("limited", "/CN=limited", client);
}

std::string kubeconfig_text(const std::string& server, const fs::path& ca, const fs::path& cert, const fs::path& key,
                            const std::string& context) {
    return "apiVersion: v1\nkind: Config\ncurrent-context: " + context +
           "\nclusters:\n- name: test\n  cluster:\n"
           "    server: " +
           server + "\n    certificate-authority: " + ca.string() +
           "\nusers:\n- name: admin\n"
           "  user:\n    client-certificate: " +
           cert.string() + "\n    client-key: " + key.string() + "\ncontexts:\n- name: " + context +
           "\n  context:\n    cluster: test\n    user: admin\n";
}

}  // namespace

std::unique_ptr<KubeApiServer> KubeApiServer::start(const fs::path& program, std::string& error) {
    std::unique_ptr<KubeApiServer> server(new KubeApiServer());
    const auto& dir = server->dir_.path();
    if (!make_certificates(dir, error)) return nullptr;

    // etcd on two ports found free by binding.
    const int client_port = free_port(), peer_port = free_port();
    const std::string etcd_url = "http://127.0.0.1:" + std::to_string(client_port);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
    server->etcd_pid_ =
        spawn({"etcd", "--name", "test", "--data-dir", (dir / "etcd").string(), "--listen-client-urls", etcd_url,
               "--advertise-client-urls", etcd_url, "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls",
               peer_url, "--initial-cluster", "test=" + peer_url, "--log-level", "warn"},
              dir / "etcd.out", dir / "etcd.log");
    if (server->etcd_pid_ < 0) {
        error = "cannot run etcd (Debian's etcd-server; scripts/setup.sh installs it)";
        return nullptr;
    }

    // The webhook for tokens and authorization.
    write_text(dir / "webhook.json", R"({"tokens": {}, "deny": []})");
    server->webhook_pid_ =
        spawn({python, (fs::path(KARMOR_SOURCE_DIR) / "tests/support/kube_webhook.py").string(),
               (dir / "server.pem").string(), (dir / "server-key.pem").string(), (dir / "webhook.json").string()},
              dir / "webhook.out", dir / "webhook.log");
    const auto webhook = wait_for_listening_port(server->webhook_pid_, dir / "webhook.out");
    if (!webhook.port) {
        error = "the token webhook did not start: " + read_text(dir / "webhook.log");
        return nullptr;
    }
    const std::string webhook_url = "https://127.0.0.1:" + std::to_string(*webhook.port);
    write_text(dir / "webhook.kubeconfig",
               kubeconfig_text(webhook_url, dir / "ca.pem", dir / "admin.pem", dir / "admin-key.pem", "webhook"));

    server->port_ = free_port();
    write_text(dir / "self.kubeconfig",
               kubeconfig_text(server->url(), dir / "ca.pem", dir / "admin.pem", dir / "admin-key.pem", "self"));
    write_text(dir / "audit-policy.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages:\n"
                                          "- RequestReceived\nrules:\n- level: Metadata\n");
    write_text(dir / "audit.log", "");
    server->server_pid_ =
        spawn({program.string(),
               "--etcd-servers=" + etcd_url,
               "--bind-address=127.0.0.1",
               "--secure-port=" + std::to_string(server->port_),
               "--cert-dir=" + (dir / "certs").string(),
               "--tls-cert-file=" + (dir / "server.pem").string(),
               "--tls-private-key-file=" + (dir / "server-key.pem").string(),
               "--kubeconfig=" + (dir / "self.kubeconfig").string(),
               "--authentication-kubeconfig=" + (dir / "webhook.kubeconfig").string(),
               "--authorization-kubeconfig=" + (dir / "webhook.kubeconfig").string(),
               "--client-ca-file=" + (dir / "ca.pem").string(),
               "--authentication-skip-lookup",
               "--authentication-token-webhook-cache-ttl=0s",
               "--authorization-webhook-cache-authorized-ttl=0s",
               "--authorization-webhook-cache-unauthorized-ttl=0s",
               "--disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionPolicy,MutatingAdmissionWebhook,"
               "ValidatingAdmissionPolicy,ValidatingAdmissionWebhook",
               "--enable-priority-and-fairness=false",
               "--audit-log-path=" + (dir / "audit.log").string(),
               "--audit-policy-file=" + (dir / "audit-policy.yaml").string(),
               "--audit-log-mode=blocking"},
              dir / "server.out", dir / "server.log");
    if (server->server_pid_ < 0) {
        error = "cannot run " + program.string();
        return nullptr;
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    // Not /readyz: its informer-sync check waits for Services of the "core" cluster (itself),
    // which this server does not serve. The CRD API answering is what the tests need.
    KubeHttpAnswer ready;
    while ((ready = server->request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")).status != 200) {
        if (exited(server->server_pid_)) {
            server->server_pid_ = -1;
            error = "the API server exited: " + server->logs();
            return nullptr;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            error = "the API server was not ready within 90 s (it answered " + std::to_string(ready.status) + ": " +
                    ready.body + "): " + server->logs();
            return nullptr;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    // KubeArmor's CRDs, as the cluster has them.
    const fs::path crds = fs::path(KARMOR_SHARED_DIR) / "kubearmor" / "crds";
    std::vector<std::string> names;
    for (const auto& resource : resources) {
        const auto kind_file = crds / ([&] {
                                   for (const auto& entry : fs::directory_iterator(crds)) {
                                       const auto text = read_text(entry.path());
                                       if (text.find("plural: " + resource + "\n") != std::string::npos)
                                           return entry.path().filename();
                                   }
                                   return fs::path("missing");
                               }());
        if (!fs::exists(kind_file)) {
            error = "no CRD for " + resource + " in " + crds.string();
            return nullptr;
        }
        const auto created = server->request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                             read_text(kind_file), "application/yaml");
        if (created.status != 201) {
            error = "installing " + kind_file.string() + " answered " + std::to_string(created.status) + ": " +
                    created.body;
            return nullptr;
        }
        names.push_back(resource + ".security.kubearmor.com");
    }
    for (const auto& name : names) {
        for (;;) {
            const auto crd = server->get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name);
            bool established = false;
            if (crd.is_object() && crd.contains("status") && crd["status"].contains("conditions"))
                for (const auto& condition : crd["status"]["conditions"])
                    established |=
                        condition.value("type", "") == "Established" && condition.value("status", "") == "True";
            if (established) break;
            if (std::chrono::steady_clock::now() > deadline) {
                error = name + " was not Established within 90 s";
                return nullptr;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    for (const auto& resource : resources) {
        while (server->request("GET", "/apis/security.kubearmor.com/v1/" + resource).status != 200) {
            if (std::chrono::steady_clock::now() > deadline) {
                error = resource + " was not served within 90 s";
                return nullptr;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    return server;
}

KubeApiServer* KubeApiServer::shared(std::string& error) {
    static std::unique_ptr<KubeApiServer> server;
    static std::string failure;
    if (!server && failure.empty()) {
        const auto program = find_peer("apiextensions-apiserver");
        if (!program) {
            failure = "apiextensions-apiserver is not in " + peers_bin_dir().string() + ": run scripts/peers.sh";
        } else {
            server = start(*program, failure);
            if (!server && failure.empty()) failure = "it did not start";
        }
    }
    error = failure;
    return server.get();
}

KubeApiServer::~KubeApiServer() {
    stop(server_pid_);
    stop(webhook_pid_);
    stop(etcd_pid_);
}

void KubeApiServer::add_token(const std::string& token, const std::string& user, bool admin) const {
    auto config = Json::parse(read_text(dir() / "webhook.json"));
    config["tokens"][token] = {{"username", user}, {"groups", admin ? Json::array({"system:masters"}) : Json::array()}};
    write_text(dir() / "webhook.json", config.dump());
}

void KubeApiServer::deny(const std::string& user, const std::string& verb) const {
    auto config = Json::parse(read_text(dir() / "webhook.json"));
    config["deny"].push_back({{"user", user}, {"verb", verb}});
    write_text(dir() / "webhook.json", config.dump());
}

void KubeApiServer::allow_everything() const {
    auto config = Json::parse(read_text(dir() / "webhook.json"));
    config["deny"] = Json::array();
    write_text(dir() / "webhook.json", config.dump());
}

std::string KubeApiServer::admin_kubeconfig(const std::string& context) const {
    return kubeconfig_text(url(), ca(), admin_cert(), admin_key(), context);
}

KubeHttpAnswer KubeApiServer::request(const std::string& method, const std::string& path, const std::string& body,
                                      const std::string& content_type) const {
    oci::TransportOptions options;
    options.ca_file = ca().string();
    options.cert_file = admin_cert().string();
    options.key_file = admin_key().string();
    options.connect_timeout_ms = 2'000;
    auto transport = oci::make_curl_transport(options);
    oci::HttpRequest request;
    request.method = method;
    request.url = url() + path;
    request.body = body;
    request.timeout_ms = 30'000;
    request.headers = {{"Accept", "application/json"}};
    if (!body.empty()) request.headers.emplace_back("Content-Type", content_type);
    const auto result = transport->send(request);
    if (!result.delivered()) return {0, result.transport_error};
    return {result.response.status, result.response.body};
}

Json KubeApiServer::get(const std::string& path) const {
    const auto answer = request("GET", path);
    if (answer.status != 200) return nullptr;
    return Json::parse(answer.body, nullptr, false);
}

void KubeApiServer::delete_all_policies() const {
    for (const auto& resource : resources) {
        const auto list = get("/apis/security.kubearmor.com/v1/" + resource);
        if (!list.is_object() || !list.contains("items")) continue;
        for (const auto& item : list["items"]) {
            const auto& metadata = item["metadata"];
            std::string path = "/apis/security.kubearmor.com/v1/";
            if (metadata.contains("namespace")) path += "namespaces/" + metadata["namespace"].get<std::string>() + "/";
            request("DELETE", path + resource + "/" + metadata["name"].get<std::string>());
        }
    }
}

std::vector<AuditEvent> KubeApiServer::audit_since_mark() const {
    std::vector<AuditEvent> events;
    std::istringstream lines(read_text(dir() / "audit.log"));
    std::string line;
    std::size_t index = 0;
    while (std::getline(lines, line)) {
        if (index++ < audit_mark_) continue;
        const auto event = Json::parse(line, nullptr, false);
        if (!event.is_object()) continue;
        AuditEvent e;
        e.verb = event.value("verb", "");
        e.uri = event.value("requestURI", "");
        if (event.contains("user")) e.user = event["user"].value("username", "");
        if (event.contains("responseStatus")) e.code = event["responseStatus"].value("code", 0);
        events.push_back(std::move(e));
    }
    return events;
}

void KubeApiServer::mark_audit() {
    std::istringstream lines(read_text(dir() / "audit.log"));
    std::string line;
    std::size_t count = 0;
    while (std::getline(lines, line)) ++count;
    audit_mark_ = count;
}

std::string KubeApiServer::logs() const {
    auto text = read_text(dir() / "server.log");
    if (text.size() > 4000) text = text.substr(text.size() - 4000);
    return text + "\netcd: " + read_text(dir() / "etcd.log").substr(0, 2000);
}

}  // namespace karmor::testing
