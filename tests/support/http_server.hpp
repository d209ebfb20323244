// A tiny HTTP/1.1 server for tests: 127.0.0.1 on a port the kernel picks, one thread, one
// request per connection. Token services and redirectors are written with it.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace karmor::testing {

struct ServedRequest {
    std::string method;
    std::string target;                          // path and query
    std::map<std::string, std::string> headers;  // names lowercase
    std::string body;
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct ServedResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

class HttpServer {
public:
    using Handler = std::function<ServedResponse(const ServedRequest&)>;
    explicit HttpServer(Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<ServedRequest> requests() const;

private:
    void serve();
    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<ServedRequest> requests_;
    std::thread thread_;
};

// Query parameter values of a request target, in order (repeated names kept).
std::vector<std::string> query_values(const std::string& target, const std::string& name);

}  // namespace karmor::testing
