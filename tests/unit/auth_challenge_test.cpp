#include <gtest/gtest.h>

#include "oci/auth_challenge.hpp"

namespace karmor::oci {
namespace {

TEST(WwwAuthenticate, BearerWithQuotedCommas) {
    auto c = parse_www_authenticate(
        R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "bearer");
    EXPECT_EQ(c[0].param("realm"), "https://auth.example.com/token");
    EXPECT_EQ(c[0].param("service"), "registry.example.com");
    EXPECT_EQ(c[0].param("scope"), "repository:a/b:pull,push");
}

TEST(WwwAuthenticate, CaseInsensitiveSchemeAndNamesEscapesSpaces) {
    auto c = parse_www_authenticate(R"(BASIC Realm = "my \"quoted\" realm" , charset="UTF-8")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "basic");
    EXPECT_EQ(c[0].param("realm"), R"(my "quoted" realm)");
    EXPECT_EQ(c[0].param("charset"), "UTF-8");
}

TEST(WwwAuthenticate, SeveralChallenges) {
    auto c = parse_www_authenticate(R"(Basic realm="r1", Bearer realm="https://t/x",service=s, Negotiate)");
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].scheme, "basic");
    EXPECT_EQ(c[0].param("realm"), "r1");
    EXPECT_EQ(c[1].scheme, "bearer");
    EXPECT_EQ(c[1].param("service"), "s");
    EXPECT_EQ(c[2].scheme, "negotiate");
}

TEST(WwwAuthenticate, EmptyAndGarbage) {
    EXPECT_TRUE(parse_www_authenticate("").empty());
    auto c = parse_www_authenticate(R"(Bearer realm="unterminated)");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].param("realm"), "unterminated");
    EXPECT_NO_THROW(parse_www_authenticate(",,,=,\"\"\\"));
}

}  // namespace
}  // namespace karmor::oci

namespace karmor::oci {
namespace {

TEST(WwwAuthenticate, Token68AndEmptyListElements) {
    auto c = parse_www_authenticate(R"(Negotiate abc+/de==, Bearer realm="r",,  service="s" ,scope="a b")");
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].scheme, "negotiate");
    EXPECT_EQ(c[0].param(""), "abc+/de==");
    EXPECT_EQ(c[1].param("realm"), "r");
    EXPECT_EQ(c[1].param("service"), "s");
    EXPECT_EQ(c[1].param("scope"), "a b");
}

TEST(WwwAuthenticate, UnquotedUrlValueAndErrorParameter) {
    auto c = parse_www_authenticate(
        R"(Bearer realm=https://auth.example.com/token?a=1,service=reg,error="insufficient_scope")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].param("realm"), "https://auth.example.com/token?a=1");
    EXPECT_EQ(c[0].param("service"), "reg");
    EXPECT_EQ(c[0].param("error"), "insufficient_scope");
}

}  // namespace
}  // namespace karmor::oci
