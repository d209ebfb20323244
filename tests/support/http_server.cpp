#include "support/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace karmor::testing {
namespace {

std::string lowercase(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string url_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i] == '+' ? ' ' : s[i]);
        }
    }
    return out;
}

bool read_request(int fd, ServedRequest& request) {
    std::string data;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) return false;
        data.append(buffer, static_cast<std::size_t>(n));
        // A TLS ClientHello (record type 0x16) to this plain-HTTP server: closed at once, as a
        // real server's error answer ends the handshake, so that a client's fallback is quick.
        if (data.front() == '\x16') return false;
    }
    const auto first_line_end = data.find("\r\n");
    const auto line = data.substr(0, first_line_end);
    const auto space1 = line.find(' ');
    const auto space2 = line.find(' ', space1 + 1);
    request.method = line.substr(0, space1);
    request.target = line.substr(space1 + 1, space2 - space1 - 1);
    std::size_t pos = first_line_end + 2;
    while (pos < header_end) {
        const auto end = data.find("\r\n", pos);
        const auto header = data.substr(pos, end - pos);
        const auto colon = header.find(':');
        if (colon != std::string::npos) {
            auto value = header.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            request.headers[lowercase(header.substr(0, colon))] = value;
        }
        pos = end + 2;
    }
    request.body = data.substr(header_end + 4);
    const auto length = request.header("content-length");
    const std::size_t wanted = length.empty() ? 0 : std::stoul(length);
    while (request.body.size() < wanted) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) return false;
        request.body.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
}

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

std::vector<std::string> query_values(const std::string& target, const std::string& name) {
    std::vector<std::string> values;
    const auto q = target.find('?');
    if (q == std::string::npos) return values;
    std::size_t pos = q + 1;
    while (pos <= target.size()) {
        auto end = target.find('&', pos);
        if (end == std::string::npos) end = target.size();
        const auto pair = target.substr(pos, end - pos);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            values.push_back(eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1)));
        pos = end + 1;
    }
    return values;
}

HttpServer::HttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listen_fd_, 16) != 0)
        throw std::runtime_error("cannot listen on 127.0.0.1");
    socklen_t size = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
}

HttpServer::~HttpServer() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(listen_fd_);
}

std::vector<ServedRequest> HttpServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

void HttpServer::serve() {
    while (!stopping_) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ServedRequest request;
        if (read_request(fd, request)) {
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(request);
            }
            const auto response = handler_(request);
            std::string text = "HTTP/1.1 " + std::to_string(response.status) + " X\r\nConnection: close\r\n" +
                               "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
            for (const auto& [name, value] : response.headers) text += name + ": " + value + "\r\n";
            write_all(fd, text + "\r\n" + (request.method == "HEAD" ? "" : response.body));
        }
        close(fd);
    }
}

}  // namespace karmor::testing
