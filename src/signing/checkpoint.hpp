// Checkpoints: a transparency log's signed statement of its size and root hash, written as a
// signed note (C2SP signed-note and tlog-checkpoint): origin, tree size, base64 root hash, optional
// lines, a blank line, then "— NAME BASE64(KEYHASH4 || SIGNATURE)" lines. Rekor v1 and Rekor v2
// (rekor-tiles) both write them; they differ in how the log's own signature line is recognised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "karmor/result.hpp"
#include "signing/trusted_root.hpp"

namespace karmor::signing {

inline constexpr std::size_t max_checkpoint_bytes = 8 * 1024;
inline constexpr std::size_t max_checkpoint_signatures = 32;

enum class CheckpointStyle {
    // Rekor v1: the origin is "HOST - TREEID"; the log's line is the one whose key hash is the
    // first 4 bytes of the SHA-256 of its DER key.
    rekor_v1,
    // Rekor v2: the origin and the log's signature name are the host of the log's baseUrl in the
    // trusted root, and the key hash is the signed-note one for the key's type.
    rekor_v2,
};

struct Checkpoint {
    std::string origin;
    std::int64_t size = 0;
    std::string root_hash;  // raw
};

// The host of a URL ("https://log2025-1.rekor.sigstore.dev" → "log2025-1.rekor.sigstore.dev"),
// without port or user; empty when it has none.
std::string url_host(std::string_view url);

// The 4-byte key hash by which a signed note names `log`'s key for `name`.
std::string note_key_hash(const TrustedLog& log, std::string_view name, CheckpointStyle style);

// Reads `note` and verifies it as the golang.org/x/mod signed-note reader does: UTF-8 with no
// control characters but newlines, the signature block after the last blank line, each line
// well-formed; a line naming the log's key must verify (one that does not makes the whole note
// invalid), lines by other keys (witness cosignatures) are ignored, and at least one line of the
// log must be there. Only then is the body read (origin, decimal size, base64 hash).
Result<Checkpoint> verify_checkpoint(std::string_view note, const TrustedLog& log,
                                     CheckpointStyle style = CheckpointStyle::rekor_v1);

}  // namespace karmor::signing
