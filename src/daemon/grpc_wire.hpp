// The KubeArmor daemon's gRPC wire (SPEC §12), by hand: the protobuf encoding of its two
// messages, gRPC's 5-byte message framing, the grpc-timeout header and grpc-status codes.
// Two one-field messages do not justify a protobuf and gRPC runtime in every karmor process.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::daemon {

// message policy { bytes policy = 1; }
std::string encode_policy_message(std::string_view payload);
// message response { PolicyStatus status = 1; }: the status value. An empty message is status
// 0 (proto3 leaves a default out); unknown fields are skipped as protobuf readers must.
Result<std::int64_t> decode_response_message(std::string_view message);

// A length-prefixed message: flag 0 (not compressed), 4-byte big-endian length, the bytes.
std::string frame_message(std::string_view message);
// The one message of a unary response body; a compressed or truncated frame is an error.
Result<std::string> unframe_message(std::string_view body);

// grpc-timeout: at most 8 digits and a unit (m for milliseconds, S seconds, M minutes).
std::string grpc_timeout(long milliseconds);
// grpc-message is percent-encoded (the gRPC HTTP/2 protocol).
std::string percent_decode(std::string_view text);

// The canonical name of a gRPC status code, e.g. 4 → "DEADLINE_EXCEEDED".
std::string grpc_status_name(long code);

}  // namespace karmor::daemon
