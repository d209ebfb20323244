#include "karmor/digest.hpp"

// The SHA functions themselves, not EVP: EVP's first use loads OpenSSL's configuration and
// providers, about 1.3 ms of CPU that dominated `push --dry-run` of one policy (issue 26,
// docs/benchmarks.md "Start-up"); these run the same assembly (SHA-NI, AVX2) without that set-up.
// They are deprecated in OpenSSL 3 in favour of EVP, and do not go through a FIPS provider.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <array>
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

}  // namespace

struct DigestHasher::State {
    bool sha512 = false;
    SHA256_CTX sha256_ctx{};
    SHA512_CTX sha512_ctx{};
};

DigestHasher::DigestHasher(std::string_view algorithm) : state_(std::make_unique<State>()), algorithm_(algorithm) {
    state_->sha512 = algorithm == "sha512";
    if (state_->sha512) {
        SHA512_Init(&state_->sha512_ctx);
    } else {
        algorithm_ = "sha256";
        SHA256_Init(&state_->sha256_ctx);
    }
}

DigestHasher::~DigestHasher() = default;
DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;

void DigestHasher::update(std::string_view bytes) {
    if (state_->sha512)
        SHA512_Update(&state_->sha512_ctx, bytes.data(), bytes.size());
    else
        SHA256_Update(&state_->sha256_ctx, bytes.data(), bytes.size());
    bytes_ += bytes.size();
}

Digest DigestHasher::finish() {
    std::array<unsigned char, SHA512_DIGEST_LENGTH> out{};
    unsigned int length = SHA256_DIGEST_LENGTH;
    if (state_->sha512) {
        SHA512_Final(out.data(), &state_->sha512_ctx);
        length = SHA512_DIGEST_LENGTH;
    } else {
        SHA256_Final(out.data(), &state_->sha256_ctx);
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
