// src/signing: the payload formats byte for byte, the strict readers, and every check of the
// verification pipeline (SPEC §9), with keys made in memory.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "oci/manifest_json.hpp"
#include "signing/legacy_signatures.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"
#include "signing/strict_json.hpp"
#include "signing/verification.hpp"
#include "util/encoding.hpp"

namespace karmor::signing {
namespace {

const Digest digest_a = *Digest::parse("sha256:" + std::string(64, 'a'));
const Digest digest_b = *Digest::parse("sha256:" + std::string(64, 'b'));

SigningKey make_key() {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    EXPECT_TRUE(key);
    return SigningKey(std::move(key));
}

TEST(SimpleSigningPayload, IsCosignsExactBytes) {
    EXPECT_EQ(
        make_simple_signing_payload("127.0.0.1:5000/team/policies", digest_a, {}),
        R"({"critical":{"identity":{"docker-reference":"127.0.0.1:5000/team/policies"},"image":{"docker-manifest-digest":"sha256:)" +
            std::string(64, 'a') + R"("},"type":"cosign container image signature"},"optional":null})");
    EXPECT_EQ(make_simple_signing_payload("r/p", digest_a, {{"z", "1"}, {"a", "2"}}),
              R"({"critical":{"identity":{"docker-reference":"r/p"},"image":{"docker-manifest-digest":"sha256:)" +
                  std::string(64, 'a') +
                  R"("},"type":"cosign container image signature"},"optional":{"a":"2","z":"1"}})");
}

TEST(SimpleSigningPayload, ReadsWhatItWritesAndWhatCosignWrites) {
    auto claims = parse_simple_signing_payload(make_simple_signing_payload("r.io/p", digest_a, {{"env", "prod"}}));
    ASSERT_TRUE(claims) << claims.error().message;
    EXPECT_EQ(claims->identity, "r.io/p");
    EXPECT_EQ(claims->digest, digest_a.str());
    EXPECT_EQ(claims->annotations.at("env"), "prod");
}

TEST(SimpleSigningPayload, RefusesEveryOtherShape) {
    const std::string d = digest_a.str();
    const std::string critical_ok =
        R"("critical":{"identity":{"docker-reference":"r/p"},"image":{"docker-manifest-digest":")" + d +
        R"("},"type":"cosign container image signature"})";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"extra top-level field", "{" + critical_ok + R"(,"optional":null,"extra":1})"},
        {"missing optional", "{" + critical_ok + "}"},
        {"missing critical", R"({"optional":null})"},
        {"extra critical field",
         R"({"critical":{"identity":{"docker-reference":"r/p"},"image":{"docker-manifest-digest":")" + d +
             R"("},"type":"cosign container image signature","x":1},"optional":null})"},
        {"extra identity field",
         R"({"critical":{"identity":{"docker-reference":"r/p","x":"y"},"image":{"docker-manifest-digest":")" + d +
             R"("},"type":"cosign container image signature"},"optional":null})"},
        {"extra image field",
         R"({"critical":{"identity":{"docker-reference":"r/p"},"image":{"docker-manifest-digest":")" + d +
             R"(","x":1},"type":"cosign container image signature"},"optional":null})"},
        {"missing digest",
         R"({"critical":{"identity":{"docker-reference":"r/p"},"image":{},"type":"cosign container image signature"},"optional":null})"},
        {"other type", R"({"critical":{"identity":{"docker-reference":"r/p"},"image":{"docker-manifest-digest":")" + d +
                           R"("},"type":"atomic container signature"},"optional":null})"},
        {"digest twice", R"({"critical":{"identity":{"docker-reference":"r/p"},"image":{"docker-manifest-digest":")" +
                             digest_b.str() + R"(","docker-manifest-digest":")" + d +
                             R"("},"type":"cosign container image signature"},"optional":null})"},
        {"optional not an object", "{" + critical_ok + R"(,"optional":"x"})"},
        {"not JSON", "{" + critical_ok},
        {"too large", "{" + critical_ok + R"(,"optional":{"k":")" + std::string(70000, 'x') + R"("}})"},
    };
    for (const auto& [name, payload] : cases) EXPECT_FALSE(parse_simple_signing_payload(payload)) << name;
}

TEST(CanonicalBase64, AcceptsOnlyOneSpelling) {
    EXPECT_EQ(decode_canonical_base64("aGk="), "hi");
    EXPECT_FALSE(decode_canonical_base64("aGk"));
    EXPECT_FALSE(decode_canonical_base64("aG k="));
    EXPECT_FALSE(decode_canonical_base64("aGl="));  // unused bits set
    EXPECT_FALSE(decode_canonical_base64("not base64!"));
    EXPECT_FALSE(decode_canonical_base64(""));
}

TEST(Dsse, PreAuthenticationEncodingIsTheSpecs) {
    EXPECT_EQ(dsse_pae("http://example.com/HelloWorld", "hello world"),
              "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(SignStatement, RoundTripsWithCosignsFields) {
    const auto statement = make_sign_statement("r.io/p", digest_a, {{"env", "prod"}});
    EXPECT_EQ(
        statement,
        R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"r.io/p","digest":{"sha256":")" +
            digest_a.hex() +
            R"("},"annotations":{"env":"prod"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})");
    auto claims = parse_sign_statement(statement);
    ASSERT_TRUE(claims) << claims.error().message;
    EXPECT_EQ(claims->name, "r.io/p");
    EXPECT_EQ(claims->digests.at("sha256"), digest_a.hex());
    EXPECT_EQ(claims->annotations.at("env"), "prod");
}

TEST(SignStatement, RefusesOtherStatements) {
    const std::string subject = R"([{"digest":{"sha256":")" + digest_a.hex() + R"("}}])";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"other _type", R"({"_type":"https://in-toto.io/Statement/v0.1","subject":)" + subject +
                            R"(,"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})"},
        {"other predicateType", R"({"_type":"https://in-toto.io/Statement/v1","subject":)" + subject +
                                    R"(,"predicateType":"https://slsa.dev/provenance/v1","predicate":{}})"},
        {"predicate with content",
         R"({"_type":"https://in-toto.io/Statement/v1","subject":)" + subject +
             R"(,"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{"a":1}})"},
        {"two subjects", R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"b"}},)" +
                             subject.substr(1) +
                             R"(,"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})"},
        {"unknown subject field",
         R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"uri":"x","digest":{"sha256":"a"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})"},
        {"unknown field", R"({"_type":"https://in-toto.io/Statement/v1","subject":)" + subject +
                              R"(,"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{},"x":1})"},
        {"_type twice", R"({"_type":"x","_type":"https://in-toto.io/Statement/v1","subject":)" + subject +
                            R"(,"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})"},
    };
    for (const auto& [name, statement] : cases) EXPECT_FALSE(parse_sign_statement(statement)) << name;
}

TEST(SigstoreBundle, RoundTripsAndRefusesMessageSignatures) {
    const auto key = make_key();
    const auto bundle = make_sigstore_bundle("statement", "signature", sigstore_key_hint(key.public_key()));
    auto parsed = parse_dsse_bundle(bundle);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->payload, "statement");
    EXPECT_EQ(parsed->payload_type, in_toto_payload_type);
    ASSERT_EQ(parsed->der_signatures.size(), 1u);
    EXPECT_EQ(parsed->der_signatures[0], "signature");
    EXPECT_EQ(parsed->key_hint.size(), 44u);  // base64 of 32 bytes

    EXPECT_FALSE(parse_dsse_bundle(
        R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"h"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}})"));
    EXPECT_FALSE(parse_dsse_bundle(
        R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.1+json","verificationMaterial":{},"dsseEnvelope":{"payload":"AA==","payloadType":"t","signatures":[{"sig":"AA=="}]}})"));
    EXPECT_FALSE(parse_dsse_bundle(
        R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payload":"not base64","payloadType":"t","signatures":[{"sig":"AA=="}]}})"));
    EXPECT_FALSE(parse_dsse_bundle(
        R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payload":"AA==","payloadType":"t","signatures":[{"sig":"AA=="}]},"extra":1})"));
}

TEST(LegacySignatureManifest, AppendsKeepingWhatWasThere) {
    Descriptor payload;
    payload.digest = digest_a;
    payload.size = 10;
    const auto first = append_legacy_signature(std::nullopt, payload, "sig1");
    EXPECT_EQ(legacy_signature_tag(digest_b), "sha256-" + digest_b.hex() + ".sig");
    ASSERT_EQ(first.manifest.layers.size(), 1u);
    EXPECT_EQ(first.manifest.layers[0].media_type, simple_signing_media_type);
    EXPECT_EQ(first.manifest.layers[0].annotations.at(signature_annotation), util::base64_encode("sig1"));
    EXPECT_EQ(first.manifest.config->media_type, media_type::oci_image_config);
    EXPECT_TRUE(first.manifest.config->digest.matches(first.config.bytes));
    EXPECT_NE(first.config.bytes.find(digest_a.str()), std::string::npos);

    payload.digest = digest_b;
    const auto second = append_legacy_signature(first.manifest, payload, "sig2");
    ASSERT_EQ(second.manifest.layers.size(), 2u);
    EXPECT_EQ(second.manifest.layers[0].digest, digest_a);
    auto read = read_legacy_signature_layers(*oci::parse_manifest(second.bytes, "", "test"), "test");
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->size(), 2u);
    EXPECT_EQ((*read)[1].der_signature, "sig2");
    EXPECT_TRUE((*read)[1].problem.empty());
}

TEST(LegacySignatureManifest, BoundsLayersSizesAndEncodings) {
    Manifest many;
    many.media_type = media_type::oci_manifest;
    Descriptor layer;
    layer.media_type = simple_signing_media_type;
    layer.digest = digest_a;
    layer.size = 10;
    layer.annotations[signature_annotation] = "AA==";
    many.layers.assign(max_signature_layers + 1, layer);
    EXPECT_FALSE(read_legacy_signature_layers(many, "test"));

    Manifest odd;
    odd.media_type = media_type::oci_manifest;
    auto big = layer;
    big.size = 100 * 1024 * 1024;
    auto not_base64 = layer;
    not_base64.annotations[signature_annotation] = "%%%";
    auto other_type = layer;
    other_type.media_type = "application/octet-stream";
    auto unsigned_layer = layer;
    unsigned_layer.annotations.clear();
    odd.layers = {big, not_base64, other_type, unsigned_layer};
    auto read = read_legacy_signature_layers(odd, "test");
    ASSERT_TRUE(read);
    for (const auto& l : *read) EXPECT_FALSE(l.problem.empty());
}

class VerificationPipeline : public ::testing::Test {
protected:
    SigningKey key = make_key();
    SigningKey other_key = make_key();
    std::vector<PublicKey> keys{key.public_key()};
    ExpectedSubject expected{digest_a, "127.0.0.1:5000/team/policies", "v1", {}};

    SignatureCandidate legacy(const std::string& payload, const SigningKey& by) const {
        SignatureCandidate c;
        c.format = SignatureFormat::legacy;
        c.payload = payload;
        c.der_signatures.push_back(*by.sign(payload));
        return c;
    }
    SignatureCandidate bundle(const std::string& statement, const SigningKey& by,
                              const std::string& type = in_toto_payload_type) const {
        SignatureCandidate c;
        c.format = SignatureFormat::bundle;
        c.payload = statement;
        c.payload_type = type;
        c.der_signatures.push_back(*by.sign(dsse_pae(type, statement)));
        return c;
    }
    std::string failed(const SignatureCandidate& c) const { return verify_signature(c, keys, expected).failed_check; }
};

TEST_F(VerificationPipeline, AcceptsBothFormatsOverTheExactDigestAndRepository) {
    const auto a = verify_signature(
        legacy(make_simple_signing_payload("127.0.0.1:5000/team/policies", digest_a, {}), key), keys, expected);
    EXPECT_TRUE(a.verified) << a.failed_check << ": " << a.reason;
    const auto b = verify_signature(bundle(make_sign_statement("127.0.0.1:5000/team/policies", digest_a, {}), key),
                                    keys, expected);
    EXPECT_TRUE(b.verified) << b.failed_check << ": " << b.reason;
}

TEST_F(VerificationPipeline, RefusesEachAttackAtItsCheck) {
    const std::string repo = "127.0.0.1:5000/team/policies";
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo, digest_a, {}), other_key)), check::signature);
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo, digest_b, {}), key)), check::digest);
    EXPECT_EQ(failed(legacy(make_simple_signing_payload("127.0.0.1:5000/other", digest_a, {}), key)), check::identity);
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo + ":v2", digest_a, {}), key)), check::identity);
    EXPECT_EQ(failed(bundle(make_sign_statement(repo, digest_b, {}), key)), check::digest);
    EXPECT_EQ(failed(bundle(make_sign_statement("127.0.0.1:5000/other", digest_a, {}), key)), check::identity);
    EXPECT_EQ(failed(bundle(make_sign_statement(repo, digest_a, {}), key, "application/json")), check::payload);
    auto tampered = legacy(make_simple_signing_payload(repo, digest_a, {}), key);
    tampered.payload = make_simple_signing_payload(repo, digest_a, {{"x", "y"}});
    EXPECT_EQ(failed(tampered), check::signature);
    SignatureCandidate unreadable;
    unreadable.problem = "the signature is not base64";
    EXPECT_EQ(failed(unreadable), check::well_formed);
    EXPECT_EQ(verify_signature(legacy(make_simple_signing_payload(repo, digest_a, {}), key), {}, expected).failed_check,
              check::signature);
}

TEST_F(VerificationPipeline, RequiresEveryAnnotationAndAllowsAMirrorIdentity) {
    const std::string repo = "127.0.0.1:5000/team/policies";
    expected.annotations = {{"env", "prod"}};
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo, digest_a, {}), key)), check::annotations);
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo, digest_a, {{"env", "dev"}}), key)), check::annotations);
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo, digest_a, {{"env", "prod"}}), key)), "");
    EXPECT_EQ(failed(bundle(make_sign_statement(repo, digest_a, {{"env", "prod"}}), key)), "");

    expected.annotations.clear();
    expected.repository = "mirror.example.com/policies";
    EXPECT_EQ(failed(legacy(make_simple_signing_payload(repo, digest_a, {}), key)), check::identity);
    EXPECT_EQ(failed(legacy(make_simple_signing_payload("mirror.example.com/policies", digest_a, {}), key)), "");
}

TEST_F(VerificationPipeline, ABundleWithoutANameIsBoundByItsDigestOnly) {
    // What cosign writes: no subject name.
    const std::string statement =
        R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" + digest_a.hex() +
        R"("},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})";
    EXPECT_EQ(failed(bundle(statement, key)), "");
}

TEST(SignedIdentity, FoldsDockerHubAliasesOnly) {
    ExpectedSubject expected{digest_a, "docker.io/library/nginx", "", {}};
    std::string why;
    EXPECT_TRUE(identity_matches("index.docker.io/library/nginx", expected, why)) << why;
    EXPECT_TRUE(identity_matches("docker.io/library/nginx:1.25", expected, why)) << why;
    EXPECT_FALSE(identity_matches("docker.io/library/nginx@" + digest_b.str(), expected, why));
    EXPECT_FALSE(identity_matches("localhost/library/nginx", expected, why));
    EXPECT_FALSE(identity_matches("", expected, why));
}

}  // namespace
}  // namespace karmor::signing
