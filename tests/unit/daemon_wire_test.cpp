// The KubeArmor daemon's gRPC wire by hand (src/daemon/): protobuf bytes, framing, the
// grpc-timeout header, and how the client reads statuses from trailers, trailers-only answers
// and failures, against the scripted transport. The real server is in apply_test.cpp.
#include <gtest/gtest.h>

#include "daemon/applied_set.hpp"
#include "daemon/grpc_wire.hpp"
#include "daemon/policy_service.hpp"
#include "support/process.hpp"
#include "support/scripted_transport.hpp"

namespace karmor {
namespace {

using testing::respond;
using testing::ScriptedTransport;

oci::HttpResult grpc_answer(std::string body, oci::HeaderList headers) {
    auto r = respond(200, std::move(headers), std::move(body));
    r.response.http2 = true;
    return r;
}

TEST(DaemonWire, EncodesThePolicyMessageWithAVarintLength) {
    EXPECT_EQ(daemon::encode_policy_message("{}"), std::string("\x0a\x02{}", 4));
    const std::string long_payload(300, 'x');
    const auto encoded = daemon::encode_policy_message(long_payload);
    EXPECT_EQ(encoded.substr(0, 3), std::string("\x0a\xac\x02", 3));  // 300 = 0b10_0101100
    EXPECT_EQ(encoded.size(), 303u);
}

TEST(DaemonWire, DecodesResponsesIncludingTheOmittedDefaultAndUnknownFields) {
    EXPECT_EQ(*daemon::decode_response_message(""), 0);  // Failure: proto3 leaves it out
    EXPECT_EQ(*daemon::decode_response_message(std::string("\x08\x05", 2)), 5);
    // Unknown fields of every wire type before the status are skipped.
    const std::string with_unknown("\x10\x07\x1a\x02hi\x21\x01\x02\x03\x04\x05\x06\x07\x08\x2d\x01\x02\x03\x04\x08\x06",
                                   22);
    EXPECT_EQ(*daemon::decode_response_message(with_unknown), 6);
    for (const std::string& bad :
         {std::string("\x08", 1), std::string("\x1a\x05hi", 4), std::string("\x0b", 1), std::string("\x0a\x01x", 3)})
        EXPECT_FALSE(daemon::decode_response_message(bad)) << ::testing::PrintToString(bad);
}

TEST(DaemonWire, FramesAndUnframesOneMessage) {
    const auto framed = daemon::frame_message("abc");
    EXPECT_EQ(framed, std::string("\0\0\0\0\x03"
                                  "abc",
                                  8));
    EXPECT_EQ(*daemon::unframe_message(framed), "abc");
    EXPECT_EQ(*daemon::unframe_message(std::string(5, '\0')), "");
    EXPECT_FALSE(daemon::unframe_message(std::string("\0\0\0\0\x04"
                                                     "abc",
                                                     8)));  // truncated
    EXPECT_FALSE(daemon::unframe_message(std::string("\x01\0\0\0\x03"
                                                     "abc",
                                                     8)));  // compressed
    EXPECT_FALSE(daemon::unframe_message(std::string("\0\0", 2)));
}

TEST(DaemonWire, TimeoutsFitEightDigits) {
    EXPECT_EQ(daemon::grpc_timeout(1500), "1500m");
    EXPECT_EQ(daemon::grpc_timeout(0), "1m");
    EXPECT_EQ(daemon::grpc_timeout(99'999'999), "99999999m");
    EXPECT_EQ(daemon::grpc_timeout(100'000'000), "100000S");
    EXPECT_EQ(daemon::percent_decode("policy%20is%3A bad%"), "policy is: bad%");
}

TEST(DaemonClient, SendsOneFramedCallOverHttp2AndReadsTheTrailer) {
    ScriptedTransport transport;
    transport.script.push_back(grpc_answer(daemon::frame_message(std::string("\x08\x01", 2)),
                                           {{"content-type", "application/grpc"}, {"grpc-status", "0"}}));
    DaemonOptions options;
    options.address = "127.0.0.1:32767";
    options.timeout_ms = 2500;
    daemon::PolicyServiceClient client(transport, options);
    auto status = client.send("hostPolicy", R"({"type":"ADDED"})");
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(*status, PolicyStatus::applied);
    ASSERT_EQ(transport.seen.size(), 1u);
    const auto& request = transport.seen[0];
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, "http://127.0.0.1:32767/policy.PolicyService/hostPolicy");
    EXPECT_TRUE(request.http2);
    EXPECT_EQ(request.timeout_ms, 2500);
    oci::HttpResponse sent;
    sent.headers = request.headers;
    EXPECT_EQ(sent.header("content-type"), "application/grpc");
    EXPECT_EQ(sent.header("te"), "trailers");
    EXPECT_EQ(sent.header("grpc-timeout"), "2500m");
    EXPECT_EQ(transport.bodies[0], daemon::frame_message(daemon::encode_policy_message(R"({"type":"ADDED"})")));
}

TEST(DaemonClient, TlsWhenACaIsGiven) {
    ScriptedTransport transport;
    transport.script.push_back(grpc_answer(daemon::frame_message(""), {{"grpc-status", "0"}}));
    DaemonOptions options;
    options.address = "vm-1:32767";
    options.tls_ca = "/etc/kubearmor/ca.pem";
    daemon::PolicyServiceClient client(transport, options);
    auto status = client.send("containerPolicy", "{}");
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, PolicyStatus::failure);
    EXPECT_EQ(transport.seen[0].url, "https://vm-1:32767/policy.PolicyService/containerPolicy");
}

TEST(DaemonClient, ReportsGrpcErrorsFromTrailersOnlyAnswers) {
    const struct {
        const char* status;
        const char* message;
        ErrorKind kind;
        const char* says;
    } cases[] = {
        {"4", "", ErrorKind::registry, "deadline exceeded"},
        {"12", "unknown%20service", ErrorKind::registry, "does not offer this call (UNIMPLEMENTED): unknown service"},
        {"16", "", ErrorKind::auth, "refused the caller (UNAUTHENTICATED)"},
        {"13", "boom", ErrorKind::registry, "failed with gRPC status INTERNAL: boom"},
    };
    for (const auto& c : cases) {
        ScriptedTransport transport;
        transport.script.push_back(grpc_answer("", {{"grpc-status", c.status}, {"grpc-message", c.message}}));
        daemon::PolicyServiceClient client(transport, DaemonOptions{});
        auto status = client.send("containerPolicy", "{}");
        ASSERT_FALSE(status) << c.status;
        EXPECT_EQ(status.error().kind, c.kind);
        EXPECT_NE(status.error().message.find(c.says), std::string::npos) << status.error().message;
    }
}

TEST(DaemonClient, ExplainsTransportFailuresAndNonGrpcServers) {
    const auto failing = [](oci::HttpResult result) {
        ScriptedTransport transport;
        transport.script.push_back(std::move(result));
        daemon::PolicyServiceClient client(transport, DaemonOptions{});
        auto status = client.send("containerPolicy", "{}");
        EXPECT_FALSE(status);
        return status ? std::string() : status.error().message + " | " + status.error().hint;
    };
    EXPECT_NE(
        failing(testing::fail(oci::TransportStatus::connect_failed)).find("cannot connect to the KubeArmor daemon"),
        std::string::npos);
    EXPECT_NE(failing(testing::fail(oci::TransportStatus::tls_verify_failed)).find("--tls-ca"), std::string::npos);
    EXPECT_NE(failing(testing::fail(oci::TransportStatus::timeout)).find("deadline exceeded"), std::string::npos);
    EXPECT_NE(failing(respond(200, {}, "")).find("does not speak HTTP/2"), std::string::npos);  // HTTP/1.1 answer
    auto not_found = grpc_answer("", {});
    not_found.response.status = 404;
    EXPECT_NE(failing(not_found).find("answered HTTP 404"), std::string::npos);
    EXPECT_NE(failing(grpc_answer(daemon::frame_message(""), {})).find("without a grpc-status"), std::string::npos);
    EXPECT_NE(failing(grpc_answer(daemon::frame_message(std::string("\x08\x09", 2)), {{"grpc-status", "0"}}))
                  .find("answered status 9"),
              std::string::npos);
}

Policy policy_of(const std::string& kind, const std::string& name, const std::string& path) {
    Policy p;
    p.identity = {kind, kind == "KubeArmorPolicy" ? "default" : "", name};
    p.document = {{"kind", kind}, {"metadata", {{"name", name}}}, {"spec", {{"path", path}}}};
    return p;
}

TEST(DeliveryPlan, AddsModifiesKeepsAndPrunes) {
    const std::vector<Policy> v1 = {policy_of("KubeArmorPolicy", "a", "/x"),
                                    policy_of("KubeArmorHostPolicy", "b", "/y"),
                                    policy_of("KubeArmorClusterPolicy", "c", "/z")};
    const auto first = daemon::plan_delivery(v1, {}, false);
    ASSERT_EQ(first.events.size(), 2u);
    EXPECT_EQ(first.events[0].rpc, "hostPolicy");  // by identity: KubeArmorHostPolicy first
    EXPECT_EQ(first.events[0].event, PolicyEvent::added);
    EXPECT_EQ(first.events[1].payload,
              R"({"type":"ADDED","object":{"kind":"KubeArmorPolicy","metadata":{"name":"a"},"spec":{"path":"/x"}}})");
    ASSERT_EQ(first.not_deliverable.size(), 1u);
    EXPECT_EQ(first.not_deliverable[0].name, "c");

    std::map<PolicyIdentity, daemon::AppliedPolicy> applied;
    for (const auto& e : first.events) applied[e.identity] = e.applied;
    const std::vector<Policy> v2 = {policy_of("KubeArmorPolicy", "a", "/changed")};
    const auto kept = daemon::plan_delivery(v2, applied, false);
    ASSERT_EQ(kept.events.size(), 1u);
    EXPECT_EQ(kept.events[0].event, PolicyEvent::modified);
    ASSERT_EQ(kept.not_pruned.size(), 1u);
    const auto pruned = daemon::plan_delivery(v2, applied, true);
    ASSERT_EQ(pruned.events.size(), 2u);
    EXPECT_EQ(pruned.events[1].event, PolicyEvent::deleted);
    EXPECT_EQ(
        pruned.events[1].payload,
        R"({"type":"DELETED","object":{"kind":"KubeArmorHostPolicy","metadata":{"name":"b"},"spec":{"path":"/y"}}})");
    const auto same = daemon::plan_delivery(v1, applied, true);
    EXPECT_TRUE(same.events.empty());
    EXPECT_EQ(same.unchanged.size(), 2u);
}

TEST(AppliedSet, RoundTripsAndExplainsAnUnreadableFile) {
    testing::TempDir dir;
    const auto file = dir / "sub" / "applied.json";
    auto missing = daemon::read_applied_set(file);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);

    daemon::AppliedSet set;
    set.daemon = "localhost:32767";
    set.digest = "sha256:" + std::string(64, 'a');
    set.reference = "registry.example.com/p@" + set.digest;
    set.complete = true;
    set.policies[{"KubeArmorPolicy", "web", "a"}] = {"abc",
                                                     {{"kind", "KubeArmorPolicy"}, {"spec", {{"z", 1}, {"a", 2}}}}};
    ASSERT_TRUE(daemon::write_applied_set(file, set));
    auto read = daemon::read_applied_set(file);
    ASSERT_TRUE(read && *read);
    EXPECT_EQ((*read)->daemon, set.daemon);
    EXPECT_EQ((*read)->digest, set.digest);
    EXPECT_TRUE((*read)->complete);
    ASSERT_EQ((*read)->policies.size(), 1u);
    const auto& applied = (*read)->policies.begin()->second;
    EXPECT_EQ(applied.sha256, "abc");
    EXPECT_EQ(daemon::policy_json(applied.object), R"({"kind":"KubeArmorPolicy","spec":{"z":1,"a":2}})");  // order kept

    testing::write_text(file, "{\"version\": 1, \"policies\": 3}");
    auto corrupt = daemon::read_applied_set(file);
    ASSERT_FALSE(corrupt);
    EXPECT_EQ(corrupt.error().kind, ErrorKind::io);
    EXPECT_NE(corrupt.error().message.find(file.string()), std::string::npos);
    EXPECT_NE(corrupt.error().hint.find("delete it"), std::string::npos);
}

TEST(AppliedSet, OneApplyPerSetAtATime) {
    testing::TempDir dir;
    auto first = daemon::AppliedSetLock::take(dir / "applied.json");
    ASSERT_TRUE(first);
    auto second = daemon::AppliedSetLock::take(dir / "applied.json");
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("another apply"), std::string::npos);
}

}  // namespace
}  // namespace karmor
