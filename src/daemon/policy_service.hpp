// A unary gRPC client of the KubeArmor daemon's policy.PolicyService over the HttpTransport
// interface (libcurl in production): HTTP/2 with prior knowledge in plaintext, ALPN h2 with
// TLS, grpc-status and grpc-message from trailers or a trailers-only answer, and a deadline.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "karmor/apply.hpp"
#include "oci/http.hpp"

namespace karmor::daemon {

class PolicyServiceClient {
public:
    // `transport` must outlive the client.
    PolicyServiceClient(oci::HttpTransport& transport, DaemonOptions options);

    // One call of policy.PolicyService/`rpc` with the JSON event `payload`. An error means
    // there is no status: the daemon may or may not have acted on it.
    Result<PolicyStatus> send(std::string_view rpc, std::string_view payload);

    bool tls() const;

private:
    Error call_failed(std::string_view rpc, const oci::HttpResult& result) const;
    oci::HttpTransport& transport_;
    DaemonOptions options_;
};

// The transport a client of `options` needs: its CA, client certificate and timeouts.
std::unique_ptr<oci::HttpTransport> make_daemon_transport(const DaemonOptions& options);

}  // namespace karmor::daemon
