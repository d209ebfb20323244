// The registry client's state machines (authentication, redirects, retries, the loopback
// rule, verification) against a scripted transport. Everything else about the client is
// tested against a real registry in tests/integration.
#include <gtest/gtest.h>

#include <chrono>

#include "oci/registry_client.hpp"
#include "support/scripted_transport.hpp"

namespace karmor::oci {
namespace {

using testing::blob_of;
using testing::fail;
using testing::respond;
using testing::ScriptedTransport;

Reference ref(const std::string& text) {
    return *Reference::parse(text);
}

ClientOptions fast_options() {
    ClientOptions o;
    o.retry_base_delay_ms = 1;
    o.retry_max_delay_ms = 2;
    return o;
}

TEST(RegistryClient, BasicChallengeUsesCredentials) {
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Basic realm="r")"}}), respond(200, {}, "")};
    auto options = fast_options();
    options.credentials = {"user", "pass", ""};
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    auto exists = client.blob_exists(blob_of(""));
    ASSERT_TRUE(exists) << exists.error().message;
    EXPECT_TRUE(*exists);
    ASSERT_EQ(t.seen.size(), 2u);
    EXPECT_EQ(t.seen[0].url.rfind("https://registry.test/v2/repo/blobs/sha256:", 0), 0u);
    EXPECT_EQ(t.authorization(0), "");
    EXPECT_EQ(t.authorization(1), "Basic dXNlcjpwYXNz");
}

// SPEC §15: a mirror of containerd's hosts.toml may have its own API root (override_path) and is
// told the upstream's name with ?ns=.
TEST(RegistryClient, MirrorEndpointUsesItsApiRootAndNamesTheUpstream) {
    ScriptedTransport t;
    t.script = {respond(200), respond(200, {}, R"({"tags":["v1"]})")};
    auto options = fast_options();
    options.api_root = "/v2/proxy";
    options.namespace_query = "registry.test:5000";
    RegistryClient client(ref("mirror.test/team/repo:v1"), options, t);
    ASSERT_TRUE(client.blob_exists(blob_of("")));
    ASSERT_TRUE(client.list_tags());
    ASSERT_EQ(t.seen.size(), 2u);
    EXPECT_EQ(t.seen[0].url,
              "https://mirror.test/v2/proxy/team/repo/blobs/" + blob_of("").digest.str() + "?ns=registry.test%3A5000");
    EXPECT_EQ(t.seen[1].url, "https://mirror.test/v2/proxy/team/repo/tags/list?n=100&ns=registry.test%3A5000");
}

// registries.conf `insecure = true`: a host that does not speak TLS is spoken to in plain HTTP,
// as the loopback rule does for local registries; without it, it is an error.
TEST(RegistryClient, PlainHttpFallbackOnlyWhereConfigured) {
    for (const bool fallback : {true, false}) {
        ScriptedTransport t;
        t.script = {fail(TransportStatus::tls_handshake_failed), respond(200)};
        auto options = fast_options();
        options.plain_http_fallback = fallback;
        RegistryClient client(ref("mirror.test/repo:v1"), options, t);
        const auto exists = client.blob_exists(blob_of(""));
        EXPECT_EQ(exists.has_value(), fallback);
        if (fallback) {
            ASSERT_EQ(t.seen.size(), 2u);
            EXPECT_EQ(t.seen[1].url.rfind("http://mirror.test/v2/repo/blobs/", 0), 0u);
        } else {
            EXPECT_EQ(t.seen.size(), 1u);
        }
    }
}

TEST(RegistryClient, BasicChallengeWithoutCredentialsIsAnAuthError) {
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Basic realm="r")"}})};
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    auto exists = client.blob_exists(blob_of(""));
    ASSERT_FALSE(exists);
    EXPECT_EQ(exists.error().kind, ErrorKind::auth);
    EXPECT_NE(exists.error().hint.find("karmor oci login registry.test"), std::string::npos);
}

TEST(RegistryClient, BearerTokenIsFetchedForTheScopeAndReused) {
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token",service="reg")"}}),
                respond(200, {}, R"({"access_token":"tok-123","expires_in":300})"), respond(404), respond(404)};
    auto options = fast_options();
    options.push_access = true;
    RegistryClient client(ref("registry.test/team/repo:v1"), options, t);
    ASSERT_TRUE(client.blob_exists(blob_of("a")));
    ASSERT_TRUE(client.blob_exists(blob_of("b")));
    ASSERT_EQ(t.seen.size(), 4u);
    EXPECT_EQ(t.seen[1].url, "https://auth.test/token?service=reg&scope=repository%3Ateam%2Frepo%3Apull%2Cpush");
    EXPECT_EQ(t.authorization(1), "") << "anonymous token request";
    EXPECT_EQ(t.authorization(2), "Bearer tok-123");
    EXPECT_EQ(t.authorization(3), "Bearer tok-123");
}

TEST(RegistryClient, RefusedTokenIsAnAuthErrorWithoutTheSecret) {
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Bearer realm="https://auth.test/token",service="reg")"}}),
                respond(401)};
    auto options = fast_options();
    options.credentials = {"alice", "s3cret-password", ""};
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    auto result = client.blob_exists(blob_of(""));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::auth);
    EXPECT_EQ(result.error().message.find("s3cret"), std::string::npos);
    EXPECT_EQ(t.authorization(1), "Basic YWxpY2U6czNjcmV0LXBhc3N3b3Jk");
}

TEST(RegistryClient, RedirectToAnotherHostDropsAuthorization) {
    const std::string bytes = "layer bytes";
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Basic realm="r")"}}),
                respond(307, {{"Location", "https://storage.test/blob?sig=1"}}), respond(200, {}, bytes)};
    auto options = fast_options();
    options.credentials = {"u", "p", ""};
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    auto fetched = client.fetch_blob(blob_of(bytes), 1 << 20);
    ASSERT_TRUE(fetched) << fetched.error().message;
    EXPECT_EQ(*fetched, bytes);
    ASSERT_EQ(t.seen.size(), 3u);
    EXPECT_EQ(t.authorization(1), "Basic dTpw");
    EXPECT_EQ(t.seen[2].url, "https://storage.test/blob?sig=1");
    EXPECT_EQ(t.authorization(2), "") << "credentials leaked to another host";
}

TEST(RegistryClient, RedirectOnTheSameHostKeepsAuthorization) {
    const std::string bytes = "x";
    ScriptedTransport t;
    t.script = {respond(401, {{"WWW-Authenticate", R"(Basic realm="r")"}}),
                respond(302, {{"Location", "/v2/other/blobs/x"}}), respond(200, {}, bytes)};
    auto options = fast_options();
    options.credentials = {"u", "p", ""};
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    ASSERT_TRUE(client.fetch_blob(blob_of(bytes), 10));
    EXPECT_EQ(t.seen[2].url, "https://registry.test/v2/other/blobs/x");
    EXPECT_EQ(t.authorization(2), "Basic dTpw");
}

TEST(RegistryClient, TransientFailuresAreRetriedThenReported) {
    ScriptedTransport t;
    t.script = {respond(503), respond(429, {{"Retry-After", "0"}}), fail(TransportStatus::connect_failed),
                respond(200)};
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    auto ok = client.blob_exists(blob_of(""));
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(t.seen.size(), 4u);

    ScriptedTransport always;
    always.script = {respond(502), respond(502), respond(502), respond(502), respond(502)};
    RegistryClient failing(ref("registry.test/repo:v1"), fast_options(), always);
    auto failed = failing.blob_exists(blob_of(""));
    ASSERT_FALSE(failed);
    EXPECT_EQ(always.seen.size(), 4u);
    EXPECT_EQ(failed.error().kind, ErrorKind::registry);
    EXPECT_NE(failed.error().message.find("HTTP 502"), std::string::npos);
}

// libcurl's timer, set from --timeout's deadline, can end a transfer a moment before the
// client's own clock reaches the deadline: that timeout is still --timeout's, said as such and
// not retried (it once came out as "no answer within the connection time limit (15 s)" under load).
TEST(RegistryClient, ATimeoutAtTheEdgeOfTheDeadlineIsTheDeadlines) {
    ScriptedTransport t;
    t.script = {fail(TransportStatus::timeout), respond(200)};
    auto options = fast_options();
    options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    options.timeout_ms = 2000;
    RegistryClient client(ref("registry.test/repo:v1"), options, t);
    auto result = client.blob_exists(blob_of(""));
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("no answer within --timeout 2000ms"), std::string::npos)
        << result.error().message;
    EXPECT_EQ(t.seen.size(), 1u) << "no retry once the time is up";

    // Well before the deadline, a timeout is a transient failure like any other: retried.
    ScriptedTransport early;
    early.script = {fail(TransportStatus::timeout), respond(200)};
    options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    RegistryClient patient(ref("registry.test/repo:v1"), options, early);
    auto retried = patient.blob_exists(blob_of(""));
    ASSERT_TRUE(retried) << retried.error().message;
    EXPECT_EQ(early.seen.size(), 2u);
}

TEST(RegistryClient, LoopbackFallsBackToPlainHttpOnlyWhenTlsIsNotSpoken) {
    ScriptedTransport t;
    t.script = {fail(TransportStatus::tls_handshake_failed), respond(404), respond(404)};
    RegistryClient client(ref("localhost:5000/repo:v1"), fast_options(), t);
    ASSERT_TRUE(client.blob_exists(blob_of("")));
    ASSERT_TRUE(client.blob_exists(blob_of("")));
    ASSERT_EQ(t.seen.size(), 3u);
    EXPECT_EQ(t.seen[0].url.rfind("https://localhost:5000/", 0), 0u);
    EXPECT_EQ(t.seen[1].url.rfind("http://localhost:5000/", 0), 0u);
    EXPECT_EQ(t.seen[2].url.rfind("http://localhost:5000/", 0), 0u);
}

TEST(RegistryClient, CertificateFailureIsNeverAReasonToFallBack) {
    ScriptedTransport t;
    t.script = {fail(TransportStatus::tls_verify_failed)};
    RegistryClient client(ref("127.0.0.1:5000/repo:v1"), fast_options(), t);
    auto result = client.blob_exists(blob_of(""));
    ASSERT_FALSE(result);
    EXPECT_EQ(t.seen.size(), 1u);
    EXPECT_NE(result.error().hint.find("--ca-file"), std::string::npos);

    ScriptedTransport remote;
    remote.script = {fail(TransportStatus::tls_handshake_failed)};
    RegistryClient not_loopback(ref("registry.test/repo:v1"), fast_options(), remote);
    EXPECT_FALSE(not_loopback.blob_exists(blob_of("")));
    EXPECT_EQ(remote.seen.size(), 1u);
}

TEST(RegistryClient, ManifestThatMissesItsDigestIsRefused) {
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"a","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]})";
    const auto wrong = Digest::sha256_of("something else");
    ScriptedTransport t;
    t.script = {respond(200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, manifest)};
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    auto by_digest = client.fetch_manifest(wrong.str());
    ASSERT_FALSE(by_digest);
    EXPECT_EQ(by_digest.error().kind, ErrorKind::validation);

    t.script = {respond(200, {{"Docker-Content-Digest", wrong.str()}}, manifest)};
    auto lying_header = client.fetch_manifest("v1");
    ASSERT_FALSE(lying_header);
    EXPECT_NE(lying_header.error().message.find("Docker-Content-Digest"), std::string::npos);

    t.script = {respond(200, {{"Docker-Content-Digest", Digest::sha256_of(manifest).str()}}, manifest)};
    auto good = client.fetch_manifest("v1");
    ASSERT_TRUE(good) << good.error().message;
    ASSERT_TRUE(*good);
    EXPECT_EQ((*good)->digest, Digest::sha256_of(manifest));

    t.script = {respond(404)};
    auto missing = client.fetch_manifest("v2");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST(RegistryClient, BlobsAreVerifiedBySizeAndDigest) {
    ScriptedTransport t;
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    t.script = {respond(200, {}, "tampered")};
    auto tampered = client.fetch_blob(blob_of("original"), 100);
    ASSERT_FALSE(tampered);
    EXPECT_NE(tampered.error().message.find("does not match its digest"), std::string::npos);

    t.script = {respond(200, {}, "short")};
    auto short_body = client.fetch_blob(blob_of("longer body"), 100);
    ASSERT_FALSE(short_body);
    EXPECT_NE(short_body.error().message.find("received 5 bytes"), std::string::npos);

    auto too_big = client.fetch_blob(blob_of(std::string(200, 'x')), 100);
    ASSERT_FALSE(too_big);
    EXPECT_NE(too_big.error().message.find("over the limit"), std::string::npos);
}

TEST(RegistryClient, UploadAppendsTheDigestToARelativeLocationWithAQuery) {
    const std::string bytes = "config";
    ScriptedTransport t;
    t.script = {respond(202, {{"Location", "/v2/repo/blobs/uploads/abc?_state=xyz"}}), respond(201)};
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    ASSERT_TRUE(client.upload_blob(blob_of(bytes), bytes));
    ASSERT_EQ(t.seen.size(), 2u);
    EXPECT_EQ(t.seen[0].method, "POST");
    EXPECT_EQ(t.seen[1].method, "PUT");
    EXPECT_EQ(t.seen[1].url, "https://registry.test/v2/repo/blobs/uploads/abc?_state=xyz&digest=" +
                                 std::string("sha256%3A") + blob_of(bytes).digest.hex());
    EXPECT_EQ(t.bodies[1], bytes);
}

TEST(RegistryClient, FailedUploadStartsANewSession) {
    const std::string bytes = "layer";
    ScriptedTransport t;
    t.script = {respond(202, {{"Location", "/u/1"}}), respond(404), respond(202, {{"Location", "/u/2"}}), respond(201)};
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    auto uploaded = client.upload_blob(blob_of(bytes), bytes);
    ASSERT_TRUE(uploaded) << uploaded.error().message;
    ASSERT_EQ(t.seen.size(), 4u);
    EXPECT_EQ(t.seen[3].url.rfind("https://registry.test/u/2?digest=", 0), 0u);
}

TEST(RegistryClient, ErrorEnvelopeIsShown) {
    ScriptedTransport t;
    t.script = {respond(400, {}, R"({"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]})")};
    RegistryClient client(ref("registry.test/repo:v1"), fast_options(), t);
    auto put = client.put_manifest("v1", "application/vnd.oci.image.manifest.v1+json", "{}");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().message,
              "registry.test: PUT /v2/repo/manifests/v1: HTTP 400 (MANIFEST_INVALID: manifest invalid)");
}

}  // namespace
}  // namespace karmor::oci
