// The HTTP transport is an interface (STYLE.md §6): libcurl in production, a scripted fake
// in unit tests of the auth, redirect and retry logic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oci/loopback_probe.hpp"

namespace karmor::oci {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Told how many bytes of a request's body were sent so far (PUT, PATCH) or of the response's
// body received (other methods); starts from 0 again when the request is sent again.
using TransferObserver = std::function<void(std::uint64_t bytes)>;

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    HeaderList headers;
    std::string_view body;  // must outlive send()
    std::uint64_t max_response_bytes = 64ull << 20;
    // The body's size when the caller knows it (a blob's descriptor): reserved at its first
    // byte, so that a 16 MB blob is not grown by doubling with the old and new buffers both in
    // memory at the end (issue 26 goal 2, pull's peak RSS). Never more than max_response_bytes.
    std::uint64_t expected_response_bytes = 0;
    TransferObserver observer;  // may be empty
    // Speak HTTP/2, as gRPC needs (src/daemon/): with prior knowledge over http:// (no
    // HTTP/1.1 upgrade), by ALPN over https://. HttpResponse::http2 tells what was spoken.
    bool http2 = false;
    // When > 0, this request ends within this many milliseconds (a gRPC deadline), besides
    // the transport's own bounds.
    long timeout_ms = 0;
};

struct HttpResponse {
    long status = 0;
    // Names as received. HTTP/2 trailers (gRPC's grpc-status, grpc-message) follow the headers.
    HeaderList headers;
    std::string body;
    bool http2 = false;  // the answer came over HTTP/2
    int attempts = 1;    // how often the client sent the request to get this answer
    std::string url;     // who answered: the last URL of a redirect chain (set by RegistryClient)
    std::string proxy;   // the proxy it came through, "" for none (set by RegistryClient)

    // The first header with this name (case-insensitive), or "".
    std::string header(std::string_view name) const;
    std::vector<std::string> all_headers(std::string_view name) const;
};

enum class TransportStatus {
    ok,
    connect_failed,        // refused, unreachable, DNS
    tls_handshake_failed,  // includes "the server does not speak TLS"
    tls_verify_failed,     // the certificate did not verify: never a reason to fall back
    timeout,
    response_too_large,
    cancelled,    // TransportOptions::cancel was set
    unavailable,  // the HTTP library (libcurl.so.4) could not be loaded: nothing was sent
    failed,       // anything else (reset mid-transfer, protocol errors)
};

struct HttpResult {
    TransportStatus transport = TransportStatus::ok;
    std::string transport_error;  // libcurl's words, when transport != ok
    std::string proxy;            // the proxy the request went through, "" for none
    HttpResponse response;
    bool delivered() const { return transport == TransportStatus::ok; }
};

struct TransportOptions {
    bool insecure = false;  // skip certificate verification (--insecure)
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    // The same from memory (PEM), as a kubeconfig's certificate-authority-data and
    // client-certificate-data give them; each replaces its file counterpart when set.
    std::string ca_pem;
    std::string cert_pem;
    std::string key_pem;
    // Set: this proxy URL (http, https, socks5) for every request instead of the environment's
    // (a kubeconfig's proxy-url); "" inside means a direct connection.
    std::optional<std::string> proxy;
    // "HOST:PORT:CONNECT-HOST:CONNECT-PORT" entries (CURLOPT_CONNECT_TO): the URL names the host
    // that TLS verifies and sends as SNI, the connection goes elsewhere (tls-server-name).
    std::vector<std::string> connect_to;
    // PEM certificates trusted besides the system's (a mirror's hosts.toml `ca`), unless
    // ca_file replaces the system's.
    std::string extra_ca_pem;
    long connect_timeout_ms = 15'000;
    long low_speed_limit_bytes = 1;    // a transfer slower than this …
    long low_speed_time_seconds = 60;  // … for this long is abandoned
    long total_timeout_seconds = 0;    // 0: bounded by the low-speed rule only
    // No request runs past this (--timeout); one that would is abandoned as timed out.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    const std::atomic<bool>* cancel = nullptr;
};

class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    // Sends one request; does not follow redirects.
    virtual HttpResult send(const HttpRequest& request) = 0;
    // Whether the server at `authority` (HOST:PORT of a loopback host) speaks TLS or plain
    // HTTP, asked more cheaply than a TLS attempt (src/oci/loopback_probe.hpp); unknown when
    // this transport cannot tell (a proxy or a connect-to rule in the way, a test double).
    virtual LoopbackProtocol probe_loopback(const std::string& authority) {
        (void)authority;
        return LoopbackProtocol::unknown;
    }
};

// The proxy for a URL as Go programs choose it (docker, oras, crane): HTTPS_PROXY or
// https_proxy for https, HTTP_PROXY or http_proxy for http (libcurl alone ignores the
// uppercase HTTP_PROXY), none for a host in NO_PROXY/no_proxy (names, domains, "*"; no
// CIDR ranges), never for a loopback host.
// `getenv` is the environment (a parameter for tests). "" for none.
struct ProxyChoice {
    std::string proxy;     // URL of the proxy, "" for a direct connection
    std::string variable;  // where `proxy` came from, e.g. "HTTPS_PROXY"
};
ProxyChoice proxy_for(const std::string& url, const std::function<const char*(const char*)>& getenv);

// One libcurl easy handle for the whole run, so connections are reused. libcurl is loaded by
// the first call (src/oci/libcurl.hpp); without it every send() is TransportStatus::unavailable.
std::unique_ptr<HttpTransport> make_curl_transport(const TransportOptions& options);

bool equals_ignore_case(std::string_view a, std::string_view b);

}  // namespace karmor::oci
