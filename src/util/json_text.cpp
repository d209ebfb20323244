#include "util/json_text.hpp"

namespace karmor::util {
namespace {

constexpr char32_t escape_base = 0xEF00;  // byte b (0x80..0xFF) is U+EF00 + b

bool is_escape_character(char32_t c) {
    return c >= escape_base + 0x80 && c <= escape_base + 0xFF;
}

unsigned char byte_at(std::string_view text, std::size_t at) {
    return static_cast<unsigned char>(text[at]);
}

// The length of the valid UTF-8 sequence at `at` and its code point, or 0 when the bytes there
// are not one (RFC 3629, table 3-7 of the Unicode standard).
std::size_t decode_at(std::string_view text, std::size_t at, char32_t& code_point) {
    const unsigned char lead = byte_at(text, at);
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        code_point = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        code_point = lead & 0x0Fu;
        if (lead == 0xE0) low = 0xA0;   // no overlong forms
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        code_point = lead & 0x07u;
        if (lead == 0xF0) low = 0x90;   // no overlong forms
        if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (at + length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char next = byte_at(text, at + i);
        if (i == 1 ? (next < low || next > high) : (next < 0x80 || next > 0xBF)) return 0;
        code_point = (code_point << 6) | (next & 0x3Fu);
    }
    return length;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

bool needs_encoding(std::string_view bytes) {
    for (std::size_t at = 0; at < bytes.size();) {
        char32_t c = 0;
        const auto length = decode_at(bytes, at, c);
        if (length == 0 || is_escape_character(c)) return true;
        at += length;
    }
    return false;
}

bool any_needs_encoding(const nlohmann::ordered_json& value) {
    if (value.is_string()) return needs_encoding(value.get_ref<const std::string&>());
    if (value.is_array()) {
        for (const auto& item : value)
            if (any_needs_encoding(item)) return true;
    } else if (value.is_object()) {
        for (const auto& [key, item] : value.items())
            if (needs_encoding(key) || any_needs_encoding(item)) return true;
    }
    return false;
}

nlohmann::ordered_json encoded(const nlohmann::ordered_json& value) {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        return needs_encoding(text) ? nlohmann::ordered_json(to_lossless_utf8(text)) : value;
    }
    if (value.is_array()) {
        auto out = nlohmann::ordered_json::array();
        for (const auto& item : value) out.push_back(encoded(item));
        return out;
    }
    if (value.is_object()) {
        auto out = nlohmann::ordered_json::object();
        for (const auto& [key, item] : value.items())
            out[needs_encoding(key) ? to_lossless_utf8(key) : key] = encoded(item);
        return out;
    }
    return value;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
    for (std::size_t at = 0; at < bytes.size();) {
        char32_t c = 0;
        const auto length = decode_at(bytes, at, c);
        if (length == 0) return false;
        at += length;
    }
    return true;
}

std::string to_lossless_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t at = 0; at < bytes.size();) {
        char32_t c = 0;
        const auto length = decode_at(bytes, at, c);
        if (length > 0 && !is_escape_character(c)) {
            out.append(bytes.substr(at, length));
            at += length;
            continue;
        }
        // Not UTF-8 here (one byte at a time), or one of the escape characters themselves
        // (each of its bytes): every byte is 0x80 or above, so U+EF00 + byte is an escape.
        const std::size_t count = length > 0 ? length : 1;
        for (std::size_t i = 0; i < count; ++i) append_utf8(out, escape_base + byte_at(bytes, at + i));
        at += count;
    }
    return out;
}

std::string from_lossless_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        char32_t c = 0;
        const auto length = decode_at(text, at, c);
        if (length == 0) {  // not produced by to_lossless_utf8: kept as it is
            out += text[at++];
            continue;
        }
        if (is_escape_character(c))
            out += static_cast<char>(c - escape_base);
        else
            out.append(text.substr(at, length));
        at += length;
    }
    return out;
}

std::string dump_json(const nlohmann::ordered_json& document, int indent) {
    // A copy only when some string needs it: a pull of 100,000 policies prints a large document.
    return any_needs_encoding(document) ? encoded(document).dump(indent) : document.dump(indent);
}

}  // namespace karmor::util
