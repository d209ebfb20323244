#include "karmor/digest.hpp"

#include <openssl/evp.h>

#include <array>
#include <string>

namespace karmor {
namespace {

struct EvpMdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

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
    EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

namespace {

// EVP_sha256() makes every EVP_DigestInit_ex look the algorithm up again in OpenSSL 3's provider
// tables, which costs about what hashing 500 bytes does: a pull hashes every file it writes.
// Fetched once instead (the fallback keeps the implicit lookup if fetching fails).
const EVP_MD* fetched(const char* name, const EVP_MD* fallback) {
    const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    return md ? md : fallback;
}

}  // namespace

DigestHasher::DigestHasher(std::string_view algorithm) : state_(std::make_unique<State>()), algorithm_(algorithm) {
    static const EVP_MD* const sha256 = fetched("SHA256", EVP_sha256());
    static const EVP_MD* const sha512 = fetched("SHA512", EVP_sha512());
    const EVP_MD* md = algorithm == "sha512" ? sha512 : sha256;
    if (algorithm != "sha512") algorithm_ = "sha256";
    EVP_DigestInit_ex(state_->ctx.get(), md, nullptr);
}

DigestHasher::~DigestHasher() = default;
DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;

void DigestHasher::update(std::string_view bytes) {
    EVP_DigestUpdate(state_->ctx.get(), bytes.data(), bytes.size());
    bytes_ += bytes.size();
}

Digest DigestHasher::finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(state_->ctx.get(), out.data(), &length);
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
