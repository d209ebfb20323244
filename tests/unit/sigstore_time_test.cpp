// Issue 24 in the library, one rule per test with the attack it stops: RFC 3161 timestamps
// (signing/rfc3161), Rekor v2 checkpoints (signing/checkpoint), the key types cosign verifies with
// (signing/signature_schemes), the trusted root as Sigstore ships it, bundle versions.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "signing/checkpoint.hpp"
#include "signing/keyless.hpp"
#include "signing/log_entry_bodies.hpp"
#include "signing/keys.hpp"
#include "signing/rfc3161.hpp"
#include "signing/signature_schemes.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/trusted_root.hpp"
#include "support/test_sigstore.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"

namespace karmor::signing {
namespace {

namespace ts = testing::sigstore;

ts::TestSigstore& shared_sigstore() {
    static ts::TestSigstore instance;
    return instance;
}

TrustedRoot root_of(const ts::TestSigstore& sigstore) {
    auto root = parse_trusted_root(sigstore.trusted_root_json(), "trusted_root.json");
    EXPECT_TRUE(root) << (root ? "" : root.error().message);
    return root ? std::move(*root) : TrustedRoot{};
}

// ---- RFC 3161 ----

TEST(Rfc3161, AGoodTimestampGivesItsTimeAndAuthority) {
    auto& sigstore = shared_sigstore();
    const auto root = root_of(sigstore);
    const std::int64_t time = sigstore.base_time() + 30;
    for (const bool embedded : {true, false}) {
        auto verified = verify_rfc3161_timestamp(sigstore.timestamp("the signature", time, embedded), "the signature",
                                                 root.timestamp_authorities);
        ASSERT_TRUE(verified) << verified.error().message;
        EXPECT_EQ(verified->time, time);
        EXPECT_EQ(verified->authority, "https://tsa.karmor.test/api/v1/timestamp");
    }
}

TEST(Rfc3161, ATimestampOfOtherBytesIsRefused) {
    // Stops a timestamp taken from another signature and pasted beside this one.
    auto& sigstore = shared_sigstore();
    const auto root = root_of(sigstore);
    auto verified = verify_rfc3161_timestamp(sigstore.timestamp("another signature", sigstore.base_time() + 30),
                                             "the signature", root.timestamp_authorities);
    ASSERT_FALSE(verified);
    EXPECT_NE(verified.error().message.find("message imprint"), std::string::npos) << verified.error().message;
}

TEST(Rfc3161, AnAuthorityOutsideTheRootIsRefused) {
    // Stops a timestamp from an authority the user does not trust (same names, other keys).
    auto& sigstore = shared_sigstore();
    const auto root = root_of(sigstore);
    auto verified = verify_rfc3161_timestamp(sigstore.timestamp("sig", sigstore.base_time() + 30, true, true), "sig",
                                             root.timestamp_authorities);
    ASSERT_FALSE(verified);
    EXPECT_NE(verified.error().message.find("not from a timestamp authority"), std::string::npos)
        << verified.error().message;
    // Without the embedded certificate there is nothing that could chain at all.
    EXPECT_FALSE(verify_rfc3161_timestamp(sigstore.timestamp("sig", sigstore.base_time() + 30, false, true), "sig",
                                          root.timestamp_authorities));
}

TEST(Rfc3161, ATimeOutsideTheAuthoritysValidityIsRefused) {
    // Stops a timestamp made before the root trusted the authority (or after it stopped).
    auto& sigstore = shared_sigstore();
    const auto root = root_of(sigstore);
    const auto before = sigstore.tsa_valid_from() - 1;
    auto verified = verify_rfc3161_timestamp(sigstore.timestamp("sig", before), "sig", root.timestamp_authorities);
    ASSERT_FALSE(verified);
    EXPECT_NE(verified.error().message.find("outside the authority's validity"), std::string::npos)
        << verified.error().message;
    // The start itself is inside (validFor is a closed interval).
    EXPECT_TRUE(verify_rfc3161_timestamp(sigstore.timestamp("sig", sigstore.tsa_valid_from()), "sig",
                                         root.timestamp_authorities));
}

TEST(Rfc3161, ATimeOutsideTheSignersCertificateIsRefused) {
    // Stops a timestamp signed with the authority's key after its certificate expired.
    auto& sigstore = shared_sigstore();
    const auto root = root_of(sigstore);
    const auto after = sigstore.tsa_certificate().not_after + 60;
    auto verified = verify_rfc3161_timestamp(sigstore.timestamp("sig", after), "sig", root.timestamp_authorities);
    ASSERT_FALSE(verified);
}

TEST(Rfc3161, DamagedOrOversizedResponsesAreRefused) {
    auto& sigstore = shared_sigstore();
    const auto root = root_of(sigstore);
    auto response = sigstore.timestamp("sig", sigstore.base_time() + 30);
    EXPECT_FALSE(verify_rfc3161_timestamp(response + "x", "sig", root.timestamp_authorities));  // trailing bytes
    auto flipped = response;
    flipped[flipped.size() - 10] = static_cast<char>(flipped[flipped.size() - 10] ^ 1);  // in the signature
    EXPECT_FALSE(verify_rfc3161_timestamp(flipped, "sig", root.timestamp_authorities));
    EXPECT_FALSE(
        verify_rfc3161_timestamp(std::string(max_timestamp_bytes + 1, '\x30'), "sig", root.timestamp_authorities));
    EXPECT_FALSE(verify_rfc3161_timestamp(response, "sig", {}));  // a root without authorities
}

// ---- Rekor v2 checkpoints ----

TEST(CheckpointV2, TheLogsLineUnderItsHostVerifiesAndWitnessesAreIgnored) {
    const auto key = ts::EdKey::generate();
    TrustedLog log;
    log.base_url = "https://log2.karmor.test";
    log.key_details = "PKIX_ED25519";
    const auto der = key.public_der();
    const auto* data = reinterpret_cast<const unsigned char*>(der.data());
    log.key.reset(d2i_PUBKEY(nullptr, &data, static_cast<long>(der.size())), EVP_PKEY_free);
    log.key_id = key.note_key_id("log2.karmor.test");
    const std::string host = "log2.karmor.test";
    const std::string root(32, 'r');
    const std::string body = host + "\n7\n" + util::base64_encode(root) + "\n";
    const auto line = [&](const std::string& name, const ts::EdKey& signer, const std::string& text) {
        return "\xe2\x80\x94 " + name + " " +
               util::base64_encode(signer.note_key_id(name).substr(0, 4) + signer.sign(text)) + "\n";
    };
    const auto witness = ts::EdKey::generate();
    const auto note = body + "\n" + line("witness.example", witness, body) + line(host, key, body);
    auto checkpoint = verify_checkpoint(note, log, CheckpointStyle::rekor_v2);
    ASSERT_TRUE(checkpoint) << checkpoint.error().message;
    EXPECT_EQ(checkpoint->size, 7);
    EXPECT_EQ(checkpoint->root_hash, root);
    // Stops a checkpoint signed under another name (the log's key, but not as this log).
    EXPECT_FALSE(verify_checkpoint(body + "\n" + line("other.host", key, body), log, CheckpointStyle::rekor_v2));
    // Stops a checkpoint of another origin signed by the log's key.
    const auto other_body = std::string("other.host\n7\n") + util::base64_encode(root) + "\n";
    EXPECT_FALSE(verify_checkpoint(other_body + "\n" + line(host, key, other_body), log, CheckpointStyle::rekor_v2));
    // A line under the log's name and key hash that does not verify invalidates the note.
    auto bad = line(host, key, body + "x");
    EXPECT_FALSE(verify_checkpoint(body + "\n" + bad + line(host, key, body), log, CheckpointStyle::rekor_v2));
    // Witnesses alone are not the log.
    EXPECT_FALSE(
        verify_checkpoint(body + "\n" + line("witness.example", witness, body), log, CheckpointStyle::rekor_v2));
    // An ECDSA log key: the note names it by the first 4 bytes of the SHA-256 of its DER key.
    const auto ecdsa = ts::EcKey::generate();
    TrustedLog ecdsa_log;
    ecdsa_log.base_url = "https://log2.karmor.test";
    ecdsa_log.key_details = "PKIX_ECDSA_P256_SHA_256";
    const auto ecdsa_der = ecdsa.public_der();
    const auto* ecdsa_data = reinterpret_cast<const unsigned char*>(ecdsa_der.data());
    ecdsa_log.key.reset(d2i_PUBKEY(nullptr, &ecdsa_data, static_cast<long>(ecdsa_der.size())), EVP_PKEY_free);
    ecdsa_log.key_id = ecdsa.key_id();
    const auto ecdsa_note = body + "\n\xe2\x80\x94 " + host + " " +
                            util::base64_encode(ecdsa.key_id().substr(0, 4) + ecdsa.sign(body)) + "\n";
    EXPECT_TRUE(verify_checkpoint(ecdsa_note, ecdsa_log, CheckpointStyle::rekor_v2));
    EXPECT_FALSE(verify_checkpoint(ecdsa_note, log, CheckpointStyle::rekor_v2));
    EXPECT_EQ(url_host("https://log2025-1.rekor.sigstore.dev"), "log2025-1.rekor.sigstore.dev");
    EXPECT_EQ(url_host("http://127.0.0.1:3000/"), "127.0.0.1");
}

// ---- key types ----

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

TEST(KeyTypes, EveryKeyCosignVerifiesWithIsReadAndVerifies) {
    const std::string message = "the payload";
    struct Kind {
        const char* name;
        Pkey key;
        std::vector<std::pair<const EVP_MD*, bool>> schemes;  // digest, PSS
    };
    std::vector<Kind> kinds;
    kinds.push_back({"P-256", Pkey(EVP_EC_gen("P-256")), {{EVP_sha256(), false}}});
    kinds.push_back({"P-384", Pkey(EVP_EC_gen("P-384")), {{EVP_sha384(), false}, {EVP_sha256(), false}}});
    kinds.push_back({"P-521", Pkey(EVP_EC_gen("P-521")), {{EVP_sha512(), false}, {EVP_sha256(), false}}});
    kinds.push_back({"Ed25519", Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")), {{nullptr, false}}});
    kinds.push_back({"RSA", Pkey(EVP_RSA_gen(2048)), {{EVP_sha256(), false}, {EVP_sha256(), true}}});
    for (auto& kind : kinds) {
        auto key = parse_public_key(public_pem(kind.key.get()), kind.name);
        ASSERT_TRUE(key) << kind.name << ": " << key.error().message;
        for (const auto& [md, pss] : kind.schemes) {
            const auto signature = ts::sign_message(kind.key.get(), md, message, pss);
            EXPECT_TRUE(key->verify(message, signature)) << kind.name;
            // Stops a signature of other bytes.
            EXPECT_FALSE(key->verify(message + ".", signature)) << kind.name;
        }
    }
    // Another key's signature does not verify.
    EXPECT_FALSE(parse_public_key(public_pem(kinds[0].key.get()), "a")
                     ->verify(message, ts::sign_message(kinds[1].key.get(), EVP_sha256(), message)));
}

TEST(KeyTypes, KeysCosignRefusesAreRefusedByName) {
    Pkey weak_rsa(EVP_RSA_gen(1024));
    auto refused = parse_public_key(public_pem(weak_rsa.get()), "weak.pub");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("RSA key of 1024 bits"), std::string::npos) << refused.error().message;
    Pkey k256(EVP_EC_gen("secp256k1"));
    refused = parse_public_key(public_pem(k256.get()), "k1.pub");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("secp256k1"), std::string::npos) << refused.error().message;
}

TEST(KeyTypes, HashedrekordSignaturesVerifyOverTheDigest) {
    // Message signatures and Rekor v2 entries sign a digest: ECDSA and RSA verify it alone,
    // Ed25519 signs it as Ed25519ph and needs the message.
    const std::string message = "the artifact";
    Pkey ecdsa(EVP_EC_gen("P-256"));
    const auto signature = ts::sign_message(ecdsa.get(), EVP_sha256(), message);
    std::string digest(32, '\0');
    unsigned int length = 0;
    EVP_Digest(message.data(), message.size(), reinterpret_cast<unsigned char*>(digest.data()), &length, EVP_sha256(),
               nullptr);
    EXPECT_TRUE(verify_prehashed_signature(ecdsa.get(), "sha256", digest, {}, signature));
    digest[0] = static_cast<char>(digest[0] ^ 1);
    EXPECT_FALSE(verify_prehashed_signature(ecdsa.get(), "sha256", digest, {}, signature));
    EXPECT_EQ(hashedrekord_hash_for(ecdsa.get(), "PKIX_ECDSA_P256_SHA_256"), "sha256");
    // Stops an entry whose key details name another algorithm than the key's.
    EXPECT_EQ(hashedrekord_hash_for(ecdsa.get(), "PKIX_ECDSA_P384_SHA_384"), "");
    Pkey rsa(EVP_RSA_gen(2048));
    EXPECT_EQ(hashedrekord_hash_for(rsa.get(), "PKIX_RSA_PKCS1V15_2048_SHA256"), "sha256");
    EXPECT_EQ(hashedrekord_hash_for(rsa.get(), "PKIX_RSA_PKCS1V15_4096_SHA256"), "");
}

// ---- the rules for logs and timestamps (signing_time) ----

struct Pipeline {
    ts::TestSigstore& sigstore = shared_sigstore();
    std::shared_ptr<const TrustedRoot> root = std::make_shared<const TrustedRoot>(root_of(sigstore));
    VerificationPolicy policy;
    ExpectedSubject expected;
    Pipeline() {
        auto keyless = std::make_shared<KeylessPolicy>();
        keyless->identity.exact = ts::default_identity;
        keyless->issuer.exact = ts::github_issuer;
        policy.keyless = keyless;
        policy.trusted_root = root;
        expected.digest = Digest::sha256_of("the manifest");
        expected.repository = "registry.karmor.test/team/policies";
    }
    SignatureCandidate candidate(const std::string& json) const {
        SignatureCandidate out;
        out.format = SignatureFormat::bundle;
        auto bundle = parse_sigstore_bundle(json);
        EXPECT_TRUE(bundle) << (bundle ? "" : bundle.error().message);
        out.payload = bundle->payload;
        out.payload_type = bundle->payload_type;
        out.der_signatures = bundle->der_signatures;
        out.certificate_der = bundle->certificate_der;
        out.tlog_entries = bundle->tlog_entries;
        out.rfc3161_timestamps = bundle->rfc3161_timestamps;
        out.bundle_version = bundle->version;
        return out;
    }
    SignatureVerdict verify(const SignatureCandidate& c) const { return verify_image_signature(c, policy, expected); }
    ts::SignOptions options() const { return {}; }
};

TEST(LogAndTimestampRules, TheSameEntryTwiceDoesNotCountTwice) {
    // Stops meeting a threshold of N logs with N copies of one entry.
    Pipeline p;
    auto c = p.candidate(p.sigstore.make_bundle(p.expected.repository, p.expected.digest).json);
    ASSERT_TRUE(p.verify(c).verified) << p.verify(c).reason;
    c.tlog_entries.push_back(c.tlog_entries.front());
    const auto verdict = p.verify(c);
    EXPECT_EQ(verdict.failed_check, check::transparency_log) << verdict.reason;
    EXPECT_NE(verdict.reason.find("twice"), std::string::npos) << verdict.reason;
}

TEST(LogAndTimestampRules, AnEntryThatIsThereMustVerifyEvenWhenNoneIsRequired) {
    // Stops a forged entry slipping through under --insecure-ignore-tlog: waiving the
    // requirement does not make a bad entry acceptable.
    Pipeline p;
    p.policy.transparency.ignore_tlog = true;
    ts::SignOptions options;
    options.knobs.timestamp = true;
    options.knobs.bad_set = true;
    const auto verdict =
        p.verify(p.candidate(p.sigstore.make_bundle(p.expected.repository, p.expected.digest, options).json));
    EXPECT_EQ(verdict.failed_check, check::signed_entry_timestamp) << verdict.reason;
    // And without any entry, the timestamp alone gives the time.
    auto c = p.candidate(p.sigstore
                             .make_bundle(p.expected.repository, p.expected.digest,
                                          [] {
                                              ts::SignOptions o;
                                              o.knobs.timestamp = true;
                                              return o;
                                          }())
                             .json);
    c.tlog_entries.clear();
    const auto without_log = p.verify(c);
    EXPECT_TRUE(without_log.verified) << without_log.failed_check << ": " << without_log.reason;
    ASSERT_EQ(without_log.signing_times.size(), 1u);
    EXPECT_NE(without_log.signing_times.front().source.find("RFC 3161"), std::string::npos);
    // Not waived, the missing entry is refused.
    p.policy.transparency.ignore_tlog = false;
    EXPECT_EQ(p.verify(c).failed_check, check::transparency_log);
}

TEST(LogAndTimestampRules, UseSignedTimestampsRequiresOne) {
    Pipeline p;
    p.policy.transparency.use_signed_timestamps = true;
    const auto c = p.candidate(p.sigstore.make_bundle(p.expected.repository, p.expected.digest).json);
    EXPECT_EQ(p.verify(c).failed_check, check::timestamp);
    ts::SignOptions options;
    options.knobs.timestamp = true;
    EXPECT_TRUE(
        p.verify(p.candidate(p.sigstore.make_bundle(p.expected.repository, p.expected.digest, options).json)).verified);
}

TEST(LogAndTimestampRules, ARekorV2EntryWithASetOrWithoutAProofIsRefused) {
    // Rekor v2 never writes a SET: one there is forged. Its inclusion proof is its only evidence.
    Pipeline p;
    ts::SignOptions options;
    options.knobs.rekor_v2 = true;
    options.knobs.timestamp = true;
    auto c = p.candidate(p.sigstore.make_bundle(p.expected.repository, p.expected.digest, options).json);
    ASSERT_TRUE(p.verify(c).verified) << p.verify(c).reason;
    auto with_set = c;
    with_set.tlog_entries.front().signed_entry_timestamp = "forged";
    EXPECT_EQ(p.verify(with_set).failed_check, check::signed_entry_timestamp);
    auto without_proof = c;
    without_proof.tlog_entries.front().inclusion_proof.reset();
    EXPECT_EQ(p.verify(without_proof).failed_check, check::inclusion_proof);
}

TEST(LogAndTimestampRules, AV01BundleNeedsASetAndAV02BundleAProof) {
    Pipeline p;
    auto c = p.candidate(p.sigstore.make_bundle(p.expected.repository, p.expected.digest).json);
    auto v1 = c;
    v1.bundle_version = 1;
    v1.tlog_entries.front().signed_entry_timestamp.clear();
    EXPECT_EQ(p.verify(v1).failed_check, check::signed_entry_timestamp);
    auto v2 = c;
    v2.bundle_version = 2;
    v2.tlog_entries.front().inclusion_proof.reset();
    EXPECT_EQ(p.verify(v2).failed_check, check::inclusion_proof);
}

TEST(LogAndTimestampRules, ADsseV002EntryRecordsTheEnvelopeBySignatureAndVerifier) {
    // dsse 0.0.2, as early Rekor v2 logs wrote it: the payload hash and each signature with its
    // verifier; another signature or verifier is another envelope's entry.
    SignedContent content;
    content.dsse = true;
    content.payload = "{\"the\":\"statement\"}";
    content.payload_type = "application/vnd.in-toto+json";
    content.signature = "the signature";
    content.certificate_der = shared_sigstore().intermediate().der;
    const auto body = [&](const std::string& payload, const std::string& signature, const std::string& der) {
        nlohmann::json spec = {
            {"payloadHash", {{"algorithm", "SHA2_256"}, {"digest", util::base64_encode(util::sha256_raw(payload))}}},
            {"signatures",
             {{{"content", util::base64_encode(signature)},
               {"verifier",
                {{"keyDetails", "PKIX_ECDSA_P384_SHA_384"},
                 {"x509Certificate", {{"rawBytes", util::base64_encode(der)}}}}}}}}};
        return nlohmann::json{{"apiVersion", "0.0.2"}, {"kind", "dsse"}, {"spec", {{"dsseV002", spec}}}}.dump();
    };
    std::string why;
    EXPECT_TRUE(
        entry_records(body(content.payload, content.signature, content.certificate_der), "dsse", "0.0.2", content, why))
        << why;
    EXPECT_FALSE(
        entry_records(body("other", content.signature, content.certificate_der), "dsse", "0.0.2", content, why));
    EXPECT_FALSE(entry_records(body(content.payload, "other", content.certificate_der), "dsse", "0.0.2", content, why));
    EXPECT_FALSE(entry_records(body(content.payload, content.signature, shared_sigstore().root().der), "dsse", "0.0.2",
                               content, why));
    // A body with a field Rekor v2 does not write has another reading.
    auto extra = nlohmann::json::parse(body(content.payload, content.signature, content.certificate_der));
    extra["integratedTime"] = 1;
    EXPECT_FALSE(entry_records(extra.dump(), "dsse", "0.0.2", content, why));
}

// ---- the trusted root as shipped, bundle versions ----

std::filesystem::path shared_conformance() {
    return std::filesystem::path(KARMOR_SHARED_DIR) / "sigstore-conformance";
}

TEST(TrustedRootAsShipped, PublicGoodAndStagingRootsAreRead) {
    if (!std::filesystem::is_directory(shared_conformance()))
        GTEST_SKIP() << "SKIPPED: " << shared_conformance() << " is not present";
    auto good = load_trusted_root(shared_conformance() / "public-good-trusted_root.json");
    ASSERT_TRUE(good) << good.error().message;
    ASSERT_EQ(good->tlogs.size(), 2u);
    EXPECT_TRUE(good->tlogs[0].key && good->tlogs[1].key);
    EXPECT_EQ(good->tlogs[1].key_details, "PKIX_ED25519");
    EXPECT_EQ(good->timestamp_authorities.size(), 1u);
    auto staging = load_trusted_root(shared_conformance() / "staging-trusted_root.json");
    ASSERT_TRUE(staging) << staging.error().message;
    // The PKCS#1 RSA CT key of staging is read, not refused.
    EXPECT_TRUE(staging->ctlogs.front().key) << staging->ctlogs.front().unusable;
}

TEST(BundleVersions, EachMediaTypeHasItsRules) {
    auto& sigstore = shared_sigstore();
    auto bundle = nlohmann::json::parse(sigstore.make_bundle("r.karmor.test/p", Digest::sha256_of("m")).json);
    for (const auto& [type, version] :
         std::vector<std::pair<std::string, int>>{{"application/vnd.dev.sigstore.bundle+json;version=0.2", 2},
                                                  {"application/vnd.dev.sigstore.bundle+json;version=0.3", 3},
                                                  {"application/vnd.dev.sigstore.bundle.v0.3+json", 3}}) {
        bundle["mediaType"] = type;
        auto parsed = parse_sigstore_bundle(bundle.dump());
        ASSERT_TRUE(parsed) << type << ": " << parsed.error().message;
        EXPECT_EQ(parsed->version, version);
    }
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=99.9";
    EXPECT_FALSE(parse_sigstore_bundle(bundle.dump()));
    // A chain that brings its own root would be trust the bundle grants itself.
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2";
    const auto leaf = bundle["verificationMaterial"]["certificate"];
    bundle["verificationMaterial"].erase("certificate");
    bundle["verificationMaterial"]["x509CertificateChain"] = {
        {"certificates", {leaf, {{"rawBytes", util::base64_encode(sigstore.root().der)}}}}};
    auto refused = parse_sigstore_bundle(bundle.dump());
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("self-signed"), std::string::npos) << refused.error().message;
    // v0.3 carries the certificate alone.
    bundle["verificationMaterial"]["x509CertificateChain"] = {{"certificates", {leaf}}};
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json";
    EXPECT_FALSE(parse_sigstore_bundle(bundle.dump()));
}

}  // namespace
}  // namespace karmor::signing
