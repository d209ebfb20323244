// Requests to a Kubernetes API server over the HttpTransport (libcurl): authentication as the
// connection says (client certificate, bearer token re-read from its file, basic, exec plugin),
// retries on 429 and on 5xx that ask for it, and the server's Status objects turned into errors
// that name the verb and resource.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/connection.hpp"
#include "kube/exec_credential.hpp"
#include "oci/http.hpp"

namespace karmor::kube {

// What a request was for, so that an error can say what the user lacks.
struct RequestPurpose {
    std::string verb;      // get, list, patch, delete (as RBAC names them)
    std::string resource;  // kubearmorpolicies.security.kubearmor.com
    std::string namespace_name;
    std::string name;
};

struct StatusCause {
    std::string reason;
    std::string message;
    std::string field;
};

// A metav1.Status, as API servers answer errors.
struct ApiStatus {
    long code = 0;
    std::string reason;  // NotFound, Forbidden, Conflict, Invalid, …
    std::string message;
    std::vector<StatusCause> causes;
};
std::optional<ApiStatus> parse_status(const std::string& body);

class ApiClient {
public:
    ApiClient(Connection connection, const KubeConnectionOptions& options,
              std::shared_ptr<KubeCredentialCache> credentials);

    // One request, retried while the answer is transient (429; 5xx with Retry-After; 502, 503,
    // 504; a connection that failed); once more with a new exec credential after a 401. Any
    // HTTP answer is a value; an error means there was none (or no credential to send).
    Result<oci::HttpResponse> send(const std::string& method, const std::string& path_and_query,
                                   std::string_view body = {}, const std::string& content_type = {});

    // The error for an answer that is not a success, with the verb and resource it was for.
    Error http_error(const RequestPurpose& purpose, const oci::HttpResponse& response) const;

    const Connection& connection() const { return connection_; }
    int requests() const { return requests_; }

private:
    Result<void> prepare_credentials(bool renew);
    Result<std::string> authorization_header() const;
    Error transport_error(const std::string& method, const std::string& path, const oci::HttpResult& result) const;
    void trace(const std::string& line) const;
    bool wait(long milliseconds) const;

    Connection connection_;
    KubeConnectionOptions options_;
    std::shared_ptr<KubeCredentialCache> credentials_;
    std::optional<ExecCredential> exec_credential_;
    std::unique_ptr<oci::HttpTransport> transport_;
    std::string transport_cert_;  // the client certificate the transport was made with
    std::string url_base_;        // the server, with tls-server-name as its host when set
    std::string host_header_;     // the real host, when the URL names tls-server-name
    int requests_ = 0;
};

}  // namespace karmor::kube
