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

// From now on, SHA-256 of small inputs (Digest, DigestHasher) goes to OpenSSL too: to be
// called once libcrypto is loaded anyway (libcurl brings it), when its SHA-NI code costs no
// start-up. Before that, inputs up to 64 KiB are hashed by karmor's own code (src/util/digest.cpp).
void digest_small_inputs_with_libcrypto();

}  // namespace karmor::util
