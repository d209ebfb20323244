#include "kube/exec_credential.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <vector>

#include "util/file_descriptor.hpp"

extern char** environ;

namespace karmor::kube {
namespace {

constexpr std::size_t max_plugin_output_bytes = 1u << 20;
// A plugin that prompts (a browser login, a one-time code) is given longer.
constexpr int plugin_timeout_seconds = 60;
constexpr int interactive_plugin_timeout_seconds = 300;

Error plugin_error(const ExecPlugin& plugin, const std::string& what) {
    return Error(ErrorKind::auth, "the exec credential plugin " + plugin.command + " " + what,
                 plugin.install_hint.empty() ? "run it by hand to see what it says; check the user's exec section in "
                                               "the kubeconfig"
                                             : plugin.install_hint);
}

// metav1.Time as the API machinery writes it: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(const std::string& text) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
        consumed != 19)
        return std::nullopt;
    std::size_t at = 19;
    if (at < text.size() && text[at] == '.') {
        ++at;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
    }
    long offset = 0;
    const std::string zone = text.substr(at);
    if (zone == "Z") {
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
               std::isdigit(static_cast<unsigned char>(zone[1])) && std::isdigit(static_cast<unsigned char>(zone[2])) &&
               std::isdigit(static_cast<unsigned char>(zone[4])) && std::isdigit(static_cast<unsigned char>(zone[5]))) {
        offset = (std::stol(zone.substr(1, 2)) * 60 + std::stol(zone.substr(4, 2))) * 60 * (zone[0] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const time_t seconds = timegm(&tm);
    return std::chrono::system_clock::from_time_t(seconds - offset);
}

std::string exec_info(const ExecPlugin& plugin, const Connection& connection, bool interactive) {
    nlohmann::ordered_json spec = {{"interactive", interactive}};
    if (plugin.provide_cluster_info) {
        nlohmann::ordered_json cluster = {{"server", connection.server}};
        if (!connection.tls_server_name.empty()) cluster["tls-server-name"] = connection.tls_server_name;
        if (connection.insecure) cluster["insecure-skip-tls-verify"] = true;
        if (!connection.cluster_ca_data_base64.empty())
            cluster["certificate-authority-data"] = connection.cluster_ca_data_base64;
        if (connection.proxy_url) cluster["proxy-url"] = *connection.proxy_url;
        spec["cluster"] = std::move(cluster);
    }
    return nlohmann::ordered_json{{"kind", "ExecCredential"}, {"apiVersion", plugin.api_version}, {"spec", spec}}
        .dump();
}

using Fd = util::FileDescriptor;

}  // namespace

Result<ExecCredential> parse_exec_credential(const std::string& output, const ExecPlugin& plugin) {
    const auto json = nlohmann::json::parse(output, nullptr, false);
    if (!json.is_object()) return unexpected(plugin_error(plugin, "printed something that is not a JSON object"));
    static const std::set<std::string> top_level{"apiVersion", "kind", "spec", "status"};
    for (const auto& [key, _] : json.items())
        if (!top_level.contains(key))
            return unexpected(plugin_error(plugin, "printed an ExecCredential with the unknown field \"" + key + "\""));
    if (!json.contains("apiVersion") || json["apiVersion"] != plugin.api_version)
        return unexpected(plugin_error(
            plugin, "answered apiVersion " + (json.contains("apiVersion") ? json["apiVersion"].dump() : "(none)") +
                        ", not " + plugin.api_version + " as the kubeconfig asked"));
    if (!json.contains("kind") || json["kind"] != "ExecCredential")
        return unexpected(plugin_error(plugin, "answered a kind other than ExecCredential"));
    if (!json.contains("status") || !json["status"].is_object())
        return unexpected(plugin_error(plugin, "answered an ExecCredential without a status"));
    ExecCredential credential;
    for (const auto& [key, value] : json["status"].items()) {
        if (!value.is_string())
            return unexpected(plugin_error(plugin, "answered status." + key + " that is not a string"));
        const auto text = value.get<std::string>();
        if (key == "token") {
            credential.token = text;
        } else if (key == "clientCertificateData") {
            credential.cert_pem = text;
        } else if (key == "clientKeyData") {
            credential.key_pem = text;
        } else if (key == "expirationTimestamp") {
            credential.expires = parse_timestamp(text);
            if (!credential.expires)
                return unexpected(plugin_error(plugin, "answered expirationTimestamp \"" + text +
                                                           "\", which is not an RFC 3339 time"));
        } else {
            return unexpected(plugin_error(plugin, "answered the unknown field status." + key));
        }
    }
    if (credential.cert_pem.empty() != credential.key_pem.empty())
        return unexpected(
            plugin_error(plugin, "answered a client certificate without its key (or a key without its certificate)"));
    if (credential.token.empty() && credential.cert_pem.empty())
        return unexpected(plugin_error(plugin, "answered neither a token nor a client certificate"));
    return credential;
}

Result<ExecCredential> run_exec_plugin(const ExecPlugin& plugin, const Connection& connection, bool interactive,
                                       const std::atomic<bool>* cancel) {
    const bool prompt = interactive && plugin.interactive_mode != "Never";
    if (plugin.interactive_mode == "Always" && !interactive)
        return unexpected(Error(ErrorKind::auth,
                                "the exec credential plugin " + plugin.command +
                                    " needs a terminal (interactiveMode: Always) and standard input is not one",
                                "run karmor on a terminal once to log in, or use a plugin mode that does not prompt"));
    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0)
        return unexpected(Error(ErrorKind::io, std::string("cannot create a pipe: ") + std::strerror(errno)));
    Fd out_read(out_pipe[0]), out_write(out_pipe[1]);

    std::vector<std::string> environment;
    std::set<std::string> replaced{"KUBERNETES_EXEC_INFO"};
    for (const auto& [name, _] : plugin.env) replaced.insert(name);
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        if (!replaced.contains(entry.substr(0, entry.find('=')))) environment.push_back(entry);
    }
    for (const auto& [name, value] : plugin.env) environment.push_back(name + "=" + value);
    environment.push_back("KUBERNETES_EXEC_INFO=" + exec_info(plugin, connection, prompt));
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<std::string> args{plugin.command};
    args.insert(args.end(), plugin.args.begin(), plugin.args.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!prompt) posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, plugin.command.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    out_write.reset();
    if (rc != 0)
        return unexpected(Error(ErrorKind::auth,
                                "cannot run the exec credential plugin " + plugin.command + ": " + std::strerror(rc),
                                plugin.install_hint.empty() ? "install it, or check the command of the user's exec "
                                                              "section in the kubeconfig (it is looked up on PATH)"
                                                            : plugin.install_hint));

    std::string output;
    bool too_large = false, timed_out = false, interrupted = false;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::seconds(prompt ? interactive_plugin_timeout_seconds : plugin_timeout_seconds);
    char buffer[8192];
    while (out_read.get() >= 0) {
        if (cancel && cancel->load()) {
            interrupted = true;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            timed_out = true;
            break;
        }
        pollfd fd{out_read.get(), POLLIN, 0};
        const int ready = poll(&fd, 1, 100);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        const ssize_t n = read(out_read.get(), buffer, sizeof buffer);
        if (n <= 0) {
            out_read.reset();
            break;
        }
        output.append(buffer, static_cast<std::size_t>(n));
        if (output.size() > max_plugin_output_bytes) {
            too_large = true;
            break;
        }
    }
    if (too_large || timed_out || interrupted) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (interrupted) return unexpected(Error(ErrorKind::cancelled, "interrupted while the exec credential plugin ran"));
    if (timed_out)
        return unexpected(plugin_error(
            plugin, "did not answer within " +
                        std::to_string(prompt ? interactive_plugin_timeout_seconds : plugin_timeout_seconds) + " s"));
    if (too_large)
        return unexpected(plugin_error(plugin, "printed more than " + std::to_string(max_plugin_output_bytes) +
                                                   " bytes, which is no ExecCredential"));
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) return unexpected(plugin_error(plugin, "failed with exit code " + std::to_string(code)));
    return parse_exec_credential(output, plugin);
}

}  // namespace karmor::kube

namespace karmor {

std::shared_ptr<KubeCredentialCache> make_kube_credential_cache() {
    return std::make_shared<KubeCredentialCache>();
}

Result<kube::ExecCredential> KubeCredentialCache::get(const kube::ExecPlugin& plugin,
                                                      const kube::Connection& connection, bool interactive,
                                                      const std::atomic<bool>* cancel, bool renew) {
    std::lock_guard lock(mutex_);
    std::string key = plugin.api_version + '\0' + plugin.command + '\0' + connection.server;
    for (const auto& arg : plugin.args) key += '\0' + arg;
    for (const auto& [name, value] : plugin.env) key += '\0' + name + '=' + value;
    const auto cached = entries_.find(key);
    // A credential about to expire is renewed: a request sent with it could arrive too late.
    const auto soon = std::chrono::system_clock::now() + std::chrono::seconds(10);
    if (!renew && cached != entries_.end() && (!cached->second.expires || *cached->second.expires > soon))
        return cached->second;
    ++runs_;
    auto fresh = kube::run_exec_plugin(plugin, connection, interactive, cancel);
    if (!fresh) return unexpected(std::move(fresh).error());
    entries_[key] = *fresh;
    return std::move(*fresh);
}

}  // namespace karmor
