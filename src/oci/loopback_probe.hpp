// Whether a registry on this machine speaks TLS or plain HTTP, asked without TLS (SPEC §2, the
// loopback rule). Asking with libcurl costs OpenSSL's context and a key exchange, 1.7 ms of a
// 7 ms pull from a plain-HTTP local registry (docs/benchmarks.md, round three); this sends one
// fixed TLS ClientHello over a plain socket and reads the first bytes of the answer.
#pragma once

#include <chrono>
#include <string>

namespace karmor::oci {

enum class LoopbackProtocol {
    plain_http,  // the server answered the ClientHello with "HTTP/"
    tls,         // it answered with a TLS record (a ServerHello or an alert)
    unknown,     // anything else: no answer in time, a closed connection, another reply
};

// `host` is a loopback name or address (localhost, 127.0.0.0/8, ::1; without brackets) and
// `port` its port; other hosts are not asked (unknown). Connects only to loopback addresses,
// waits at most `budget` in all, and sends nothing but the ClientHello. `unknown` means the
// caller decides as it would have without asking.
LoopbackProtocol probe_loopback_protocol(const std::string& host, const std::string& port,
                                         std::chrono::milliseconds budget);

// The bytes sent: a TLS 1.2/1.3 ClientHello whose random field holds "\r\n\r\n", so that a
// plain HTTP server sees the end of a (malformed) request line and answers 400 at once.
std::string loopback_probe_hello();

}  // namespace karmor::oci
