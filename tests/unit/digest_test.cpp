#include <gtest/gtest.h>

#include "karmor/digest.hpp"
#include "util/encoding.hpp"

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
