#include "util/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace karmor::util {

bool is_loopback_ip(std::string_view host) {
    // inet_pton reads a NUL-terminated string; an embedded NUL would cut the name short.
    if (host.empty() || host.size() > 64 || host.find('\0') != std::string_view::npos) return false;
    const std::string text(host);
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    return ::inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool is_loopback_host(std::string_view host) {
    if (host.size() == 9) {
        bool localhost = true;
        for (std::size_t i = 0; i < 9; ++i) {
            const char c = host[i] >= 'A' && host[i] <= 'Z' ? static_cast<char>(host[i] - 'A' + 'a') : host[i];
            localhost = localhost && c == "localhost"[i];
        }
        if (localhost) return true;
    }
    return is_loopback_ip(host);
}

bool is_local_name(std::string_view host) {
    return is_loopback_host(host) || host.ends_with(".localhost");
}

}  // namespace karmor::util
