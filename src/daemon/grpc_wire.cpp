#include "daemon/grpc_wire.hpp"

#include <algorithm>
#include <array>

namespace karmor::daemon {
namespace {

constexpr std::size_t frame_header_bytes = 5;

void append_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

// Reads a varint at `pos`, advancing it; false when the bytes end first or it runs past 10 bytes.
bool read_varint(std::string_view bytes, std::size_t& pos, std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (pos >= bytes.size()) return false;
        const auto byte = static_cast<unsigned char>(bytes[pos++]);
        value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

Error malformed(const std::string& what) {
    return Error(ErrorKind::registry, "the daemon's reply is not a valid policy.PolicyService response: " + what,
                 "check that the address is KubeArmor's gRPC port and that karmor and KubeArmor agree on the protocol");
}

}  // namespace

std::string encode_policy_message(std::string_view payload) {
    std::string out;
    out.push_back(static_cast<char>((1 << 3) | 2));  // field 1, length-delimited
    append_varint(out, payload.size());
    out.append(payload);
    return out;
}

Result<std::int64_t> decode_response_message(std::string_view message) {
    std::int64_t status = 0;
    std::size_t pos = 0;
    while (pos < message.size()) {
        std::uint64_t key = 0;
        if (!read_varint(message, pos, key)) return unexpected(malformed("a field key is cut off"));
        const auto field = key >> 3;
        const auto wire_type = key & 7;
        std::uint64_t value = 0;
        switch (wire_type) {
            case 0:  // varint
                if (!read_varint(message, pos, value)) return unexpected(malformed("a varint is cut off"));
                if (field == 1) status = static_cast<std::int64_t>(value);
                break;
            case 1:  // 64-bit
                if (message.size() - pos < 8) return unexpected(malformed("a 64-bit field is cut off"));
                pos += 8;
                break;
            case 2:  // length-delimited
                if (!read_varint(message, pos, value) || value > message.size() - pos)
                    return unexpected(malformed("a length-delimited field is cut off"));
                pos += static_cast<std::size_t>(value);
                break;
            case 5:  // 32-bit
                if (message.size() - pos < 4) return unexpected(malformed("a 32-bit field is cut off"));
                pos += 4;
                break;
            default: return unexpected(malformed("wire type " + std::to_string(wire_type) + " is not protobuf 3's"));
        }
        if (field == 1 && wire_type != 0) return unexpected(malformed("field 1 (status) is not an enum"));
    }
    return status;
}

std::string frame_message(std::string_view message) {
    std::string out;
    out.reserve(frame_header_bytes + message.size());
    out.push_back('\0');
    const auto size = static_cast<std::uint32_t>(message.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((size >> shift) & 0xFF));
    out.append(message);
    return out;
}

Result<std::string> unframe_message(std::string_view body) {
    if (body.size() < frame_header_bytes)
        return unexpected(malformed("the body holds " + std::to_string(body.size()) + " bytes, not a whole message"));
    if (body[0] != '\0') return unexpected(malformed("the message is compressed, which karmor did not ask for"));
    std::uint32_t size = 0;
    for (std::size_t i = 1; i < frame_header_bytes; ++i) size = (size << 8) | static_cast<unsigned char>(body[i]);
    if (body.size() - frame_header_bytes != size)
        return unexpected(malformed("the frame announces " + std::to_string(size) + " bytes and holds " +
                                    std::to_string(body.size() - frame_header_bytes)));
    return std::string(body.substr(frame_header_bytes));
}

std::string grpc_timeout(long milliseconds) {
    if (milliseconds < 1) milliseconds = 1;
    if (milliseconds <= 99'999'999) return std::to_string(milliseconds) + "m";
    const long seconds = milliseconds / 1000;
    if (seconds <= 99'999'999) return std::to_string(seconds) + "S";
    return std::to_string(std::min(seconds / 60, 99'999'999L)) + "M";
}

std::string percent_decode(std::string_view text) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

std::string grpc_status_name(long code) {
    static constexpr std::array<const char*, 17> names = {
        "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED"};
    if (code >= 0 && code < static_cast<long>(names.size())) return names[static_cast<std::size_t>(code)];
    return "status " + std::to_string(code);
}

}  // namespace karmor::daemon
