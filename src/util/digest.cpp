#include "karmor/digest.hpp"

#include "util/hashing.hpp"

// The SHA functions themselves, not EVP: EVP's first use loads OpenSSL's configuration and
// providers, about 1.3 ms of CPU that dominated `push --dry-run` of one policy (issue 26,
// docs/benchmarks.md "Start-up"); these run the same assembly (SHA-NI, AVX2) without that set-up.
// They are deprecated in OpenSSL 3 in favour of EVP, and do not go through a FIPS provider.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace karmor {
namespace {

std::size_t hex_length(std::string_view algorithm) {
    if (algorithm == "sha256") return 64;
    if (algorithm == "sha512") return 128;
    return 0;
}

std::string to_hex(const unsigned char* data, unsigned int length) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0xf]);
    }
    return out;
}

// SHA-256 (FIPS 180-4) of an input held in memory, for inputs up to small_input_bytes: a
// command that only digests a few small blobs (push --dry-run of one policy, a manifest) then
// never opens libcrypto, whose dlopen is a quarter of such a command's CPU (its 1,187
// relocations, BIND_NOW). Larger inputs go to OpenSSL, whose SHA-NI code is several times faster.
constexpr std::size_t small_input_bytes = 64u << 10;

// Set once libcrypto is in the process anyway (libcurl brings it): then every input goes to
// OpenSSL's SHA-NI code, which hashes a 450-byte policy about 8 times faster than the portable
// code, 20 ms of a 10,000-policy pull's pull state (issue 26, goal 3).
std::atomic<bool> small_inputs_to_openssl{false};

constexpr std::array<std::uint32_t, 64> sha256_k{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotate_right(std::uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

void sha256_block(std::array<std::uint32_t, 8>& h, const unsigned char* block) {
    std::array<std::uint32_t, 64> w{};
    for (std::size_t i = 0; i < 16; ++i)
        w[i] = static_cast<std::uint32_t>(block[4 * i]) << 24 | static_cast<std::uint32_t>(block[4 * i + 1]) << 16 |
               static_cast<std::uint32_t>(block[4 * i + 2]) << 8 | static_cast<std::uint32_t>(block[4 * i + 3]);
    for (std::size_t i = 16; i < 64; ++i) {
        const auto s0 = rotate_right(w[i - 15], 7) ^ rotate_right(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const auto s1 = rotate_right(w[i - 2], 17) ^ rotate_right(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto [a, b, c, d, e, f, g, hh] = h;
    for (std::size_t i = 0; i < 64; ++i) {
        const auto t1 = hh + (rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25)) + ((e & f) ^ (~e & g)) +
                        sha256_k[i] + w[i];
        const auto t2 =
            (rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

std::array<unsigned char, 32> small_sha256(std::string_view bytes) {
    std::array<std::uint32_t, 8> h{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t whole = bytes.size() / 64 * 64;
    for (std::size_t at = 0; at < whole; at += 64) sha256_block(h, data + at);
    // The tail, 0x80, zeros, and the length in bits (big-endian): one or two blocks.
    std::array<unsigned char, 128> last{};
    const std::size_t tail = bytes.size() - whole;
    for (std::size_t i = 0; i < tail; ++i) last[i] = data[whole + i];
    last[tail] = 0x80;
    const std::size_t blocks = tail < 56 ? 1 : 2;
    const std::uint64_t bits = static_cast<std::uint64_t>(bytes.size()) * 8;
    for (std::size_t i = 0; i < 8; ++i) last[blocks * 64 - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
    for (std::size_t i = 0; i < blocks; ++i) sha256_block(h, last.data() + 64 * i);
    std::array<unsigned char, 32> out{};
    for (std::size_t i = 0; i < 8; ++i)
        for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<unsigned char>(h[i] >> (24 - 8 * j));
    return out;
}

}  // namespace

struct DigestHasher::State {
    bool sha512 = false;
    // SHA-256 input is kept here until it outgrows small_input_bytes, then goes to OpenSSL.
    std::string small;
    bool in_openssl = false;
    SHA256_CTX sha256_ctx{};
    SHA512_CTX sha512_ctx{};
};

DigestHasher::DigestHasher(std::string_view algorithm) : state_(std::make_unique<State>()), algorithm_(algorithm) {
    state_->sha512 = algorithm == "sha512";
    if (state_->sha512) {
        SHA512_Init(&state_->sha512_ctx);
    } else {
        algorithm_ = "sha256";
    }
}

DigestHasher::~DigestHasher() = default;
DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;

void DigestHasher::update(std::string_view bytes) {
    bytes_ += bytes.size();
    if (state_->sha512) {
        SHA512_Update(&state_->sha512_ctx, bytes.data(), bytes.size());
        return;
    }
    if (!state_->in_openssl && state_->small.size() + bytes.size() <= small_input_bytes &&
        !small_inputs_to_openssl.load(std::memory_order_relaxed)) {
        state_->small.append(bytes);
        return;
    }
    if (!state_->in_openssl) {
        SHA256_Init(&state_->sha256_ctx);
        SHA256_Update(&state_->sha256_ctx, state_->small.data(), state_->small.size());
        state_->small = std::string();
        state_->in_openssl = true;
    }
    SHA256_Update(&state_->sha256_ctx, bytes.data(), bytes.size());
}

Digest DigestHasher::finish() {
    std::array<unsigned char, SHA512_DIGEST_LENGTH> out{};
    unsigned int length = SHA256_DIGEST_LENGTH;
    if (state_->sha512) {
        SHA512_Final(out.data(), &state_->sha512_ctx);
        length = SHA512_DIGEST_LENGTH;
    } else if (state_->in_openssl) {
        SHA256_Final(out.data(), &state_->sha256_ctx);
    } else {
        const auto small = small_sha256(state_->small);
        std::copy(small.begin(), small.end(), out.begin());
    }
    return Digest(algorithm_, to_hex(out.data(), length));
}

Result<Digest> Digest::parse(std::string_view text) {
    const auto colon = text.find(':');
    const auto bad = [&](const std::string& why) {
        return unexpected(Error(ErrorKind::usage, "invalid digest \"" + std::string(text) + "\": " + why,
                                "a digest has the form sha256:<64 lowercase hex digits>"));
    };
    if (colon == std::string_view::npos) return bad("missing the algorithm");
    const auto algorithm = text.substr(0, colon);
    const auto hex = text.substr(colon + 1);
    const auto expected_length = hex_length(algorithm);
    if (expected_length == 0) return bad("unsupported algorithm \"" + std::string(algorithm) + "\"");
    if (hex.size() != expected_length)
        return bad("expected " + std::to_string(expected_length) + " hex digits, got " + std::to_string(hex.size()));
    for (char c : hex)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("not lowercase hex");
    return Digest(std::string(algorithm), std::string(hex));
}

namespace util {
void digest_small_inputs_with_libcrypto() {
    small_inputs_to_openssl.store(true, std::memory_order_relaxed);
}
}  // namespace util

Digest Digest::sha256_of(std::string_view bytes) {
    DigestHasher hasher("sha256");
    hasher.update(bytes);
    return hasher.finish();
}

bool Digest::matches(std::string_view bytes) const {
    DigestHasher hasher(algorithm_);
    hasher.update(bytes);
    return hasher.finish() == *this;
}

}  // namespace karmor
