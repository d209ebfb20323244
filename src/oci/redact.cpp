#include "oci/redact.hpp"

#include <array>
#include <cctype>
#include <string_view>

namespace karmor::oci {
namespace {

bool looks_secret(std::string_view name) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    constexpr std::array<std::string_view, 8> markers = {"sig",      "token",  "credential", "key",
                                                         "password", "secret", "auth",       "code"};
    for (const auto marker : markers)
        if (lower.find(marker) != std::string::npos) return true;
    return false;
}

}  // namespace

std::string redact_url(const std::string& url) {
    const auto query = url.find('?');
    if (query == std::string::npos) return url;
    std::string out = url.substr(0, query + 1);
    std::size_t pos = query + 1;
    while (pos <= url.size()) {
        auto end = url.find('&', pos);
        if (end == std::string::npos) end = url.size();
        const auto pair = std::string_view(url).substr(pos, end - pos);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && looks_secret(pair.substr(0, eq))) {
            out += std::string(pair.substr(0, eq)) + "=REDACTED";
        } else {
            out += pair;
        }
        if (end < url.size()) out += '&';
        pos = end + 1;
    }
    return out;
}

}  // namespace karmor::oci
