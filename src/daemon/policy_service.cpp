#include "daemon/policy_service.hpp"

#include "daemon/grpc_wire.hpp"

namespace karmor::daemon {
namespace {

constexpr std::uint64_t max_reply_bytes = 64 * 1024;  // a reply is a few bytes

const std::string address_hint = "check that KubeArmor runs (systemctl status kubearmor) and serves gRPC there; "
                                 "--grpc HOST:PORT or KUBEARMOR_SERVICE name another address";

bool uses_tls(const DaemonOptions& options) {
    return !options.tls_ca.empty() || !options.tls_cert.empty() || !options.tls_key.empty();
}

std::string seconds_text(long milliseconds) {
    return milliseconds % 1000 == 0 ? std::to_string(milliseconds / 1000) + " s" : std::to_string(milliseconds) + " ms";
}

}  // namespace

PolicyServiceClient::PolicyServiceClient(oci::HttpTransport& transport, DaemonOptions options)
    : transport_(transport), options_(std::move(options)) {}

bool PolicyServiceClient::tls() const {
    return uses_tls(options_);
}

Result<PolicyStatus> PolicyServiceClient::send(std::string_view rpc, std::string_view payload) {
    const std::string body = frame_message(encode_policy_message(payload));
    oci::HttpRequest request;
    request.method = "POST";
    request.url = (tls() ? "https://" : "http://") + options_.address + "/policy.PolicyService/" + std::string(rpc);
    request.headers = {
        {"Content-Type", "application/grpc"}, {"TE", "trailers"}, {"grpc-timeout", grpc_timeout(options_.timeout_ms)}};
    request.body = body;
    request.http2 = true;
    request.timeout_ms = options_.timeout_ms;
    request.max_response_bytes = max_reply_bytes;
    const auto result = transport_.send(request);
    if (!result.delivered() || !result.response.http2 || result.response.status != 200)
        return unexpected(call_failed(rpc, result));

    const auto& response = result.response;
    // A trailers-only answer (an error before any message) carries grpc-status in its headers;
    // otherwise it is a trailer after the body. Both end up in `headers`.
    const auto status_text = response.header("grpc-status");
    const std::string where =
        "the KubeArmor daemon at " + options_.address + " (policy.PolicyService/" + std::string(rpc) + ")";
    if (status_text.empty())
        return unexpected(Error(ErrorKind::registry, where + " answered without a grpc-status",
                                "the connection may have been cut; " + address_hint));
    long code = -1;
    try {
        code = std::stol(status_text);
    } catch (const std::exception&) {
    }
    if (code != 0) {
        const auto message = percent_decode(response.header("grpc-message"));
        const auto said = message.empty() ? std::string() : ": " + message;
        if (code == 4)
            return unexpected(
                Error(ErrorKind::registry,
                      where + ": deadline exceeded, no answer within " + seconds_text(options_.timeout_ms) + said,
                      "the daemon may be busy; raise --grpc-timeout, and check the daemon's log"));
        if (code == 12)
            return unexpected(Error(ErrorKind::registry, where + " does not offer this call (UNIMPLEMENTED)" + said,
                                    "check that the address is KubeArmor's gRPC port (32767) and that KubeArmor is "
                                    "recent enough to take policies over gRPC"));
        if (code == 16 || code == 7)
            return unexpected(Error(ErrorKind::auth,
                                    where + " refused the caller (" + grpc_status_name(code) + ")" + said,
                                    "pass the client certificate KubeArmor expects with --tls-cert and --tls-key"));
        return unexpected(Error(ErrorKind::registry,
                                where + " failed with gRPC status " + grpc_status_name(code) + said,
                                "check the daemon's log (journalctl -u kubearmor)"));
    }
    auto message = unframe_message(response.body);
    if (!message) return unexpected(std::move(message).error());
    auto status = decode_response_message(*message);
    if (!status) return unexpected(std::move(status).error());
    if (*status < 0 || *status > static_cast<std::int64_t>(PolicyStatus::not_enabled))
        return unexpected(Error(ErrorKind::registry,
                                where + " answered status " + std::to_string(*status) + ", which karmor does not know",
                                "karmor knows Failure, Applied, Deleted, Modified, NotExist, Invalid and NotEnabled; "
                                "check for a newer karmor"));
    return static_cast<PolicyStatus>(*status);
}

Error PolicyServiceClient::call_failed(std::string_view rpc, const oci::HttpResult& result) const {
    const std::string& address = options_.address;
    const std::string said = result.transport_error.empty() ? "" : ": " + result.transport_error;
    using oci::TransportStatus;
    switch (result.transport) {
        case TransportStatus::ok: break;
        case TransportStatus::connect_failed:
            return Error(ErrorKind::registry, "cannot connect to the KubeArmor daemon at " + address + said,
                         address_hint);
        case TransportStatus::tls_verify_failed:
            return Error(ErrorKind::registry,
                         "the TLS certificate of the KubeArmor daemon at " + address + " did not verify" +
                             (options_.tls_ca.empty() ? " against the system's CAs" : " against " + options_.tls_ca) +
                             said,
                         "pass the CA that signed KubeArmor's certificate with --tls-ca");
        case TransportStatus::tls_handshake_failed:
            return Error(ErrorKind::registry,
                         "TLS handshake with the KubeArmor daemon at " + address + " failed" + said,
                         "without --tls-ca/--tls-cert karmor speaks plaintext gRPC; with TLS, check that the daemon "
                         "serves TLS and that --tls-cert and --tls-key are the client certificate it expects");
        case TransportStatus::timeout:
            return Error(ErrorKind::registry,
                         "the KubeArmor daemon at " + address + ": deadline exceeded, no answer to " +
                             std::string(rpc) + " within " + seconds_text(options_.timeout_ms) + said,
                         "the daemon may be busy or the address wrong; raise --grpc-timeout, and check the "
                         "daemon's log");
        case TransportStatus::cancelled:
            return Error(ErrorKind::cancelled, "interrupted while waiting for the KubeArmor daemon at " + address);
        case TransportStatus::unavailable:
            // transport_error names the missing library and the package that provides it.
            return Error(ErrorKind::io, "cannot call the KubeArmor daemon at " + address + said,
                         "install the package named above");
        case TransportStatus::response_too_large:
        case TransportStatus::failed: break;
    }
    const bool spoke_http1 = result.delivered() && !result.response.http2;
    const bool framing = result.transport_error.find("HTTP2") != std::string::npos ||
                         result.transport_error.find("HTTP/2") != std::string::npos ||
                         result.transport_error.find("http2") != std::string::npos;
    if (spoke_http1 || framing)
        return Error(ErrorKind::registry,
                     "the server at " + address + " does not speak HTTP/2, so it is not a gRPC server" + said,
                     "check the address: KubeArmor serves gRPC on port 32767" +
                         std::string(uses_tls(options_) ? "" : "; if it uses TLS, pass --tls-ca"));
    if (result.delivered())
        return Error(ErrorKind::registry,
                     "the server at " + address + " answered HTTP " + std::to_string(result.response.status) +
                         " to a gRPC call, so it is not KubeArmor's policy service",
                     "check the address: KubeArmor serves gRPC on port 32767");
    // An HTTP/1.1 server hangs up on HTTP/2's connection preface: a cut connection in plain
    // text most often means that.
    return Error(ErrorKind::registry,
                 "the connection to the KubeArmor daemon at " + address + " failed" + said +
                     (uses_tls(options_) ? "" : "; the server there may not speak HTTP/2, which gRPC needs"),
                 address_hint);
}

std::unique_ptr<oci::HttpTransport> make_daemon_transport(const DaemonOptions& options) {
    oci::TransportOptions transport;
    transport.ca_file = options.tls_ca;
    transport.cert_file = options.tls_cert;
    transport.key_file = options.tls_key;
    transport.connect_timeout_ms = options.connect_timeout_ms;
    transport.cancel = options.cancel;
    return oci::make_curl_transport(transport);
}

}  // namespace karmor::daemon
