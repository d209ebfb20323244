// WWW-Authenticate (RFC 7235 §4.1): one or more challenges, each a case-insensitive scheme
// and auth-params whose values may be quoted strings holding commas and escapes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace karmor::oci {

struct AuthChallenge {
    std::string scheme;                         // lowercase: "basic", "bearer", …
    std::map<std::string, std::string> params;  // names lowercase

    std::string param(const std::string& name) const {
        const auto it = params.find(name);
        return it == params.end() ? std::string() : it->second;
    }
};

std::vector<AuthChallenge> parse_www_authenticate(std::string_view header);

}  // namespace karmor::oci
