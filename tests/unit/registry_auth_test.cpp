// The Bearer token flow of RegistryClient against a scripted transport: scopes, the shared
// token cache, identity tokens, expired tokens, and errors that name the cause.
#include <gtest/gtest.h>

#include "oci/auth_challenge.hpp"
#include "oci/registry_client.hpp"
#include "oci/token_cache.hpp"
#include "support/scripted_transport.hpp"

namespace karmor::oci {
namespace {

using testing::blob_of;
using testing::respond;
using testing::ScriptedTransport;

Reference ref(const std::string& text) {
    return *Reference::parse(text);
}

const HeaderList bearer_challenge = {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token",service="reg")"}};

ClientOptions options_with(TokenCache* tokens) {
    ClientOptions o;
    o.retry_base_delay_ms = 1;
    o.retry_max_delay_ms = 2;
    o.tokens = tokens;
    return o;
}

TEST(RegistryAuth, TwoClientsShareOneTokenThroughTheCache) {
    ScriptedTransport t;
    TokenCache tokens;
    t.script = {respond(401, bearer_challenge), respond(200, {}, R"({"token":"shared-tok","expires_in":300})"),
                respond(404), respond(404)};
    RegistryClient first(ref("registry.test/team/repo:v1"), options_with(&tokens), t);
    ASSERT_TRUE(first.blob_exists(blob_of("a")));
    RegistryClient second(ref("registry.test/team/repo:v2"), options_with(&tokens), t);
    ASSERT_TRUE(second.blob_exists(blob_of("b")));
    ASSERT_EQ(t.seen.size(), 4u) << "the second client sent the cached token with its first request";
    EXPECT_EQ(t.authorization(3), "Bearer shared-tok");
}

TEST(RegistryAuth, ChallengeScopeIsAskedForTooAndCredentialsGoAsBasic) {
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token?x=1",service="reg",)"
                                                   R"(scope="repository:other/base:pull repository:team/repo:pull")"}}),
                respond(200, {}, R"({"token":"t"})"), respond(200)};
    auto options = options_with(nullptr);
    options.credentials = {"alice", "pw", ""};
    RegistryClient client(ref("registry.test/team/repo:v1"), options, t);
    ASSERT_TRUE(client.blob_exists(blob_of("")));
    EXPECT_EQ(t.seen[1].url, "https://auth.test/token?x=1&service=reg&scope=repository%3Ateam%2Frepo%3Apull"
                             "&scope=repository%3Aother%2Fbase%3Apull&account=alice");
    EXPECT_EQ(t.authorization(1), "Basic YWxpY2U6cHc=");
}

TEST(RegistryAuth, IdentityTokenUsesTheRefreshTokenGrantInTheBody) {
    ScriptedTransport t;
    t.script = {respond(401, bearer_challenge), respond(200, {}, R"({"access_token":"acc"})"), respond(200)};
    auto options = options_with(nullptr);
    options.credentials.identity_token = "refresh-secret";
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    ASSERT_TRUE(client.blob_exists(blob_of("")));
    EXPECT_EQ(t.seen[1].method, "POST");
    EXPECT_EQ(t.seen[1].url, "https://auth.test/token");
    EXPECT_EQ(t.bodies[1], "grant_type=refresh_token&client_id=karmor&service=reg&scope=repository%3Arepo%3Apull"
                           "&refresh_token=refresh-secret");
    EXPECT_EQ(t.authorization(1), "");
    EXPECT_EQ(t.authorization(2), "Bearer acc");
}

TEST(RegistryAuth, RefusedIdentityTokenSaysToLogInAgain) {
    ScriptedTransport t;
    t.script = {respond(401, bearer_challenge), respond(401)};
    auto options = options_with(nullptr);
    options.credentials.identity_token = "refresh-secret";
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    auto result = client.blob_exists(blob_of(""));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::auth);
    EXPECT_NE(result.error().message.find("identity token"), std::string::npos);
    EXPECT_EQ(result.error().message.find("refresh-secret"), std::string::npos);
}

TEST(RegistryAuth, ExpiredTokenIsFetchedAgainOnce) {
    ScriptedTransport t;
    TokenCache tokens;
    t.script = {respond(401, bearer_challenge), respond(200, {}, R"({"token":"old","expires_in":3600})"), respond(404),
                // later: the registry no longer accepts "old"
                respond(401, {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token",service="reg",)"
                                                   R"(error="invalid_token")"}}),
                respond(200, {}, R"({"token":"new"})"), respond(200)};
    RegistryClient client(ref("registry.test/repo:v1"), options_with(&tokens), t);
    ASSERT_TRUE(client.blob_exists(blob_of("a")));
    auto again = client.blob_exists(blob_of("b"));
    ASSERT_TRUE(again) << again.error().message;
    ASSERT_EQ(t.seen.size(), 6u);
    EXPECT_EQ(t.authorization(3), "Bearer old");
    EXPECT_EQ(t.seen[4].url.rfind("https://auth.test/token", 0), 0u);
    EXPECT_EQ(t.authorization(5), "Bearer new");
}

TEST(RegistryAuth, TokenRefusedAgainIsAnExpiredOrInvalidTokenError) {
    const HeaderList invalid = {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token",service="reg",)"
                                                     R"(error="invalid_token")"}};
    ScriptedTransport t;
    t.script = {respond(401, bearer_challenge), respond(200, {}, R"({"token":"t1"})"), respond(401, invalid)};
    RegistryClient client(ref("registry.test/repo:v1"), options_with(nullptr), t);
    auto result = client.blob_exists(blob_of(""));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::auth);
    EXPECT_NE(result.error().message.find("expired or invalid"), std::string::npos) << result.error().message;
    EXPECT_EQ(t.seen.size(), 3u);
}

TEST(RegistryAuth, AnonymousTokenWithoutAccessSaysToLogIn) {
    const HeaderList insufficient = {{"WWW-Authenticate",
                                      R"(Bearer realm="https://auth.test/token",service="reg",)"
                                      R"(scope="repository:repo:pull",error="insufficient_scope")"}};
    ScriptedTransport t;
    t.script = {respond(401, bearer_challenge), respond(200, {}, R"({"token":"anon"})"), respond(401, insufficient)};
    RegistryClient client(ref("registry.test/repo:v1"), options_with(nullptr), t);
    auto result = client.fetch_manifest("v1");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::auth);
    EXPECT_NE(result.error().message.find("anonymous pull access to registry.test/repo is not allowed"),
              std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().hint.find("karmor oci login registry.test"), std::string::npos);
}

TEST(RegistryAuth, WrongPasswordOnBasicIsNamedAsSuch) {
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Basic realm="r")"}}),
                respond(401, {{"WWW-Authenticate", R"(Basic realm="r")"}})};
    auto options = options_with(nullptr);
    options.credentials = {"bob", "wrong-pass", ""};
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    auto result = client.blob_exists(blob_of(""));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::auth);
    EXPECT_NE(result.error().message.find("refused the user name and password of bob"), std::string::npos);
    EXPECT_EQ(result.error().message.find("wrong-pass"), std::string::npos);
}

TEST(RegistryAuth, CheckCredentialsAsksForNoRepositoryScope) {
    ScriptedTransport t;
    t.script = {respond(401, bearer_challenge), respond(200, {}, R"({"token":"t"})"), respond(200)};
    auto options = options_with(nullptr);
    options.credentials = {"u", "p", ""};
    RegistryClient client(ref("registry.test/anything"), options, t);
    ASSERT_TRUE(client.check_credentials());
    EXPECT_EQ(t.seen[0].url, "https://registry.test/v2/");
    EXPECT_EQ(t.seen[1].url, "https://auth.test/token?service=reg&account=u");
}

TEST(TokenCacheTest, ExpiredAndForgottenTokensAreNotFound) {
    TokenCache cache;
    cache.store("k", "tok", std::chrono::seconds(0));
    EXPECT_FALSE(cache.find("k"));
    cache.store("k", "tok", std::chrono::seconds(300));
    EXPECT_EQ(cache.find("k").value_or(""), "tok");
    cache.forget("k", "other");
    EXPECT_TRUE(cache.find("k"));
    cache.forget("k", "tok");
    EXPECT_FALSE(cache.find("k"));
}

}  // namespace
}  // namespace karmor::oci

#include "oci/redact.hpp"

namespace karmor::oci {
namespace {

TEST(RedactUrl, SignedQueryValuesAreHiddenOthersKept) {
    EXPECT_EQ(redact_url("https://s3.test/b?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2F1&partNumber=2"),
              "https://s3.test/b?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&partNumber=2");
    EXPECT_EQ(redact_url("https://cdn.test/x?sig=s3cr3t&se=2026&sp=r"), "https://cdn.test/x?sig=REDACTED&se=2026&sp=r");
    EXPECT_EQ(redact_url("https://auth.test/token?service=reg&scope=repository%3Ar%3Apull"),
              "https://auth.test/token?service=reg&scope=repository%3Ar%3Apull");
    EXPECT_EQ(redact_url("https://r.test/v2/"), "https://r.test/v2/");
}

}  // namespace
}  // namespace karmor::oci
