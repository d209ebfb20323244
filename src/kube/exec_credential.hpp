// Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1): how EKS, GKE and AKS
// clusters are reached. The plugin is run with KUBERNETES_EXEC_INFO, its ExecCredential read
// strictly and kept until its expirationTimestamp.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "kube/connection.hpp"

namespace karmor::kube {

struct ExecCredential {
    std::string token;
    std::string cert_pem;
    std::string key_pem;
    std::optional<std::chrono::system_clock::time_point> expires;  // none: until the server says 401
};

// The plugin's answer, strictly read: exactly the requested apiVersion, kind ExecCredential,
// a status with a token or a client certificate and key, an RFC 3339 expirationTimestamp.
Result<ExecCredential> parse_exec_credential(const std::string& output, const ExecPlugin& plugin);

// Runs the plugin. `interactive`: karmor's standard input is a terminal, which the plugin gets
// when its interactiveMode allows; otherwise its stdin is /dev/null. Its stderr is karmor's
// (plugins print their prompts and errors there); its stdout is bounded and read.
Result<ExecCredential> run_exec_plugin(const ExecPlugin& plugin, const Connection& connection, bool interactive,
                                       const std::atomic<bool>* cancel);

}  // namespace karmor::kube

namespace karmor {

class KubeCredentialCache {
public:
    // The cached credential of `plugin` for `connection` while it has not expired, else the
    // plugin's new one. `renew`: run the plugin whatever is cached (the server said 401).
    Result<kube::ExecCredential> get(const kube::ExecPlugin& plugin, const kube::Connection& connection,
                                     bool interactive, const std::atomic<bool>* cancel, bool renew);
    int runs() const { return runs_; }  // how often a plugin was run

private:
    std::mutex mutex_;
    std::map<std::string, kube::ExecCredential> entries_;
    int runs_ = 0;
};

}  // namespace karmor
