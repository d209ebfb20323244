// Strict JSON and base64 for the signed documents of SPEC §9.
#include "signing/strict_json.hpp"

#include <set>
#include <vector>

#include "util/encoding.hpp"

namespace karmor::signing {

Result<nlohmann::json> parse_strict_json(std::string_view bytes, std::size_t max_bytes, const std::string& what,
                                         int max_depth) {
    if (bytes.size() > max_bytes)
        return unexpected(Error(ErrorKind::verification, what + " is " + std::to_string(bytes.size()) +
                                                             " bytes, more than the " + std::to_string(max_bytes) +
                                                             " allowed"));
    // One set of keys per open object; arrays push an empty marker so that depth counts them.
    std::vector<std::set<std::string>> open;
    bool duplicate = false;
    bool too_deep = false;
    std::string duplicate_key;
    const auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (depth > max_depth) too_deep = true;
        switch (event) {
            case Event::object_start:
            case Event::array_start: open.emplace_back(); break;
            case Event::object_end:
            case Event::array_end:
                if (!open.empty()) open.pop_back();
                break;
            case Event::key:
                if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second) {
                    duplicate = true;
                    duplicate_key = parsed.get<std::string>();
                }
                break;
            case Event::value: break;
        }
        return !duplicate && !too_deep;
    };
    auto value = nlohmann::json::parse(bytes.begin(), bytes.end(), callback, false);
    if (duplicate)
        return unexpected(Error(ErrorKind::verification, what + " names the key \"" + duplicate_key + "\" twice"));
    if (too_deep)
        return unexpected(
            Error(ErrorKind::verification, what + " is nested deeper than " + std::to_string(max_depth) + " levels"));
    if (value.is_discarded()) return unexpected(Error(ErrorKind::verification, what + " is not valid JSON"));
    return value;
}

Result<void> require_only_fields(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                                 const std::string& what) {
    if (!object.is_object()) return unexpected(Error(ErrorKind::verification, what + " is not a JSON object"));
    for (const auto& [key, value] : object.items()) {
        bool known = false;
        for (const char* name : allowed) known = known || key == name;
        if (!known) return unexpected(Error(ErrorKind::verification, what + " has an unknown field \"" + key + "\""));
    }
    return {};
}

Result<std::string> required_string(const nlohmann::json& object, const char* key, const std::string& what) {
    const auto it = object.find(key);
    if (it == object.end())
        return unexpected(Error(ErrorKind::verification, what + " has no field \"" + std::string(key) + "\""));
    if (!it->is_string())
        return unexpected(Error(ErrorKind::verification, what + ": \"" + std::string(key) + "\" is not a string"));
    return it->get<std::string>();
}

std::optional<std::string> decode_canonical_base64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    for (char c : text) {
        const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                              c == '/' || c == '=';
        if (!alphabet) return std::nullopt;
    }
    auto bytes = util::base64_decode(text);
    // Re-encoding gives back the text only when the padding and the unused bits are canonical.
    if (!bytes || util::base64_encode(*bytes) != text) return std::nullopt;
    return bytes;
}

}  // namespace karmor::signing
