#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace karmor::testing {
namespace {

struct HttpMessage {
    std::string head;  // start line and headers, with the final CRLFCRLF
    std::string body;
};

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::size_t content_length(const std::string& head) {
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(head.substr(at + 17));
}

// Reads one request (headers, then Content-Length bytes); `buffer` keeps what follows.
std::optional<HttpMessage> read_request(int fd, std::string& buffer) {
    char chunk[65536];
    while (buffer.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return std::nullopt;
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    const auto end = buffer.find("\r\n\r\n") + 4;
    HttpMessage message{buffer.substr(0, end), {}};
    const auto length = content_length(message.head);
    while (buffer.size() < end + length) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return std::nullopt;
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
    message.body = buffer.substr(end, length);
    buffer.erase(0, end + length);
    return message;
}

int connect_upstream(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Forwards one request upstream (Connection: close) and returns the whole response.
std::optional<HttpMessage> forward(int port, const HttpMessage& request) {
    const int fd = connect_upstream(port);
    if (fd < 0) return std::nullopt;
    std::string head = request.head;
    head.insert(head.find("\r\n") + 2, "Connection: close\r\n");
    if (!send_all(fd, head) || !send_all(fd, request.body)) {
        ::close(fd);
        return std::nullopt;
    }
    std::string raw;
    char chunk[65536];
    ssize_t n;
    while ((n = ::recv(fd, chunk, sizeof chunk, 0)) > 0) raw.append(chunk, static_cast<std::size_t>(n));
    ::close(fd);
    const auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    return HttpMessage{raw.substr(0, end + 4), raw.substr(end + 4)};
}

std::string status_response(int status, const std::string& body, bool close) {
    std::string reason = status == 429 ? "Too Many Requests" : status == 503 ? "Service Unavailable" : "Error";
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\n";
    if (status == 429 || status == 503) out += "Retry-After: 0\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (close) out += "Connection: close\r\n";
    return out + "\r\n" + body;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
        throw std::runtime_error("fault proxy: cannot listen");
    socklen_t length = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    for (auto& w : workers_) w.join();
}

void FaultProxy::add_fault(Fault fault) {
    std::lock_guard lock(mutex_);
    faults_.push_back(std::move(fault));
}

std::vector<std::string> FaultProxy::log() const {
    std::lock_guard lock(mutex_);
    return log_;
}

void FaultProxy::note(const std::string& line) {
    std::lock_guard lock(mutex_);
    log_.push_back(line);
}

bool FaultProxy::take_fault(const std::string& method, const std::string& path, Fault& out) {
    std::lock_guard lock(mutex_);
    for (auto& f : faults_) {
        if (f.times <= 0) continue;
        if (!f.method.empty() && f.method != method) continue;
        if (!f.path_contains.empty() && path.find(f.path_contains) == std::string::npos) continue;
        --f.times;
        out = f;
        ++fired_;
        return true;
    }
    return false;
}

void FaultProxy::accept_loop() {
    while (!stopping_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        std::lock_guard lock(mutex_);
        workers_.emplace_back([this, client] { serve(client); });
    }
}

void FaultProxy::serve(int client) {
    std::string buffer;
    while (!stopping_) {
        auto request = read_request(client, buffer);
        if (!request) break;
        const auto first_space = request->head.find(' ');
        const std::string method = request->head.substr(0, first_space);
        const std::string path =
            request->head.substr(first_space + 1, request->head.find(' ', first_space + 1) - first_space - 1);
        Fault fault;
        if (!take_fault(method, path, fault)) {
            auto response = forward(upstream_port_, *request);
            if (!response) break;
            note(method + " " + path + " -> forwarded");
            if (!send_all(client, response->head) || !send_all(client, response->body)) break;
            break;  // upstream closed; so do we (the response says Connection: close)
        }
        switch (fault.kind) {
            case FaultKind::status:
                note(method + " " + path + " -> injected " + std::to_string(fault.status));
                send_all(client, status_response(fault.status,
                                                 R"({"errors":[{"code":"UNAVAILABLE","message":"injected"}]})", false));
                continue;
            case FaultKind::reset:
                note(method + " " + path + " -> reset");
                ::close(client);
                return;
            case FaultKind::huge_body: {
                note(method + " " + path + " -> huge body");
                std::string body(fault.huge_bytes, ' ');
                body.front() = '{';
                body.back() = '}';
                send_all(client, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                                 "Content-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n");
                send_all(client, body);
                continue;
            }
            case FaultKind::stall:
                note(method + " " + path + " -> stalled " + std::to_string(fault.stall_ms) + " ms");
                std::this_thread::sleep_for(std::chrono::milliseconds(fault.stall_ms));
                [[fallthrough]];
            case FaultKind::truncate_body:
            case FaultKind::corrupt_body: {
                auto response = forward(upstream_port_, *request);
                if (!response) break;
                if (fault.kind == FaultKind::truncate_body) {
                    note(method + " " + path + " -> truncated");
                    send_all(client, response->head);
                    send_all(client, response->body.substr(0, response->body.size() / 2));
                    ::close(client);
                    return;
                }
                if (fault.kind == FaultKind::corrupt_body && !response->body.empty()) {
                    note(method + " " + path + " -> corrupted");
                    response->body[response->body.size() / 2] ^= 0x01;
                }
                send_all(client, response->head);
                send_all(client, response->body);
                break;
            }
        }
        break;
    }
    ::close(client);
}

}  // namespace karmor::testing
