// kubeconfig files as kubectl reads them (client-go's clientcmd loading rules), and the
// in-cluster service account.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "kube/connection.hpp"
#include "policy/conversion.hpp"
#include "util/encoding.hpp"

namespace karmor::kube {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr std::size_t max_kubeconfig_bytes = 4u << 20;
constexpr std::size_t max_credential_file_bytes = 1u << 20;
constexpr std::size_t max_kubeconfig_files = 100;

const std::string kubeconfig_hint = "check the file against `kubectl config view`";

struct LoadedFile {
    fs::path path;
    Json root;
};

Error bad_field(const fs::path& file, const std::string& field, const std::string& what) {
    return Error(ErrorKind::usage, file.string() + ": " + field + ": " + what, kubeconfig_hint);
}

Result<LoadedFile> read_kubeconfig(const fs::path& path) {
    auto text = read_bounded_file(path, max_kubeconfig_bytes, "kubeconfig");
    if (!text) return unexpected(std::move(text).error());
    // Two documents at most: the second is refused.
    std::vector<Diagnostic> problems;
    auto read = policy::read_json_documents(*text, SourcePosition{path.string(), 1, 0, 0}, 2, problems);
    if (read.syntax_error)
        return unexpected(Error(ErrorKind::usage,
                                path.string() + ":" + std::to_string(read.syntax_error->line) + ":" +
                                    std::to_string(read.syntax_error->column) +
                                    ": not YAML: " + read.syntax_error->message,
                                kubeconfig_hint));
    if (read.documents.empty())
        return LoadedFile{path, Json::object()};  // an empty file is an empty config, as for kubectl
    if (!problems.empty()) {
        Error error(ErrorKind::usage, path.string() + ": the kubeconfig is not valid", kubeconfig_hint);
        add_diagnostics(error, problems);
        return unexpected(std::move(error));
    }
    if (read.documents.size() > 1)
        return unexpected(Error(ErrorKind::usage, path.string() + ": holds more than one YAML document",
                                "a kubeconfig is one document"));
    Json root = std::move(read.documents.front());
    if (root.is_null()) root = Json::object();
    if (!root.is_object()) return unexpected(bad_field(path, "(top level)", "is not a mapping"));
    return LoadedFile{path, std::move(root)};
}

// A string field of `object`, "" when absent; an error when it is there with another type.
Result<std::string> string_field(const Json& object, const char* key, const fs::path& file, const std::string& where) {
    const auto found = object.find(key);
    if (found == object.end()) return std::string();
    if (!found->is_string()) return unexpected(bad_field(file, where + "." + key, "must be a string"));
    return found->get<std::string>();
}

Result<bool> bool_field(const Json& object, const char* key, const fs::path& file, const std::string& where) {
    const auto found = object.find(key);
    if (found == object.end()) return false;
    if (!found->is_boolean()) return unexpected(bad_field(file, where + "." + key, "must be true or false"));
    return found->get<bool>();
}

struct Named {
    const Json* value = nullptr;
    fs::path file;
    std::string where;  // e.g. users[2].user
};

// clusters, contexts or users of every file: the first file to name one wins (kubectl's merge).
Result<void> collect(const LoadedFile& loaded, const char* list, const char* inner, std::map<std::string, Named>& out) {
    const auto found = loaded.root.find(list);
    if (found == loaded.root.end() || found->is_null()) return {};
    if (!found->is_array()) return unexpected(bad_field(loaded.path, list, "must be a list"));
    std::set<std::string> in_this_file;
    for (std::size_t i = 0; i < found->size(); ++i) {
        const auto& entry = (*found)[i];
        const std::string where = std::string(list) + "[" + std::to_string(i) + "]";
        if (!entry.is_object()) return unexpected(bad_field(loaded.path, where, "must be a mapping"));
        auto name = string_field(entry, "name", loaded.path, where);
        if (!name) return unexpected(std::move(name).error());
        if (name->empty()) return unexpected(bad_field(loaded.path, where + ".name", "is missing"));
        if (!in_this_file.insert(*name).second)
            return unexpected(bad_field(loaded.path, where, "a second entry named \"" + *name + "\""));
        const auto body = entry.find(inner);
        static const Json empty = Json::object();
        const Json* value = &empty;
        if (body != entry.end() && !body->is_null()) {
            if (!body->is_object()) return unexpected(bad_field(loaded.path, where + "." + inner, "must be a mapping"));
            value = &*body;
        }
        out.try_emplace(*name, Named{value, loaded.path, where + "." + inner});
    }
    return {};
}

// A path in a kubeconfig is relative to the file's directory (clientcmd's ResolvePaths).
fs::path resolve_path(const std::string& path, const fs::path& kubeconfig) {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return kubeconfig.parent_path() / path;
}

Result<std::string> decode_data(const std::string& base64, const fs::path& file, const std::string& field) {
    auto decoded = util::base64_decode(base64);
    if (!decoded) return unexpected(bad_field(file, field, "is not base64"));
    return std::move(*decoded);
}

// file or -data (both set is an error, as for kubectl); "" when neither.
Result<std::string> file_or_data(const Json& object, const char* file_key, const char* data_key, const Named& named,
                                 std::string* origin = nullptr) {
    auto path = string_field(object, file_key, named.file, named.where);
    if (!path) return unexpected(std::move(path).error());
    auto data = string_field(object, data_key, named.file, named.where);
    if (!data) return unexpected(std::move(data).error());
    if (!path->empty() && !data->empty())
        return unexpected(
            bad_field(named.file, named.where, std::string(file_key) + " and " + data_key + " are both set; keep one"));
    if (!data->empty()) {
        if (origin) *origin = std::string(data_key) + " of " + named.where + " in " + named.file.string();
        return decode_data(*data, named.file, named.where + "." + data_key);
    }
    if (path->empty()) return std::string();
    const auto resolved = resolve_path(*path, named.file);
    if (origin) *origin = resolved.string();
    return read_bounded_file(resolved, max_credential_file_bytes, std::string(file_key) + " of " + named.where);
}

Result<ExecPlugin> read_exec(const Json& exec, const Named& user) {
    const std::string where = user.where + ".exec";
    const auto field = [&](const char* key) { return string_field(exec, key, user.file, where); };
    ExecPlugin plugin;
    auto api_version = field("apiVersion");
    auto command = field("command");
    auto mode = field("interactiveMode");
    auto hint = field("installHint");
    auto provide = bool_field(exec, "provideClusterInfo", user.file, where);
    for (auto* r : {&api_version, &command, &mode, &hint})
        if (!*r) return unexpected(std::move(*r).error());
    if (!provide) return unexpected(std::move(provide).error());
    plugin.api_version = *api_version;
    plugin.install_hint = *hint;
    plugin.provide_cluster_info = *provide;
    if (plugin.api_version == "client.authentication.k8s.io/v1alpha1")
        return unexpected(bad_field(user.file, where + ".apiVersion",
                                    "client.authentication.k8s.io/v1alpha1 is no longer supported (kubectl dropped it "
                                    "in 1.24); use client.authentication.k8s.io/v1 or v1beta1"));
    if (plugin.api_version != "client.authentication.k8s.io/v1" &&
        plugin.api_version != "client.authentication.k8s.io/v1beta1")
        return unexpected(
            bad_field(user.file, where + ".apiVersion",
                      "\"" + plugin.api_version + "\" is not client.authentication.k8s.io/v1 or v1beta1"));
    if (command->empty()) return unexpected(bad_field(user.file, where + ".command", "is missing"));
    plugin.command = command->find('/') != std::string::npos ? resolve_path(*command, user.file).string() : *command;
    // v1 must say how it may prompt; v1beta1 defaults to IfAvailable.
    if (mode->empty()) {
        if (plugin.api_version == "client.authentication.k8s.io/v1")
            return unexpected(
                bad_field(user.file, where + ".interactiveMode",
                          "is required for client.authentication.k8s.io/v1 (Never, IfAvailable or Always)"));
        *mode = "IfAvailable";
    }
    if (*mode != "Never" && *mode != "IfAvailable" && *mode != "Always")
        return unexpected(
            bad_field(user.file, where + ".interactiveMode", "\"" + *mode + "\" is not Never, IfAvailable or Always"));
    plugin.interactive_mode = *mode;
    if (const auto args = exec.find("args"); args != exec.end() && !args->is_null()) {
        if (!args->is_array()) return unexpected(bad_field(user.file, where + ".args", "must be a list of strings"));
        for (const auto& arg : *args) {
            if (!arg.is_string()) return unexpected(bad_field(user.file, where + ".args", "must be a list of strings"));
            plugin.args.push_back(arg.get<std::string>());
        }
    }
    if (const auto env = exec.find("env"); env != exec.end() && !env->is_null()) {
        if (!env->is_array()) return unexpected(bad_field(user.file, where + ".env", "must be a list of name/value"));
        for (const auto& entry : *env) {
            if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
                !entry.contains("value") || !entry["value"].is_string())
                return unexpected(bad_field(user.file, where + ".env", "each entry needs a string name and value"));
            plugin.env.emplace_back(entry["name"].get<std::string>(), entry["value"].get<std::string>());
        }
    }
    return plugin;
}

Result<void> read_user(const Named& user, Connection& connection) {
    const Json& u = *user.value;
    const auto refuse = [&](const std::string& what, const std::string& hint) {
        return unexpected(Error(ErrorKind::usage, user.file.string() + ": " + user.where + ": " + what, hint));
    };
    if (u.contains("auth-provider") && !u["auth-provider"].is_null()) {
        std::string name = u["auth-provider"].is_object() && u["auth-provider"].contains("name") &&
                                   u["auth-provider"]["name"].is_string()
                               ? u["auth-provider"]["name"].get<std::string>()
                               : "?";
        return refuse("uses the auth-provider \"" + name +
                          "\", which kubectl removed in 1.26 and karmor does not support",
                      "switch the user to its exec credential plugin (gke-gcloud-auth-plugin for GKE, kubelogin "
                      "for AKS, oidc-login for OIDC), as kubectl needs too");
    }
    for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"})
        if (u.contains(key) && !u[key].is_null())
            return refuse(std::string("sets ") + key + " (impersonation), which karmor does not support",
                          "use a user that has the rights itself");
    auto cert = file_or_data(u, "client-certificate", "client-certificate-data", user);
    if (!cert) return unexpected(std::move(cert).error());
    auto key = file_or_data(u, "client-key", "client-key-data", user);
    if (!key) return unexpected(std::move(key).error());
    if (cert->empty() != key->empty())
        return refuse("has a client certificate without its key (or a key without its certificate)",
                      "set both client-certificate(-data) and client-key(-data)");
    connection.cert_pem = std::move(*cert);
    connection.key_pem = std::move(*key);
    auto token = string_field(u, "token", user.file, user.where);
    auto token_file = string_field(u, "tokenFile", user.file, user.where);
    auto username = string_field(u, "username", user.file, user.where);
    auto password = string_field(u, "password", user.file, user.where);
    for (auto* r : {&token, &token_file, &username, &password})
        if (!*r) return unexpected(std::move(*r).error());
    connection.token = *token;
    if (!token_file->empty()) connection.token_file = resolve_path(*token_file, user.file);
    connection.username = *username;
    connection.password = *password;
    if ((!connection.token.empty() || !connection.token_file.empty()) && !connection.username.empty())
        return refuse("sets both a token and a username/password", "keep one way to authenticate");
    if (const auto exec = u.find("exec"); exec != u.end() && !exec->is_null()) {
        if (!exec->is_object()) return refuse("exec must be a mapping", kubeconfig_hint);
        auto plugin = read_exec(*exec, user);
        if (!plugin) return unexpected(std::move(plugin).error());
        connection.exec = std::move(*plugin);
    }
    return {};
}

Result<void> read_cluster(const Named& cluster, Connection& connection) {
    const Json& c = *cluster.value;
    auto server = string_field(c, "server", cluster.file, cluster.where);
    if (!server) return unexpected(std::move(server).error());
    if (server->empty()) return unexpected(bad_field(cluster.file, cluster.where + ".server", "is missing"));
    std::string url = *server;
    if (url.find("://") == std::string::npos) url = "https://" + url;
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
        return unexpected(
            bad_field(cluster.file, cluster.where + ".server", "\"" + *server + "\" is not an http(s) URL"));
    while (url.size() > 8 && url.back() == '/') url.pop_back();
    connection.server = url;
    auto ca = file_or_data(c, "certificate-authority", "certificate-authority-data", cluster, &connection.ca_origin);
    if (!ca) return unexpected(std::move(ca).error());
    connection.ca_pem = std::move(*ca);
    if (auto data = string_field(c, "certificate-authority-data", cluster.file, cluster.where); data)
        connection.cluster_ca_data_base64 = *data;
    if (connection.cluster_ca_data_base64.empty() && !connection.ca_pem.empty())
        connection.cluster_ca_data_base64 = util::base64_encode(connection.ca_pem);
    auto insecure = bool_field(c, "insecure-skip-tls-verify", cluster.file, cluster.where);
    if (!insecure) return unexpected(std::move(insecure).error());
    connection.insecure = *insecure;
    if (connection.insecure && !connection.ca_pem.empty())
        return unexpected(bad_field(cluster.file, cluster.where,
                                    "insecure-skip-tls-verify is set together with a certificate authority; "
                                    "kubectl refuses that too: keep one"));
    auto server_name = string_field(c, "tls-server-name", cluster.file, cluster.where);
    if (!server_name) return unexpected(std::move(server_name).error());
    connection.tls_server_name = *server_name;
    if (c.contains("proxy-url")) {
        auto proxy = string_field(c, "proxy-url", cluster.file, cluster.where);
        if (!proxy) return unexpected(std::move(proxy).error());
        const auto& p = *proxy;
        if (!p.empty() && p.rfind("http://", 0) != 0 && p.rfind("https://", 0) != 0 && p.rfind("socks5://", 0) != 0)
            return unexpected(bad_field(cluster.file, cluster.where + ".proxy-url",
                                        "\"" + p + "\" is not an http, https or socks5 URL"));
        if (!p.empty()) connection.proxy_url = p;
    }
    return {};
}

std::string env_value(const Getenv& getenv, const char* name) {
    const char* value = getenv(name);
    return value ? value : "";
}

Result<Connection> in_cluster(const KubeConnectionOptions& options, const Getenv& getenv) {
    const auto host = env_value(getenv, "KUBERNETES_SERVICE_HOST");
    const auto port = env_value(getenv, "KUBERNETES_SERVICE_PORT");
    const auto overridden = env_value(getenv, "KARMOR_SERVICE_ACCOUNT_DIR");
    const fs::path directory = overridden.empty() ? fs::path(service_account_directory) : fs::path(overridden);
    Connection connection;
    connection.context = "in-cluster";
    connection.origin = "the in-cluster service account (" + directory.string() + ")";
    // An IPv6 service address is written in brackets in a URL.
    connection.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
    connection.token_file = directory / "token";
    std::error_code ec;
    if (!fs::exists(connection.token_file, ec))
        return unexpected(Error(ErrorKind::auth,
                                "KUBERNETES_SERVICE_HOST is set but " + connection.token_file.string() +
                                    " does not exist: no service account token is mounted",
                                "give the pod a service account with automountServiceAccountToken, or pass "
                                "--kubeconfig"));
    auto ca = read_bounded_file(directory / "ca.crt", max_credential_file_bytes, "the service account's CA");
    if (!ca) return unexpected(std::move(ca).error());
    connection.ca_pem = std::move(*ca);
    connection.ca_origin = (directory / "ca.crt").string();
    if (fs::exists(directory / "namespace", ec)) {
        auto ns = read_bounded_file(directory / "namespace", 256, "the service account's namespace");
        if (!ns) return unexpected(std::move(ns).error());
        connection.namespace_name = *ns;
        while (!connection.namespace_name.empty() &&
               (connection.namespace_name.back() == '\n' || connection.namespace_name.back() == ' '))
            connection.namespace_name.pop_back();
    }
    if (!options.context.empty())
        return unexpected(Error(ErrorKind::usage,
                                "--context " + options.context +
                                    ": there is no kubeconfig, only the in-cluster "
                                    "service account",
                                "drop --context, or pass --kubeconfig"));
    return connection;
}

}  // namespace

Result<std::string> read_bounded_file(const fs::path& file, std::size_t max_bytes, const std::string& what) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec)
        return unexpected(Error(ErrorKind::io, "cannot read " + what + " " + file.string() + ": " + ec.message(),
                                "check the path in the kubeconfig"));
    if (size > max_bytes)
        return unexpected(Error(ErrorKind::io,
                                what + " " + file.string() + " is " + std::to_string(size) +
                                    " bytes, over the limit of " + std::to_string(max_bytes),
                                "check that the path names the right file"));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) return unexpected(Error(ErrorKind::io, "cannot read " + what + " " + file.string()));
    auto text = buffer.str();
    if (text.size() > max_bytes)
        return unexpected(Error(ErrorKind::io, what + " " + file.string() + " grew over the limit while read"));
    return text;
}

Result<Connection> load_connection(const KubeConnectionOptions& options, const Getenv& getenv) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (!options.kubeconfig.empty()) {
        if (!fs::exists(options.kubeconfig, ec))
            return unexpected(
                Error(ErrorKind::io, "--kubeconfig " + options.kubeconfig + " does not exist", "check the path"));
        files.push_back(options.kubeconfig);
    } else if (const auto list = env_value(getenv, "KUBECONFIG"); !list.empty()) {
        std::set<fs::path> seen;
        std::istringstream entries(list);
        std::string entry;
        while (std::getline(entries, entry, ':')) {
            if (entry.empty() || !seen.insert(entry).second) continue;
            if (fs::exists(entry, ec)) files.push_back(entry);  // missing entries are skipped, as by kubectl
        }
        if (files.size() > max_kubeconfig_files)
            return unexpected(Error(ErrorKind::usage,
                                    "KUBECONFIG lists more than " + std::to_string(max_kubeconfig_files) + " files"));
    } else if (const auto home = env_value(getenv, "HOME"); !home.empty()) {
        const auto default_file = fs::path(home) / ".kube" / "config";
        if (fs::exists(default_file, ec)) files.push_back(default_file);
    }
    if (files.empty()) {
        if (!env_value(getenv, "KUBERNETES_SERVICE_HOST").empty() &&
            !env_value(getenv, "KUBERNETES_SERVICE_PORT").empty())
            return in_cluster(options, getenv);
        return unexpected(
            Error(ErrorKind::usage,
                  "no kubeconfig: " +
                      std::string(env_value(getenv, "KUBECONFIG").empty() ? "~/.kube/config does not exist"
                                                                          : "none of the files in KUBECONFIG exists") +
                      ", and this is not a pod (KUBERNETES_SERVICE_HOST is not set)",
                  "pass --kubeconfig FILE, set KUBECONFIG, or run where kubectl works"));
    }

    std::vector<LoadedFile> loaded;
    for (const auto& file : files) {
        auto one = read_kubeconfig(file);
        if (!one) return unexpected(std::move(one).error());
        loaded.push_back(std::move(*one));
    }
    std::map<std::string, Named> clusters, users, contexts;
    std::string current_context;
    fs::path current_context_file;
    for (const auto& file : loaded) {
        for (auto [list, inner, out] :
             {std::tuple{"clusters", "cluster", &clusters}, std::tuple{"users", "user", &users},
              std::tuple{"contexts", "context", &contexts}})
            if (auto ok = collect(file, list, inner, *out); !ok) return unexpected(std::move(ok).error());
        auto current = string_field(file.root, "current-context", file.path, "");
        if (!current) return unexpected(std::move(current).error());
        if (current_context.empty() && !current->empty()) {
            current_context = *current;
            current_context_file = file.path;
        }
    }
    std::string files_text;
    for (const auto& file : files) files_text += (files_text.empty() ? "" : ", ") + file.string();

    const std::string context_name = options.context.empty() ? current_context : options.context;
    if (context_name.empty())
        return unexpected(Error(ErrorKind::usage, "the kubeconfig (" + files_text + ") sets no current-context",
                                "pass --context NAME, or choose one with `kubectl config use-context NAME`"));
    const auto context = contexts.find(context_name);
    if (context == contexts.end()) {
        std::string known;
        for (const auto& [name, _] : contexts) known += (known.empty() ? "" : ", ") + name;
        return unexpected(
            Error(ErrorKind::usage, "context \"" + context_name + "\" is not in the kubeconfig (" + files_text + ")",
                  known.empty() ? "the kubeconfig defines no context" : "the contexts there are: " + known));
    }
    Connection connection;
    connection.context = context_name;
    connection.origin = "context \"" + context_name + "\" of " + context->second.file.string();
    const auto& ctx = *context->second.value;
    auto cluster_name = string_field(ctx, "cluster", context->second.file, context->second.where);
    auto user_name = string_field(ctx, "user", context->second.file, context->second.where);
    auto ns = string_field(ctx, "namespace", context->second.file, context->second.where);
    for (auto* r : {&cluster_name, &user_name, &ns})
        if (!*r) return unexpected(std::move(*r).error());
    connection.namespace_name = *ns;
    const auto cluster = clusters.find(*cluster_name);
    if (cluster == clusters.end())
        return unexpected(
            Error(ErrorKind::usage,
                  connection.origin + " names the cluster \"" + *cluster_name + "\", which no kubeconfig file defines",
                  kubeconfig_hint));
    if (auto ok = read_cluster(cluster->second, connection); !ok) return unexpected(std::move(ok).error());
    if (!user_name->empty()) {
        const auto user = users.find(*user_name);
        if (user == users.end())
            return unexpected(
                Error(ErrorKind::usage,
                      connection.origin + " names the user \"" + *user_name + "\", which no kubeconfig file defines",
                      kubeconfig_hint));
        if (auto ok = read_user(user->second, connection); !ok) return unexpected(std::move(ok).error());
    }
    return connection;
}

}  // namespace karmor::kube
