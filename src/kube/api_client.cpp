#include "kube/api_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <random>

#include "oci/redact.hpp"
#include "util/encoding.hpp"
#include "util/loopback.hpp"
#include "util/retry.hpp"

namespace karmor::kube {
namespace {

constexpr std::uint64_t max_answer_bytes = 64ull << 20;  // a LIST page of 500 large policies fits
constexpr std::size_t max_token_file_bytes = 64u << 10;
constexpr long max_retry_after_ms = 30'000;
constexpr long retry_base_delay_ms = 500;
constexpr long retry_max_delay_ms = 8'000;

struct ServerUrl {
    std::string scheme;
    std::string host;  // as written, IPv6 in brackets
    std::string port;
    std::string prefix;  // a path in front of /apis (a proxy's), "" for none
};

ServerUrl split_server(const std::string& server) {
    ServerUrl url;
    const auto scheme_end = server.find("://");
    url.scheme = server.substr(0, scheme_end);
    auto rest = server.substr(scheme_end + 3);
    const auto slash = rest.find('/');
    if (slash != std::string::npos) {
        url.prefix = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    const auto bracket = rest.rfind(']');
    const auto colon = rest.rfind(':');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        url.host = rest.substr(0, colon);
        url.port = rest.substr(colon + 1);
    } else {
        url.host = rest;
        url.port = url.scheme == "http" ? "80" : "443";
    }
    return url;
}

bool is_loopback(const std::string& host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        return util::is_loopback_ip(std::string_view(host).substr(1, host.size() - 2));
    return util::is_loopback_host(host);
}

// client-go's rule: 429 always; a 5xx when the server says when to come back (Retry-After);
// gateway answers (502-504) too, since a load balancer in front of the API server gives them.
bool is_retryable(const oci::HttpResponse& response) {
    const auto status = response.status;
    if (status == 429 || status == 502 || status == 503 || status == 504) return true;
    return status >= 500 && status < 600 && !response.header("Retry-After").empty();
}

std::string seconds_text(long milliseconds) {
    return milliseconds % 1000 == 0 ? std::to_string(milliseconds / 1000) + " s" : std::to_string(milliseconds) + " ms";
}

std::string trim(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

std::optional<ApiStatus> parse_status(const std::string& body) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object() || json.value("kind", "") != "Status") return std::nullopt;
    ApiStatus status;
    if (json.contains("code") && json["code"].is_number_integer()) status.code = json["code"].get<long>();
    if (json.contains("reason") && json["reason"].is_string()) status.reason = json["reason"].get<std::string>();
    if (json.contains("message") && json["message"].is_string()) status.message = json["message"].get<std::string>();
    if (json.contains("details") && json["details"].is_object() && json["details"].contains("causes") &&
        json["details"]["causes"].is_array()) {
        for (const auto& cause : json["details"]["causes"]) {
            if (!cause.is_object()) continue;
            StatusCause c;
            if (cause.contains("reason") && cause["reason"].is_string()) c.reason = cause["reason"].get<std::string>();
            if (cause.contains("message") && cause["message"].is_string())
                c.message = cause["message"].get<std::string>();
            if (cause.contains("field") && cause["field"].is_string()) c.field = cause["field"].get<std::string>();
            status.causes.push_back(std::move(c));
            if (status.causes.size() >= 100) break;  // bounded: a message, not a data set
        }
    }
    return status;
}

ApiClient::ApiClient(Connection connection, const KubeConnectionOptions& options,
                     std::shared_ptr<KubeCredentialCache> credentials)
    : connection_(std::move(connection)), options_(options), credentials_(std::move(credentials)) {
    if (!credentials_) credentials_ = make_kube_credential_cache();
    const auto url = split_server(connection_.server);
    url_base_ = connection_.server;
    if (!connection_.tls_server_name.empty()) {
        // The URL names the host that TLS checks and sends as SNI; the connection goes to the
        // server's own address, and the Host header names it, as client-go does.
        url_base_ = url.scheme + "://" + connection_.tls_server_name + ":" + url.port + url.prefix;
        host_header_ = url.host + ":" + url.port;
    }
}

void ApiClient::trace(const std::string& line) const {
    if (options_.trace) options_.trace(oci::redact_text(line));
}

bool ApiClient::wait(long milliseconds) const {
    return util::sleep_unless_cancelled(milliseconds, options_.cancel);
}

Result<void> ApiClient::prepare_credentials(bool renew) {
    if (connection_.exec &&
        (renew || !exec_credential_ ||
         (exec_credential_->expires &&
          *exec_credential_->expires <= std::chrono::system_clock::now() + std::chrono::seconds(10)))) {
        auto credential =
            credentials_->get(*connection_.exec, connection_, options_.interactive, options_.cancel, renew);
        if (!credential) return unexpected(std::move(credential).error());
        exec_credential_ = std::move(*credential);
    }
    const std::string& cert =
        exec_credential_ && !exec_credential_->cert_pem.empty() ? exec_credential_->cert_pem : connection_.cert_pem;
    const std::string& key =
        exec_credential_ && !exec_credential_->key_pem.empty() ? exec_credential_->key_pem : connection_.key_pem;
    if (transport_ && cert == transport_cert_) return {};
    oci::TransportOptions transport;
    transport.insecure = connection_.insecure;
    transport.ca_pem = connection_.ca_pem;
    transport.cert_pem = cert;
    transport.key_pem = key;
    if (connection_.proxy_url) transport.proxy = *connection_.proxy_url;
    if (!connection_.tls_server_name.empty()) {
        const auto url = split_server(connection_.server);
        transport.connect_to = {connection_.tls_server_name + ":" + url.port + ":" + url.host + ":" + url.port};
    }
    transport.connect_timeout_ms = options_.connect_timeout_ms;
    transport.cancel = options_.cancel;
    transport_ = oci::make_curl_transport(transport);
    transport_cert_ = cert;
    return {};
}

Result<std::string> ApiClient::authorization_header() const {
    if (exec_credential_ && !exec_credential_->token.empty()) return "Bearer " + exec_credential_->token;
    if (!connection_.token.empty()) return "Bearer " + connection_.token;
    if (!connection_.token_file.empty()) {
        // Read for every request: a projected service account token is rotated under us.
        auto token = read_bounded_file(connection_.token_file, max_token_file_bytes, "the token file");
        if (!token) {
            auto error = std::move(token).error();
            error.kind = ErrorKind::auth;
            return unexpected(std::move(error));
        }
        const auto value = trim(*token);
        if (value.empty())
            return unexpected(Error(ErrorKind::auth, "the token file " + connection_.token_file.string() + " is empty",
                                    "check the tokenFile of the kubeconfig's user, or the service account's mount"));
        return "Bearer " + value;
    }
    if (!connection_.username.empty() || !connection_.password.empty())
        return "Basic " + util::base64_encode(connection_.username + ":" + connection_.password);
    return std::string();
}

Result<oci::HttpResponse> ApiClient::send(const std::string& method, const std::string& path_and_query,
                                          std::string_view body, const std::string& content_type) {
    std::mt19937 jitter{std::random_device{}()};
    bool renewed = false;
    const bool loopback = is_loopback(split_server(connection_.server).host);
    for (int attempt = 1;; ++attempt) {
        if (auto ready = prepare_credentials(false); !ready) return unexpected(std::move(ready).error());
        auto authorization = authorization_header();
        if (!authorization) return unexpected(std::move(authorization).error());
        oci::HttpRequest request;
        request.method = method;
        request.url = url_base_ + path_and_query;
        request.headers.emplace_back("Accept", "application/json");
        if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
        if (!authorization->empty()) request.headers.emplace_back("Authorization", *authorization);
        if (!host_header_.empty()) request.headers.emplace_back("Host", host_header_);
        request.body = body;
        request.max_response_bytes = max_answer_bytes;
        request.timeout_ms = options_.request_timeout_ms;
        ++requests_;
        trace("> " + method + " " + connection_.server + path_and_query);
        auto result = transport_->send(request);
        if (!result.delivered()) {
            trace("< " + result.transport_error);
            if (result.transport == oci::TransportStatus::cancelled)
                return unexpected(Error(ErrorKind::cancelled, "interrupted while talking to the API server"));
            const bool transient =
                result.transport == oci::TransportStatus::timeout || result.transport == oci::TransportStatus::failed ||
                (result.transport == oci::TransportStatus::connect_failed && !(loopback && !connection_.proxy_url));
            if (!transient || attempt >= options_.max_attempts) {
                auto error = transport_error(method, path_and_query, result);
                if (attempt > 1) error.message += " (gave up after " + std::to_string(attempt) + " attempts)";
                return unexpected(std::move(error));
            }
            const long delay = std::min(retry_max_delay_ms, retry_base_delay_ms << (attempt - 1));
            if (!wait(delay / 2 + std::uniform_int_distribution<long>(0, delay / 2)(jitter)))
                return unexpected(Error(ErrorKind::cancelled, "interrupted while waiting to retry"));
            continue;
        }
        auto& response = result.response;
        response.attempts = attempt;
        trace("< " + std::to_string(response.status));
        if (response.status == 401 && connection_.exec && !renewed) {
            // The plugin's credential was revoked or expired early: ask it once more.
            renewed = true;
            if (auto fresh = prepare_credentials(true); !fresh) return unexpected(std::move(fresh).error());
            --attempt;
            continue;
        }
        if (is_retryable(response) && attempt < options_.max_attempts) {
            long delay = util::retry_after_milliseconds(response.header("Retry-After"), max_retry_after_ms);
            if (delay < 0) {
                delay = std::min(retry_max_delay_ms, retry_base_delay_ms << (attempt - 1));
                delay = delay / 2 + std::uniform_int_distribution<long>(0, delay / 2)(jitter);
            }
            trace("* " + std::to_string(response.status) + ": retrying in " + std::to_string(delay) + " ms");
            if (!wait(delay)) return unexpected(Error(ErrorKind::cancelled, "interrupted while waiting to retry"));
            continue;
        }
        return std::move(response);
    }
}

Error ApiClient::transport_error(const std::string& method, const std::string& path,
                                 const oci::HttpResult& result) const {
    const std::string where = "the Kubernetes API server at " + connection_.server + " (" + connection_.origin + ")";
    const std::string said = result.transport_error.empty() ? "" : ": " + result.transport_error;
    using oci::TransportStatus;
    switch (result.transport) {
        case TransportStatus::connect_failed:
            return Error(ErrorKind::registry, "cannot connect to " + where + said,
                         "check that the cluster is up and that the kubeconfig's server is right (`kubectl "
                         "cluster-info` uses the same)");
        case TransportStatus::tls_verify_failed:
            return Error(ErrorKind::registry,
                         "the TLS certificate of " + where + " did not verify against " +
                             (connection_.ca_pem.empty() ? "the system's CAs" : connection_.ca_origin) + said,
                         "the cluster's certificate-authority must be the CA that signed the API server's "
                         "certificate (and tls-server-name a name in it); kubectl would refuse it too");
        case TransportStatus::tls_handshake_failed:
            return Error(ErrorKind::registry, "TLS handshake with " + where + " failed" + said,
                         "check the server URL (https) and the client certificate of the kubeconfig's user");
        case TransportStatus::timeout:
            return Error(ErrorKind::registry,
                         where + ": no answer to " + method + " " + path + " within " +
                             seconds_text(options_.request_timeout_ms) + said,
                         "the API server is slow or unreachable; check it, or raise --request-timeout");
        case TransportStatus::response_too_large:
            return Error(ErrorKind::registry, where + " answered " + method + " " + path + " with more than " +
                                                  std::to_string(max_answer_bytes) + " bytes");
        case TransportStatus::cancelled: return Error(ErrorKind::cancelled, "interrupted while talking to " + where);
        case TransportStatus::unavailable:
            return Error(ErrorKind::io, "cannot reach " + where + said, "install the package named above");
        case TransportStatus::ok:
        case TransportStatus::failed: break;
    }
    return Error(ErrorKind::registry, method + " " + path + " to " + where + " failed" + said,
                 "check the server URL and any proxy between (proxy-url, HTTPS_PROXY)");
}

Error ApiClient::http_error(const RequestPurpose& purpose, const oci::HttpResponse& response) const {
    const auto status = parse_status(response.body);
    const std::string said = status && !status->message.empty() ? ": " + status->message : "";
    const std::string where = "the API server at " + connection_.server;
    const std::string in_namespace = purpose.namespace_name.empty() ? "" : " in namespace " + purpose.namespace_name;
    const std::string object = purpose.resource + (purpose.name.empty() ? "" : "/" + purpose.name) + in_namespace;
    const long code = response.status;
    if (code == 401) {
        std::string hint = "the kubeconfig's user has no credentials: give it a token, a client certificate or an "
                           "exec plugin";
        if (connection_.exec)
            hint = "the exec plugin's credential was refused even when renewed: log in again with the plugin's tool";
        else if (!connection_.token_file.empty())
            hint = "the token in " + connection_.token_file.string() + " is expired, revoked or not for this cluster";
        else if (!connection_.token.empty())
            hint = "the user's token is expired, revoked or not for this cluster";
        else if (!connection_.cert_pem.empty())
            hint = "the client certificate is expired or not signed by a CA this cluster trusts";
        else if (!connection_.username.empty())
            hint = "the user name and password are wrong, or the cluster does not take basic authentication";
        return Error(ErrorKind::auth,
                     where + " did not accept the credentials of " + connection_.origin + " (401 Unauthorized)", hint);
    }
    if (code == 403) {
        // The verb the authorizer checked: a server-side apply that creates is also checked as
        // "create", and the server's message ("… cannot create resource …") says so.
        std::string verb = purpose.verb;
        if (status) {
            const auto at = status->message.find(" cannot ");
            const auto end = at == std::string::npos ? at : status->message.find(" resource", at + 8);
            if (end != std::string::npos && end - at - 8 < 32) verb = status->message.substr(at + 8, end - at - 8);
        }
        return Error(ErrorKind::auth, where + " forbids " + verb + " on " + object + " (403 Forbidden)" + said,
                     "grant the verb \"" + verb + "\" on " + purpose.resource +
                         " to this user or service account with RBAC (a ClusterRole with apiGroups "
                         "[security.kubearmor.com], the four resources, verbs [get, list, create, patch, delete]; "
                         "docs/kubernetes.md shows it)");
    }
    Error error(ErrorKind::registry,
                where + " answered HTTP " + std::to_string(code) + " to " + purpose.verb + " " + object + said);
    if (status)
        for (const auto& cause : status->causes)
            error.details.push_back((cause.field.empty() ? "" : cause.field + ": ") + cause.message);
    if (code == 404) {
        error.kind = ErrorKind::not_found;
        error.message = where + " does not serve " + purpose.resource +
                        ": KubeArmor's custom resource definitions are not installed in this cluster";
        error.hint = "install KubeArmor (its Helm chart or operator installs the CRDs), then check with `kubectl get "
                     "crd " +
                     purpose.resource + "`";
    } else if (code == 409) {
        error.message = where + " refused " + purpose.verb + " " + object + " (409 Conflict)" + said;
        error.hint = "another field manager owns these fields; --force-conflicts takes them over";
    } else if (code == 422 || code == 400) {
        error.kind = ErrorKind::validation;
        error.message = where + " refused " + object + " (" + std::to_string(code) + " " +
                        (status && !status->reason.empty() ? status->reason : "Invalid") + ")" + said;
        error.hint = "fix the policy: the cluster's CRD (its schema and validation rules) refuses it";
    } else if (code >= 500) {
        error.hint = "the API server failed; try again, and check its health (its /readyz endpoint)";
    }
    return error;
}

}  // namespace karmor::kube
