// The loopback probe (src/oci/loopback_probe.hpp): one fixed ClientHello over a plain socket
// tells a plain-HTTP local registry from a TLS one, so that karmor speaks plain HTTP to the
// former without a failed TLS attempt first. Against Debian's docker-registry in both modes;
// servers that answer otherwise (silent, closing, another protocol) are scripted here, since no
// real registry does that.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "oci/loopback_probe.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using oci::LoopbackProtocol;
using oci::probe_loopback_protocol;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;
using namespace std::chrono_literals;

const std::string policy =
    "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: probe\n  namespace: ns\n"
    "spec:\n  process:\n    matchPaths:\n      - path: /bin/sh\n  action: Block\n";

// One connection on 127.0.0.1 (a port the kernel picks), handed to `serve`, which gets the
// bytes the client sent first (what arrived within 300 ms) and the socket.
class ScriptedSocketServer {
public:
    explicit ScriptedSocketServer(std::function<void(int socket_fd, const std::string& received)> serve) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 4) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this, serve = std::move(serve)] {
            const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (connection < 0) return;
            std::string received;
            char buffer[4096];
            for (pollfd waiting{connection, POLLIN, 0}; ::poll(&waiting, 1, 300) == 1;) {
                const auto n = ::recv(connection, buffer, sizeof buffer, 0);
                if (n <= 0) break;
                received.append(buffer, static_cast<std::size_t>(n));
            }
            received_ = received;
            serve(connection, received);
            ::close(connection);
        });
    }
    ~ScriptedSocketServer() {
        ::shutdown(listener_, SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        ::close(listener_);
    }
    std::string port() const { return std::to_string(port_); }
    // What the client sent; after the client is done.
    std::string received() {
        if (thread_.joinable()) thread_.join();
        return received_;
    }

private:
    int listener_ = -1;
    int port_ = 0;
    std::thread thread_;
    std::string received_;
};

void send_text(int socket_fd, const std::string& text) {
    (void)::send(socket_fd, text.data(), text.size(), MSG_NOSIGNAL);
}

TEST(LoopbackProbe, APlainHttpDockerRegistryAnswersInPlainHttp) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const auto port = std::to_string(registry->port());
    EXPECT_EQ(probe_loopback_protocol("127.0.0.1", port, 2s), LoopbackProtocol::plain_http);
    EXPECT_EQ(probe_loopback_protocol("localhost", port, 2s), LoopbackProtocol::plain_http);

    // karmor then speaks plain HTTP from its first request on, and the push and pull work.
    TempDir work;
    write_text(work / "p.yaml", policy);
    const auto image = registry->localhost() + "/probe:v1";
    auto push = run_karmor({"oci", "push", "-v", "-i", image, "-p", (work / "p.yaml").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    EXPECT_NE(push.err.find("answered a TLS hello in plain HTTP"), std::string::npos) << push.err;
    EXPECT_EQ(push.err.find("> GET https://"), std::string::npos) << "no TLS attempt: " << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_TRUE(std::filesystem::exists(work / "out" / "ksp-ns-probe.yaml"));
}

TEST(LoopbackProbe, ATlsDockerRegistryIsLeftToTheVerifiedTlsConnection) {
    testing::RegistryConfig config;
    config.tls = true;
    KARMOR_START_REGISTRY(registry, config);
    const auto port = std::to_string(registry->port());
    EXPECT_EQ(probe_loopback_protocol("127.0.0.1", port, 2s), LoopbackProtocol::tls);

    TempDir work;
    write_text(work / "p.yaml", policy);
    const auto image = registry->localhost() + "/probe:v1";
    auto push = run_karmor({"oci", "push", "-v", "-i", image, "-p", (work / "p.yaml").string(), "--ca-file",
                            registry->ca_file().string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    EXPECT_EQ(push.err.find("plain HTTP"), std::string::npos) << push.err;
    // With --ca-file, TLS is asked for by name: no probe before the TLS connection (the
    // registry's log shows one TLS handshake error per probe, when a probe is closed unanswered).
    const auto handshake_errors = [&] {
        const auto log = registry->log();
        std::size_t count = 0;
        for (auto at = log.find("TLS handshake error"); at != std::string::npos;
             at = log.find("TLS handshake error", at + 1))
            ++count;
        return count;
    };
    const auto before = handshake_errors();
    auto again = run_karmor(
        {"oci", "pull", "-i", image, "-o", (work / "trusted").string(), "--ca-file", registry->ca_file().string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(handshake_errors(), before) << "a probe was sent although --ca-file asked for TLS";
    auto probed = run_karmor({"oci", "tags", "--insecure", registry->localhost() + "/probe"});
    ASSERT_EQ(probed.exit_code, 0) << probed.err;
    std::this_thread::sleep_for(300ms);  // the registry logs the closed probe after it is gone
    EXPECT_EQ(handshake_errors(), before + 1) << "the probe without --ca-file: one ClientHello, closed";
    // Without the CA, the certificate still fails verification: the probe never turns a TLS
    // server into a plain-HTTP one.
    auto untrusted = run_karmor({"oci", "pull", "-i", image, "-o", (work / "out").string()});
    EXPECT_NE(untrusted.exit_code, 0) << untrusted.err;
    EXPECT_FALSE(std::filesystem::exists(work / "out"));
}

TEST(LoopbackProbe, SendsOnlyAWellFormedClientHello) {
    const std::string hello = oci::loopback_probe_hello();
    ASSERT_GE(hello.size(), 9u);
    EXPECT_EQ(static_cast<unsigned char>(hello[0]), 0x16) << "a handshake record";
    EXPECT_EQ(
        static_cast<std::size_t>((static_cast<unsigned char>(hello[3]) << 8) | static_cast<unsigned char>(hello[4])),
        hello.size() - 5)
        << "the record length";
    EXPECT_EQ(static_cast<unsigned char>(hello[5]), 0x01) << "a ClientHello";
    EXPECT_EQ(static_cast<std::size_t>((static_cast<unsigned char>(hello[6]) << 16) |
                                       (static_cast<unsigned char>(hello[7]) << 8) |
                                       static_cast<unsigned char>(hello[8])),
              hello.size() - 9)
        << "the handshake length";
    EXPECT_NE(hello.find("\r\n\r\n"), std::string::npos) << "a plain HTTP server sees the end of a request line";

    // What a server receives is exactly that: no request, no header, no credential.
    ScriptedSocketServer server(
        [](int socket_fd, const std::string&) { send_text(socket_fd, "HTTP/1.1 400 Bad\r\n\r\n"); });
    EXPECT_EQ(probe_loopback_protocol("127.0.0.1", server.port(), 2s), LoopbackProtocol::plain_http);
    EXPECT_EQ(server.received(), hello);
}

TEST(LoopbackProbe, AnyOtherAnswerIsUnknownAndLeavesTheDecisionToTheTlsAttempt) {
    {
        ScriptedSocketServer alert([](int socket_fd, const std::string&) { send_text(socket_fd, "\x15\x03\x03"); });
        EXPECT_EQ(probe_loopback_protocol("127.0.0.1", alert.port(), 2s), LoopbackProtocol::tls);
    }
    {
        // Python's http.server answers a request line it cannot read in HTTP/0.9: a body only.
        ScriptedSocketServer other([](int socket_fd, const std::string&) { send_text(socket_fd, "<!DOCTYPE HTML>"); });
        EXPECT_EQ(probe_loopback_protocol("127.0.0.1", other.port(), 2s), LoopbackProtocol::unknown);
    }
    {
        ScriptedSocketServer closes([](int, const std::string&) {});
        EXPECT_EQ(probe_loopback_protocol("127.0.0.1", closes.port(), 2s), LoopbackProtocol::unknown);
    }
    {
        ScriptedSocketServer silent([](int, const std::string&) { std::this_thread::sleep_for(900ms); });
        const auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(probe_loopback_protocol("127.0.0.1", silent.port(), 300ms), LoopbackProtocol::unknown);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms) << "the budget bounds the wait";
    }
}

TEST(LoopbackProbe, OnlyLoopbackHostsAreAsked) {
    // Names and addresses off this machine are not connected to at all.
    for (const char* host : {"registry.example", "10.0.0.1", "192.0.2.1", "localhost.example"}) {
        const auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(probe_loopback_protocol(host, "5000", 2s), LoopbackProtocol::unknown) << host;
        EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms) << host;
    }
    // Nothing listening: unknown at once (the connection is refused). A port the kernel gave
    // out and took back.
    const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
    ::close(socket_fd);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(probe_loopback_protocol("127.0.0.1", std::to_string(ntohs(address.sin_port)), 2s),
              LoopbackProtocol::unknown);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

}  // namespace
}  // namespace karmor
