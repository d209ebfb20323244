#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <random>

#include "karmor/digest.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"

namespace karmor {
namespace {

TEST(Digest, Sha256OfKnownInputs) {
    EXPECT_EQ(Digest::sha256_of("").str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Digest::sha256_of("{}").str(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

TEST(Digest, IncrementalEqualsOneShot) {
    DigestHasher hasher;
    hasher.update("hello ");
    hasher.update("world");
    EXPECT_EQ(hasher.bytes_seen(), 11u);
    EXPECT_EQ(hasher.finish(), Digest::sha256_of("hello world"));
}

// Small inputs are hashed by karmor's own SHA-256, larger ones by OpenSSL, switching in the
// middle of a stream: every length around the padding and the switch, in chunks of every kind,
// must give OpenSSL's digest.
std::string openssl_sha256_hex(const std::string& bytes) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), out, &length, EVP_sha256(), nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(digits[out[i] >> 4]);
        hex.push_back(digits[out[i] & 0xf]);
    }
    return hex;
}

void expect_sha256_agrees_with_openssl_at_every_length_and_chunking() {
    std::mt19937 random(26);
    std::string input(200'000, '\0');
    for (auto& c : input) c = static_cast<char>(random());
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
    for (std::size_t n : {1000u, 4096u, 65'472u, 65'535u, 65'536u, 65'537u, 65'600u, 131'072u, 200'000u})
        lengths.push_back(n);
    for (const auto length : lengths) {
        const std::string bytes = input.substr(0, length);
        const auto expected = openssl_sha256_hex(bytes);
        EXPECT_EQ(Digest::sha256_of(bytes).hex(), expected) << length << " bytes";
        for (const std::size_t chunk : {1u, 7u, 64u, 1000u, 40'000u}) {
            if (length > 20'000 && chunk < 64) continue;
            DigestHasher hasher;
            for (std::size_t at = 0; at < length; at += chunk) hasher.update(std::string_view(bytes).substr(at, chunk));
            EXPECT_EQ(hasher.finish().hex(), expected) << length << " bytes in chunks of " << chunk;
        }
    }
    // FIPS 180-4's two-block example.
    EXPECT_EQ(Digest::sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex(),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Digest, Sha256AgreesWithOpenSslAtEveryLengthAndChunking) {
    expect_sha256_agrees_with_openssl_at_every_length_and_chunking();
}

// Once libcrypto is loaded anyway (by libcurl), small inputs go to OpenSSL too: the same digests.
TEST(Digest, Sha256OfSmallInputsThroughLibcryptoAgrees) {
    util::digest_small_inputs_with_libcrypto();
    expect_sha256_agrees_with_openssl_at_every_length_and_chunking();
}

TEST(Digest, MatchesUsesItsOwnAlgorithm) {
    const auto d = Digest::sha256_of("abc");
    EXPECT_TRUE(d.matches("abc"));
    EXPECT_FALSE(d.matches("abd"));
    DigestHasher sha512("sha512");
    sha512.update("abc");
    const auto d512 = sha512.finish();
    EXPECT_EQ(d512.algorithm(), "sha512");
    EXPECT_EQ(d512.hex().size(), 128u);
    EXPECT_TRUE(d512.matches("abc"));
}

TEST(Digest, ParseRoundTrips) {
    const auto d = Digest::sha256_of("x");
    auto parsed = Digest::parse(d.str());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, d);
    EXPECT_FALSE(Digest::parse("sha256"));
    EXPECT_FALSE(Digest::parse("sha256:"));
    EXPECT_FALSE(Digest::parse("sha1:0123456789abcdef0123456789abcdef01234567"));
}

TEST(Encoding, Base64RoundTrip) {
    for (const std::string& s :
         std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff", 2)}) {
        const auto encoded = util::base64_encode(s);
        auto decoded = util::base64_decode(encoded);
        ASSERT_TRUE(decoded) << encoded;
        EXPECT_EQ(*decoded, s);
    }
    EXPECT_EQ(util::base64_encode("user:pass"), "dXNlcjpwYXNz");
    EXPECT_FALSE(util::base64_decode("abc"));
}

TEST(Encoding, UrlEncodeKeepsUnreserved) {
    EXPECT_EQ(util::url_encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    EXPECT_EQ(util::url_encode("A-z_0.~"), "A-z_0.~");
}

}  // namespace
}  // namespace karmor
