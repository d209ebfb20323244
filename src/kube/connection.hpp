// The Kubernetes API client and kubeconfig (SPEC §14): how karmor reaches a cluster, read as
// kubectl reads it (KUBECONFIG merged, contexts, CAs, client certificates, tokens, exec
// credential plugins) or from the in-cluster service account.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "karmor/kube.hpp"
#include "karmor/result.hpp"

namespace karmor::kube {

// A kubeconfig user's `exec`: client.authentication.k8s.io/v1 or v1beta1.
struct ExecPlugin {
    std::string api_version;
    std::string command;  // resolved against the kubeconfig's directory when it holds a '/'
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string interactive_mode;  // Never, IfAvailable, Always
    bool provide_cluster_info = false;
    std::string install_hint;
};

// Everything a request to one cluster needs, whichever source it came from.
struct Connection {
    std::string server;     // https://HOST[:PORT][/PREFIX], no trailing '/'
    std::string ca_pem;     // empty: the system's CAs
    std::string ca_origin;  // for messages: the file, or "certificate-authority-data of cluster X"
    bool insecure = false;
    std::string tls_server_name;
    std::optional<std::string> proxy_url;
    std::string cert_pem;
    std::string key_pem;
    std::string token;
    std::filesystem::path token_file;  // read again for every request: bound tokens rotate
    std::string username;
    std::string password;
    std::optional<ExecPlugin> exec;
    std::string namespace_name;  // the context's (or the service account's), "" for none
    std::string context;         // the context's name, or "in-cluster"
    std::string origin;          // for messages: "context X of FILE" or "the in-cluster service account"
    // The cluster as an exec plugin with provideClusterInfo sees it (KUBERNETES_EXEC_INFO).
    std::string cluster_ca_data_base64;
};

// The service account's directory; KARMOR_SERVICE_ACCOUNT_DIR replaces it (tests, unusual mounts).
inline constexpr const char* service_account_directory = "/var/run/secrets/kubernetes.io/serviceaccount";

using Getenv = std::function<const char*(const char*)>;

// kubectl's loading rules: --kubeconfig alone; else every file of KUBECONFIG (':'-separated,
// missing ones skipped), merged so that the first file to name a cluster, user, context or the
// current-context wins; else ~/.kube/config; with none of them, the in-cluster service account
// when KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set.
Result<Connection> load_connection(const KubeConnectionOptions& options, const Getenv& getenv);

// A file the connection names (CA, certificate, key, token), at most `max_bytes`; `what` says
// which in the error.
Result<std::string> read_bounded_file(const std::filesystem::path& file, std::size_t max_bytes,
                                      const std::string& what);

}  // namespace karmor::kube
