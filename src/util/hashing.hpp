// Raw message digests (the bytes, not a "sha256:…" Digest): what signatures, Merkle trees and
// log IDs are computed over.
#pragma once

#include <string>
#include <string_view>

namespace karmor::util {

// SHA-256 of `bytes`: 32 raw bytes.
std::string sha256_raw(std::string_view bytes);

// The raw digest of `bytes` under `algorithm` ("sha256", "sha384" or "sha512"); empty for any
// other name.
std::string digest_raw(std::string_view algorithm, std::string_view bytes);

}  // namespace karmor::util
