// JSON text that stays valid whatever bytes its strings hold. Paths, annotations and messages
// are bytes on Linux and need not be UTF-8, while JSON text must be; nlohmann::json throws
// (type_error.316) on such a string. These helpers carry every byte over instead, reversibly:
//
//   - valid UTF-8 is kept as it is, except the 128 private-use characters U+EF80..U+EFFF;
//   - every byte that is not part of valid UTF-8, and every byte of one of those 128
//     characters, becomes the character U+EF00 + byte (so 0xFF becomes U+EFFF).
//
// Decoding maps each U+EF80..U+EFFF back to its byte and every other character to its UTF-8,
// which gives the original bytes exactly (MirBSD's OPTU-8 convention; docs/user-guide.md
// shows it in a line of Python). Text that is valid UTF-8 without those private-use characters,
// i.e. nearly all text, comes out unchanged.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace karmor::util {

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view bytes);

// The encoding above, and its inverse.
std::string to_lossless_utf8(std::string_view bytes);
std::string from_lossless_utf8(std::string_view text);

// `document` as JSON text (`indent` as nlohmann's dump: -1 is one line), every string and
// object key carried over with to_lossless_utf8. Never throws on strings.
std::string dump_json(const nlohmann::ordered_json& document, int indent = -1);

}  // namespace karmor::util
