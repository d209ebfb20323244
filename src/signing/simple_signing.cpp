// Cosign's legacy "simple signing" payload (SPEC §9): writing it byte for byte, reading it strictly.
#include "signing/simple_signing.hpp"

#include <nlohmann/json.hpp>

#include "signing/strict_json.hpp"

namespace karmor::signing {

std::string make_simple_signing_payload(const std::string& identity, const Digest& digest,
                                        const std::map<std::string, std::string>& annotations) {
    nlohmann::ordered_json payload = nlohmann::ordered_json::object();
    payload["critical"]["identity"]["docker-reference"] = identity;
    payload["critical"]["image"]["docker-manifest-digest"] = digest.str();
    payload["critical"]["type"] = simple_signing_type;
    if (annotations.empty()) {
        payload["optional"] = nullptr;
    } else {
        // std::map iterates in key order: the same annotations give the same bytes.
        auto optional = nlohmann::ordered_json::object();
        for (const auto& [key, value] : annotations) optional[key] = value;
        payload["optional"] = std::move(optional);
    }
    return payload.dump();
}

Result<SimpleSigningClaims> parse_simple_signing_payload(std::string_view bytes) {
    auto parsed = parse_strict_json(bytes, max_payload_bytes, "the signed payload");
    if (!parsed) return unexpected(std::move(parsed).error());
    const auto& root = *parsed;
    if (auto only = require_only_fields(root, {"critical", "optional"}, "the signed payload"); !only)
        return unexpected(std::move(only).error());
    if (!root.contains("critical") || !root.contains("optional"))
        return unexpected(Error(ErrorKind::verification, "the signed payload lacks \"critical\" or \"optional\""));
    const auto& critical = root["critical"];
    if (auto only = require_only_fields(critical, {"identity", "image", "type"}, "the payload's critical section");
        !only)
        return unexpected(std::move(only).error());
    auto type = required_string(critical, "type", "the payload's critical section");
    if (!type) return unexpected(std::move(type).error());
    if (*type != simple_signing_type)
        return unexpected(Error(ErrorKind::verification,
                                "the payload's type is \"" + *type + "\", not \"" + simple_signing_type + "\""));
    if (!critical.contains("identity") || !critical.contains("image"))
        return unexpected(Error(ErrorKind::verification, "the payload's critical section lacks identity or image"));
    const auto& identity = critical["identity"];
    if (auto only = require_only_fields(identity, {"docker-reference"}, "the payload's critical.identity"); !only)
        return unexpected(std::move(only).error());
    const auto& image = critical["image"];
    if (auto only = require_only_fields(image, {"docker-manifest-digest"}, "the payload's critical.image"); !only)
        return unexpected(std::move(only).error());

    SimpleSigningClaims claims;
    auto reference = required_string(identity, "docker-reference", "the payload's critical.identity");
    if (!reference) return unexpected(std::move(reference).error());
    claims.identity = std::move(*reference);
    auto digest = required_string(image, "docker-manifest-digest", "the payload's critical.image");
    if (!digest) return unexpected(std::move(digest).error());
    claims.digest = std::move(*digest);

    const auto& optional = root["optional"];
    if (!optional.is_null() && !optional.is_object())
        return unexpected(Error(ErrorKind::verification, "the payload's \"optional\" is neither an object nor null"));
    if (optional.is_object()) {
        for (const auto& [key, value] : optional.items()) {
            if (value.is_string())
                claims.annotations[key] = value.get<std::string>();
            else
                claims.other_optional[key] = value.dump();
        }
    }
    return claims;
}

}  // namespace karmor::signing
