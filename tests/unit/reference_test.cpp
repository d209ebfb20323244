#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "karmor/reference.hpp"
#include "oci/reference_grammar.hpp"
#include "util/loopback.hpp"

namespace karmor {
namespace {

struct ValidCase {
    const char* input;
    const char* registry;
    const char* api_host;
    const char* repository;
    const char* tag;
    const char* digest;  // "" when none
    const char* normalized;
};

const char* const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class ValidReference : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidReference, ParsesAndNormalizes) {
    const auto& c = GetParam();
    auto ref = Reference::parse(c.input);
    ASSERT_TRUE(ref) << ref.error().message;
    EXPECT_EQ(ref->registry(), c.registry);
    EXPECT_EQ(ref->api_host(), c.api_host);
    EXPECT_EQ(ref->repository(), c.repository);
    EXPECT_EQ(ref->tag(), c.tag);
    EXPECT_EQ(ref->digest() ? ref->digest()->str() : "", c.digest);
    EXPECT_EQ(ref->str(), c.normalized);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidReference,
    ::testing::Values(ValidCase{"localhost:5000/myimage:latest", "localhost:5000", "localhost:5000", "myimage",
                                "latest", "", "localhost:5000/myimage:latest"},
                      ValidCase{"localhost/policies", "localhost", "localhost", "policies", "latest", "",
                                "localhost/policies:latest"},
                      ValidCase{"registry.example.com/team/policies:v3", "registry.example.com", "registry.example.com",
                                "team/policies", "v3", "", "registry.example.com/team/policies:v3"},
                      ValidCase{"registry.example.com:8443/a/b/c/d:1.0_rc-2", "registry.example.com:8443",
                                "registry.example.com:8443", "a/b/c/d", "1.0_rc-2", "",
                                "registry.example.com:8443/a/b/c/d:1.0_rc-2"},
                      ValidCase{"nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", "",
                                "docker.io/library/nginx:latest"},
                      ValidCase{"kubearmor/policies:v1", "docker.io", "registry-1.docker.io", "kubearmor/policies",
                                "v1", "", "docker.io/kubearmor/policies:v1"},
                      ValidCase{"docker.io/nginx:1.25", "docker.io", "registry-1.docker.io", "library/nginx", "1.25",
                                "", "docker.io/library/nginx:1.25"},
                      ValidCase{"127.0.0.1:5000/my-repo/sub_dir/x.y__z", "127.0.0.1:5000", "127.0.0.1:5000",
                                "my-repo/sub_dir/x.y__z", "latest", "", "127.0.0.1:5000/my-repo/sub_dir/x.y__z:latest"},
                      ValidCase{"[::1]:5000/p:t", "[::1]:5000", "[::1]:5000", "p", "t", "", "[::1]:5000/p:t"}),
    [](const auto& test_case) { return "case" + std::to_string(test_case.index); });

TEST(Reference, DigestOnlyHasNoTag) {
    auto ref = Reference::parse(std::string("localhost:5000/p@sha256:") + hex64);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->tag(), "");
    EXPECT_EQ(ref->manifest_reference(), std::string("sha256:") + hex64);
}

TEST(Reference, TagAndDigestResolveByDigest) {
    auto ref = Reference::parse(std::string("localhost:5000/p:v1@sha256:") + hex64);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->tag(), "v1");
    EXPECT_EQ(ref->manifest_reference(), std::string("sha256:") + hex64);
    EXPECT_EQ(ref->str(), std::string("localhost:5000/p:v1@sha256:") + hex64);
}

TEST(Reference, Sha512Digest) {
    const std::string hex128 = std::string(hex64) + hex64;
    auto ref = Reference::parse("r.io/p@sha512:" + hex128);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->digest()->algorithm(), "sha512");
}

// Found by fuzz/reference_fuzz: a 250-character single-component name became a 258-character
// repository with Docker Hub's "library/", and its normalized form no longer parsed.
TEST(Reference, LengthLimitCountsTheImplicitLibraryPrefix) {
    const std::string name(250, 'a');
    auto ref = Reference::parse(name);
    ASSERT_FALSE(ref);
    EXPECT_NE(ref.error().message.find("longer than 255"), std::string::npos);
    auto fits = Reference::parse(std::string(247, 'a'));
    ASSERT_TRUE(fits);
    EXPECT_TRUE(Reference::parse(fits->str())) << "the normalized form must parse again";
}

// Found by fuzz/reference_fuzz in CI: a 4,000-character registry host parsed, and the
// normalized form (":latest" added) was longer than 4096 characters, so it no longer parsed.
// A DNS name has at most 253 characters; the bound keeps every normalized form short.
TEST(Reference, RegistryHostIsAtMostADnsNameLong) {
    std::string long_host;
    while (long_host.size() < 4000) long_host += "abcdefgh.";
    long_host += "io";
    auto too_long = Reference::parse(long_host + "/p");
    ASSERT_FALSE(too_long);
    EXPECT_NE(too_long.error().message.find("longer than 253"), std::string::npos) << too_long.error().message;
    EXPECT_LT(too_long.error().message.size(), 200u) << "the 4,000 characters are not echoed";

    std::string host(249, 'a');
    host += ".io";  // 252 characters
    for (const std::string& fits : {host + "/p", "x" + host + ":65535/p"}) {
        auto ref = Reference::parse(fits);
        ASSERT_TRUE(ref) << ref.error().message;
        auto again = Reference::parse(ref->str());
        ASSERT_TRUE(again) << "the normalized form must parse again";
        EXPECT_EQ(again->str(), ref->str());
    }
    EXPECT_FALSE(Reference::parse("xx" + host + ":5000/p")) << "254 characters";
    EXPECT_FALSE(Reference::parse("[" + std::string(300, ':') + "]/p")) << "an address literal is bounded too";
}

TEST(Reference, Loopback) {
    for (const char* r : {"localhost:5000/p", "127.0.0.1:5000/p", "127.1.2.3/p", "[::1]:80/p", "localhost/p"})
        EXPECT_TRUE(Reference::parse(r)->is_loopback()) << r;
    for (const char* r : {"registry.example.com/p", "10.0.0.1:5000/p", "128.0.0.1/p", "localhost.example.com/p", "p"})
        EXPECT_FALSE(Reference::parse(r)->is_loopback()) << r;
}

struct InvalidCase {
    const char* input;
    const char* message_part;
};

class InvalidReference : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidReference, IsRefusedWithTheExpectedForm) {
    const auto& c = GetParam();
    auto ref = Reference::parse(c.input);
    ASSERT_FALSE(ref) << c.input << " parsed as " << ref->str();
    EXPECT_EQ(ref.error().kind, ErrorKind::usage);
    EXPECT_NE(ref.error().message.find(c.message_part), std::string::npos) << ref.error().message;
    EXPECT_NE(ref.error().hint.find("[REGISTRY[:PORT]/]REPOSITORY[:TAG]"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidReference,
    ::testing::Values(InvalidCase{"", "empty"}, InvalidCase{"localhost:5000/MyImage:latest", "lowercase"},
                      InvalidCase{"localhost:5000/", "repository is missing"},
                      InvalidCase{"localhost:5000/a//b", "empty path component"},
                      InvalidCase{"localhost:5000/p:bad tag", "tag"}, InvalidCase{"localhost:5000/p:-x", "tag"},
                      InvalidCase{"localhost:5000/p@sha256:abc", "64 hex digits"},
                      InvalidCase{"localhost:5000/p@md5:0123", "unsupported algorithm"},
                      InvalidCase{
                          "localhost:5000/p@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                          "lowercase hex"},
                      InvalidCase{"local_host:5000/p", "registry"}, InvalidCase{"localhost:5000/p-:t", "component"},
                      InvalidCase{"localhost:5000/-p", "component"}),
    [](const auto& test_case) { return "case" + std::to_string(test_case.index); });

}  // namespace
}  // namespace karmor

namespace karmor {
namespace {

// `prefix` and every string over `alphabet` up to `max_length` characters after it (exhaustive),
// then random longer ones: the hand-written matcher and std::regex on the expression it
// documents agree on all.
template <typename Matcher>
void expect_same_as_regex(const char* expression, Matcher matcher, const std::string& alphabet, std::size_t max_length,
                          const std::string& prefix = "") {
    const std::regex pattern(expression);
    std::vector<std::string> inputs{""};
    for (std::size_t from = 0; from < inputs.size(); ++from) {
        if (inputs[from].size() == max_length) continue;  // (before the prefix is added)
        for (char c : alphabet) inputs.push_back(inputs[from] + c);
    }
    std::mt19937 random(26);
    for (int i = 0; i < 20'000; ++i) {
        std::string text(std::uniform_int_distribution<std::size_t>(max_length + 1, 24)(random), ' ');
        for (auto& c : text) c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(random)];
        inputs.push_back(std::move(text));
    }
    std::size_t matched = 0;
    for (auto& text : inputs) {
        text.insert(0, prefix);
        const bool expected = std::regex_match(text, pattern);
        matched += expected ? 1 : 0;
        ASSERT_EQ(matcher(text), expected) << expression << " on \"" << text << "\"";
    }
    EXPECT_GT(matched, 0u) << "the inputs never match: the comparison would prove little";
}

TEST(ReferenceGrammar, HandWrittenMatchersAgreeWithTheExpressions) {
    expect_same_as_regex("[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*", oci::grammar::is_path_component, "a0._-A/", 5);
    expect_same_as_regex("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", oci::grammar::is_tag, "aZ0._-:", 4);
    expect_same_as_regex(
        R"((?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?)",
        oci::grammar::is_registry_host, "aF9-.:[]", 5);
    // Lengths at the edges, which short strings do not reach.
    EXPECT_TRUE(oci::grammar::is_tag(std::string(128, 'a')));
    EXPECT_FALSE(oci::grammar::is_tag(std::string(129, 'a')));
    EXPECT_TRUE(oci::grammar::is_registry_host("localhost:65535"));
    EXPECT_FALSE(oci::grammar::is_registry_host("localhost:123456"));
    EXPECT_TRUE(oci::grammar::is_registry_host("[::1]:5000"));
}

}  // namespace
}  // namespace karmor

namespace karmor {
namespace {

// One definition of "this machine" for the loopback rule, the proxy bypass, the probe and the
// Kubernetes client. What looks like a loopback address but is not one is a name, which DNS may
// send anywhere: the loopback rule (plain HTTP allowed) must not apply to it.
TEST(Loopback, AddressesAndNames) {
    for (const char* yes : {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "0:0:0:0:0:0:0:1"})
        EXPECT_TRUE(util::is_loopback_ip(yes)) << yes;
    for (const char* no : {"", "127.999.999.999", "127.0.0.01", "127.0.0", "127.0.0.1.", "127.0.0.1.example.com",
                           "128.0.0.1", "::2", "::ffff:127.0.0.1", "[::1]", "localhost", "127.0.0.1:5000"})
        EXPECT_FALSE(util::is_loopback_ip(no)) << no;
    for (const char* yes : {"localhost", "LocalHost", "127.0.0.1", "::1"})
        EXPECT_TRUE(util::is_loopback_host(yes)) << yes;
    for (const char* no : {"localhost.", "my.localhost", "localhost.example.com", "127.example.com", "local"})
        EXPECT_FALSE(util::is_loopback_host(no)) << no;
    EXPECT_FALSE(util::is_loopback_ip(std::string_view("127.0.0.1\0evil", 14)));
    for (const char* yes : {"localhost", "registry.localhost", "127.0.0.1", "::1"})
        EXPECT_TRUE(util::is_local_name(yes)) << yes;
    for (const char* no : {"localhost.example.com", "notlocalhost", "127.999.999.999"})
        EXPECT_FALSE(util::is_local_name(no)) << no;
}

TEST(Loopback, TheLoopbackRuleAppliesToThisMachineOnly) {
    for (const char* yes : {"localhost:5000/a", "127.0.0.1:5000/a", "127.1.2.3/a", "[::1]:5000/a", "LOCALHOST:5000/a"})
        EXPECT_TRUE(Reference::parse(yes)->is_loopback()) << yes;
    // 127.999.999.999 and 127.0.0.01 are names to a resolver, not loopback addresses.
    for (const char* no : {"127.999.999.999:5000/a", "127.0.0.01:5000/a", "my.localhost:5000/a", "[::2]:5000/a",
                           "example.com/a", "127.0.0.1.nip.io/a"})
        EXPECT_FALSE(Reference::parse(no)->is_loopback()) << no;
}

}  // namespace
}  // namespace karmor
