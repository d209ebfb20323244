#include "oci/loopback_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>

#include "util/file_descriptor.hpp"
#include "util/loopback.hpp"

namespace karmor::oci {
namespace {

// Record header (handshake, 0x0301), ClientHello 0x0303 with a random of
// "\r\n\r\nkarmor: TLS or HTTP?\r\n\r\n" and zeros, no session id, the TLS 1.3 and common
// TLS 1.2 AEAD and CBC suites, no compression; extensions: supported_versions (1.3, 1.2),
// supported_groups (x25519, P-256, P-384, P-521), ec_point_formats, signature_algorithms and
// renegotiation_info. Without a key share a TLS 1.3 server answers with a HelloRetryRequest or
// an alert: a TLS record either way, which is all the probe reads.
constexpr std::array<unsigned char, 146> client_hello = {
    0x16, 0x03, 0x01, 0x00, 0x8d, 0x01, 0x00, 0x00, 0x89, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a, 0x6b, 0x61, 0x72, 0x6d,
    0x6f, 0x72, 0x3a, 0x20, 0x54, 0x4c, 0x53, 0x20, 0x6f, 0x72, 0x20, 0x48, 0x54, 0x54, 0x50, 0x3f, 0x0d, 0x0a, 0x0d,
    0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0,
    0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x09, 0xc0, 0x13, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d,
    0x00, 0x2f, 0x00, 0x35, 0x01, 0x00, 0x00, 0x3e, 0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, 0x00, 0x0a,
    0x00, 0x0a, 0x00, 0x08, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00,
    0x0d, 0x00, 0x18, 0x00, 0x16, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01,
    0x05, 0x01, 0x06, 0x01, 0x08, 0x07, 0x08, 0x08, 0xff, 0x01, 0x00, 0x01, 0x00,
};

using Clock = std::chrono::steady_clock;

bool is_loopback_address(const sockaddr* address) {
    if (address->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
        return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    }
    return false;
}

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// A non-blocking connection to `address` within the deadline; -1 when refused or too slow.
util::FileDescriptor connect_before(const addrinfo& address, Clock::time_point deadline) {
    util::FileDescriptor socket_fd(
        ::socket(address.ai_family, address.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, address.ai_protocol));
    if (!socket_fd) return socket_fd;
    if (::connect(socket_fd.get(), address.ai_addr, address.ai_addrlen) == 0) return socket_fd;
    if (errno != EINPROGRESS) return util::FileDescriptor();
    pollfd waiting{socket_fd.get(), POLLOUT, 0};
    if (::poll(&waiting, 1, remaining_ms(deadline)) != 1) return util::FileDescriptor();
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(socket_fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0)
        return util::FileDescriptor();
    return socket_fd;
}

LoopbackProtocol ask(int socket_fd, Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < client_hello.size()) {
        const auto n = ::send(socket_fd, client_hello.data() + sent, client_hello.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd waiting{socket_fd, POLLOUT, 0};
            if (::poll(&waiting, 1, remaining_ms(deadline)) == 1) continue;
        }
        return LoopbackProtocol::unknown;
    }
    std::array<char, 5> answer{};
    std::size_t received = 0;
    while (received < answer.size()) {
        // One byte of a TLS record is enough; "HTTP/" takes five.
        if (received > 0 && (answer[0] == 0x15 || answer[0] == 0x16)) return LoopbackProtocol::tls;
        pollfd waiting{socket_fd, POLLIN, 0};
        if (::poll(&waiting, 1, remaining_ms(deadline)) != 1) return LoopbackProtocol::unknown;
        const auto n = ::recv(socket_fd, answer.data() + received, answer.size() - received, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        received += static_cast<std::size_t>(n);
    }
    if (received > 0 && (answer[0] == 0x15 || answer[0] == 0x16)) return LoopbackProtocol::tls;
    if (received == answer.size() && std::string_view(answer.data(), answer.size()) == "HTTP/")
        return LoopbackProtocol::plain_http;
    return LoopbackProtocol::unknown;
}

}  // namespace

std::string loopback_probe_hello() {
    return {reinterpret_cast<const char*>(client_hello.data()), client_hello.size()};
}

LoopbackProtocol probe_loopback_protocol(const std::string& host, const std::string& port,
                                         std::chrono::milliseconds budget) {
    if (!util::is_local_name(host) || port.empty()) return LoopbackProtocol::unknown;
    const auto deadline = Clock::now() + budget;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) return LoopbackProtocol::unknown;
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    // The first loopback address that takes the connection is the one libcurl would use too
    // (a registry listening on 127.0.0.1 only refuses ::1 at once).
    for (const addrinfo* address = found; address; address = address->ai_next) {
        if (!is_loopback_address(address->ai_addr)) continue;
        const auto connection = connect_before(*address, deadline);
        if (!connection) continue;
        return ask(connection.get(), deadline);
    }
    return LoopbackProtocol::unknown;
}

}  // namespace karmor::oci
