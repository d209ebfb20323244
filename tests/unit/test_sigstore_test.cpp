// The private Sigstore of the keyless tests checked with OpenSSL's own verifiers: the chain
// (X509_verify_cert), the embedded SCT (SCT_LIST_validate under a CT log store), the Merkle
// proof (RFC 9162's iterative algorithm, not the recursive one that made it), the SET and the
// checkpoint signatures. If these fail, a verdict about the material would mean nothing.
#include <gtest/gtest.h>

#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/test_sigstore.hpp"
#include "util/encoding.hpp"

namespace karmor {
namespace {

namespace ts = testing::sigstore;

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

ts::TestSigstore& shared_sigstore() {
    static ts::TestSigstore instance;
    return instance;
}

// X509_verify_cert of `leaf` under the root, the intermediate untrusted, at `when`.
int verify_chain(const ts::Certificate& leaf, std::int64_t when) {
    auto& s = shared_sigstore();
    X509_STORE* store = X509_STORE_new();
    auto root = parse(s.root().der);
    X509_STORE_add_cert(store, root.get());
    auto intermediate = parse(s.intermediate().der);
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, intermediate.get());
    auto cert = parse(leaf.der);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, cert.get(), untrusted);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), static_cast<time_t>(when));
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
    const int ok = X509_verify_cert(ctx);
    const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    return error;
}

// The validation status of each embedded SCT, with a CT log store holding only the test CT log.
std::vector<sct_validation_status_t> sct_statuses(const ts::Certificate& leaf, const testing::TempDir& dir) {
    auto& s = shared_sigstore();
    const auto config = dir / "ct_logs.cnf";
    testing::write_text(config, "enabled_logs = test\n[test]\ndescription = karmor test CT log\nkey = " +
                                    util::base64_encode(s.ct_key().public_der()) + "\n");
    CTLOG_STORE* logs = CTLOG_STORE_new();
    EXPECT_EQ(CTLOG_STORE_load_file(logs, config.c_str()), 1);
    auto cert = parse(leaf.der);
    auto issuer = parse(s.intermediate().der);
    CT_POLICY_EVAL_CTX* policy = CT_POLICY_EVAL_CTX_new();
    CT_POLICY_EVAL_CTX_set1_cert(policy, cert.get());
    CT_POLICY_EVAL_CTX_set1_issuer(policy, issuer.get());
    CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(policy, logs);
    CT_POLICY_EVAL_CTX_set_time(policy, static_cast<std::uint64_t>(s.base_time() + 60) * 1000);
    std::vector<sct_validation_status_t> out;
    auto* scts = static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(cert.get(), NID_ct_precert_scts, nullptr, nullptr));
    if (scts) {
        SCT_LIST_validate(scts, policy);
        for (int i = 0; i < sk_SCT_num(scts); ++i) out.push_back(SCT_get_validation_status(sk_SCT_value(scts, i)));
        SCT_LIST_free(scts);
    }
    CT_POLICY_EVAL_CTX_free(policy);
    CTLOG_STORE_free(logs);
    return out;
}

bool verify_signature(const ts::EcKey& key, std::string_view message, std::string_view signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(key.evp()));
    const int ok = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                    reinterpret_cast<const unsigned char*>(message.data()), message.size());
    EVP_MD_CTX_free(ctx);
    return ok == 1;
}

std::string sha256(std::string_view bytes) {
    std::string out(SHA256_DIGEST_LENGTH, '\0');
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
           reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

// RFC 9162 §2.1.3.2: the root an inclusion proof leads to.
std::optional<std::string> root_from_proof(std::uint64_t index, std::uint64_t size, const std::string& leaf_hash,
                                           const std::vector<std::string>& proof) {
    if (index >= size) return std::nullopt;
    std::uint64_t fn = index, sn = size - 1;
    std::string r = leaf_hash;
    for (const auto& p : proof) {
        if (sn == 0) return std::nullopt;
        if ((fn & 1) || fn == sn) {
            r = sha256("\x01" + p + r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            r = sha256("\x01" + r + p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) return std::nullopt;
    return r;
}

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

const Digest subject_digest = Digest::sha256_of("a manifest");

TEST(TestSigstore, LeafChainsToTheRootOnlyWithinItsTenMinutes) {
    auto& s = shared_sigstore();
    const auto leaf = s.issue_leaf({});
    EXPECT_EQ(verify_chain(leaf.certificate, s.base_time() + 30), X509_V_OK);
    EXPECT_EQ(leaf.certificate.not_after - leaf.certificate.not_before, 600);
    EXPECT_EQ(verify_chain(leaf.certificate, s.base_time() + 601), X509_V_ERR_CERT_HAS_EXPIRED);
    EXPECT_EQ(verify_chain(leaf.certificate, s.base_time() - 1), X509_V_ERR_CERT_NOT_YET_VALID);
    ts::Knobs unknown;
    unknown.unknown_ca = true;
    EXPECT_NE(verify_chain(s.issue_leaf({}, unknown).certificate, s.base_time() + 30), X509_V_OK);
}

TEST(TestSigstore, LeafHasTheFulcioExtensions) {
    auto& s = shared_sigstore();
    const auto leaf = s.issue_leaf({});
    auto cert = parse(leaf.certificate.der);
    // The SAN is the workflow URI, and the subject is empty, as Fulcio issues them.
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
    ASSERT_NE(names, nullptr);
    ASSERT_EQ(sk_GENERAL_NAME_num(names), 1);
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, 0);
    ASSERT_EQ(name->type, GEN_URI);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.uniformResourceIdentifier))),
              ts::default_identity);
    GENERAL_NAMES_free(names);
    EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert.get())), 0);
    EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_CODE_SIGN);

    const auto value_of = [&](const char* oid) -> std::string {
        ASN1_OBJECT* object = OBJ_txt2obj(oid, 1);
        const int at = X509_get_ext_by_OBJ(cert.get(), object, -1);
        ASN1_OBJECT_free(object);
        if (at < 0) return "<absent>";
        const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert.get(), at));
        return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                           static_cast<std::size_t>(ASN1_STRING_length(data)));
    };
    EXPECT_EQ(value_of(ts::oid_issuer_v1), ts::github_issuer);
    const std::string v2 = value_of(ts::oid_issuer_v2);
    // DER UTF8String: tag 12, short length, the issuer.
    ASSERT_GE(v2.size(), 2u);
    EXPECT_EQ(v2[0], '\x0c');
    EXPECT_EQ(static_cast<std::size_t>(v2[1]), v2.size() - 2);
    EXPECT_EQ(v2.substr(2), ts::github_issuer);
    EXPECT_EQ(value_of("1.3.6.1.4.1.57264.1.5"), "karmor-test/policies");
    EXPECT_EQ(value_of("1.3.6.1.4.1.57264.1.6"), "refs/heads/main");

    // And as openssl(1) reads it.
    testing::TempDir dir;
    testing::write_text(dir / "leaf.pem", leaf.certificate.pem);
    const auto text = testing::run_command({"openssl", "x509", "-in", (dir / "leaf.pem").string(), "-noout", "-text"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("CT Precertificate SCTs"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Code Signing"), std::string::npos);
}

TEST(TestSigstore, EmbeddedSctVerifiesUnderOpensslCtValidation) {
    auto& s = shared_sigstore();
    testing::TempDir dir;
    EXPECT_EQ(sct_statuses(s.issue_leaf({}).certificate, dir),
              std::vector<sct_validation_status_t>{SCT_VALIDATION_STATUS_VALID});
    ts::Knobs knobs;
    knobs.no_sct = true;
    EXPECT_TRUE(sct_statuses(s.issue_leaf({}, knobs).certificate, dir).empty());
    knobs = {};
    knobs.sct_by_unknown_log = true;
    EXPECT_EQ(sct_statuses(s.issue_leaf({}, knobs).certificate, dir),
              std::vector<sct_validation_status_t>{SCT_VALIDATION_STATUS_UNKNOWN_LOG});
    knobs = {};
    knobs.bad_sct = true;
    EXPECT_EQ(sct_statuses(s.issue_leaf({}, knobs).certificate, dir),
              std::vector<sct_validation_status_t>{SCT_VALIDATION_STATUS_INVALID});
}

TEST(TestSigstore, MerkleTreeMatchesRfc9162Verification) {
    // RFC 6962: the empty tree hashes to SHA-256("").
    EXPECT_EQ(hex(ts::merkle_root({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    std::vector<std::string> leaves;
    for (int i = 0; i < 13; ++i) leaves.push_back(ts::merkle_leaf_hash("entry " + std::to_string(i)));
    for (std::size_t size = 1; size <= leaves.size(); ++size) {
        const std::vector<std::string> tree(leaves.begin(), leaves.begin() + static_cast<std::ptrdiff_t>(size));
        const auto root = ts::merkle_root(tree);
        for (std::size_t i = 0; i < size; ++i) {
            const auto proof = ts::merkle_inclusion_proof(tree, i);
            EXPECT_EQ(root_from_proof(i, size, tree[i], proof), root) << "leaf " << i << " of " << size;
            if (!proof.empty()) {
                auto bad = proof;
                bad[0][0] = static_cast<char>(bad[0][0] ^ 1);
                EXPECT_NE(root_from_proof(i, size, tree[i], bad), root);
            }
        }
    }
}

TEST(TestSigstore, BundleEntryHasAVerifyingSetProofAndCheckpoint) {
    auto& s = shared_sigstore();
    const auto made = s.make_bundle("registry.test/team/policies", subject_digest);
    const auto bundle = nlohmann::json::parse(made.json);
    const auto& entry = bundle["verificationMaterial"]["tlogEntries"][0];
    EXPECT_EQ(entry["kindVersion"]["kind"], "dsse");
    const auto body = *util::base64_decode(entry["canonicalizedBody"].get<std::string>());
    EXPECT_EQ(body, made.entry.body);
    // The body is canonical JSON and records this envelope's signature and payload hash.
    const auto parsed_body = nlohmann::json::parse(body);
    EXPECT_EQ(parsed_body.dump(), body);
    EXPECT_EQ(parsed_body["spec"]["signatures"][0]["signature"],
              bundle["dsseEnvelope"]["signatures"][0]["sig"].get<std::string>());
    EXPECT_EQ(parsed_body["spec"]["payloadHash"]["value"], hex(sha256(made.statement)));

    // SET: over {"body","integratedTime","logID","logIndex"}, canonical.
    const std::string set_payload = R"({"body":")" + entry["canonicalizedBody"].get<std::string>() +
                                    R"(","integratedTime":)" + entry["integratedTime"].get<std::string>() +
                                    R"(,"logID":")" + hex(s.log_key().key_id()) + R"(","logIndex":)" +
                                    entry["logIndex"].get<std::string>() + "}";
    const auto set = *util::base64_decode(entry["inclusionPromise"]["signedEntryTimestamp"].get<std::string>());
    EXPECT_TRUE(verify_signature(s.log_key(), set_payload, set));

    // Inclusion proof → root hash → checkpoint signed by the log key.
    const auto& proof = entry["inclusionProof"];
    std::vector<std::string> hashes;
    for (const auto& h : proof["hashes"]) hashes.push_back(*util::base64_decode(h.get<std::string>()));
    const auto root =
        root_from_proof(std::stoull(proof["logIndex"].get<std::string>()),
                        std::stoull(proof["treeSize"].get<std::string>()), ts::merkle_leaf_hash(body), hashes);
    ASSERT_TRUE(root);
    EXPECT_EQ(util::base64_encode(*root), proof["rootHash"].get<std::string>());
    const std::string envelope = proof["checkpoint"]["envelope"];
    const auto split = envelope.find("\n\n");
    ASSERT_NE(split, std::string::npos);
    const auto note = envelope.substr(0, split + 1);
    EXPECT_EQ(note, s.log_origin() + "\n" + proof["treeSize"].get<std::string>() + "\n" +
                        proof["rootHash"].get<std::string>() + "\n");
    const std::string prefix = "\xe2\x80\x94 rekor.karmor.test ";
    ASSERT_EQ(envelope.compare(split + 2, prefix.size(), prefix), 0) << envelope;
    auto line = envelope.substr(split + 2 + prefix.size());
    line.pop_back();
    const auto signature = *util::base64_decode(line);
    EXPECT_EQ(signature.substr(0, 4), s.log_key().key_id().substr(0, 4));
    EXPECT_TRUE(verify_signature(s.log_key(), note, signature.substr(4)));
}

TEST(TestSigstore, KnobsBreakTheirLinkOnly) {
    auto& s = shared_sigstore();
    ts::SignOptions options;
    options.knobs.bad_set = true;
    auto made = s.make_bundle("r/p", subject_digest, options);
    // The bad SET is a valid signature of the payload with integratedTime + 1.
    nlohmann::json payload = {{"body", util::base64_encode(made.entry.body)},
                              {"integratedTime", made.entry.integrated_time + 1},
                              {"logID", hex(made.entry.log_id)},
                              {"logIndex", made.entry.log_index}};
    EXPECT_TRUE(verify_signature(s.log_key(), payload.dump(), made.entry.set));
    payload["integratedTime"] = made.entry.integrated_time;
    EXPECT_FALSE(verify_signature(s.log_key(), payload.dump(), made.entry.set));

    options = {};
    options.knobs.no_set = true;
    made = s.make_bundle("r/p", subject_digest, options);
    const auto bundle = nlohmann::json::parse(made.json);
    EXPECT_FALSE(bundle["verificationMaterial"]["tlogEntries"][0].contains("inclusionPromise"));
    EXPECT_TRUE(bundle["verificationMaterial"]["tlogEntries"][0].contains("inclusionProof"));

    options = {};
    options.knobs.expired_at_log_time = true;
    made = s.make_bundle("r/p", subject_digest, options);
    EXPECT_GT(made.entry.integrated_time, made.leaf.certificate.not_after);
}

TEST(TestSigstore, LegacyMaterialHasTheCosignAnnotations) {
    auto& s = shared_sigstore();
    const auto made = s.make_legacy("registry.test/team/policies", subject_digest);
    EXPECT_NE(made.payload.find(subject_digest.str()), std::string::npos);
    EXPECT_EQ(made.chain_pem, s.intermediate().pem + s.root().pem);
    const auto rekor = nlohmann::json::parse(made.rekor_bundle_json);
    const auto body = nlohmann::json::parse(*util::base64_decode(rekor["Payload"]["body"].get<std::string>()));
    EXPECT_EQ(body["kind"], "hashedrekord");
    EXPECT_EQ(body["spec"]["data"]["hash"]["value"], hex(sha256(made.payload)));
    EXPECT_EQ(*util::base64_decode(body["spec"]["signature"]["publicKey"]["content"].get<std::string>()),
              made.certificate_pem);
    const std::string set_payload = nlohmann::json{
        {"body", rekor["Payload"]["body"]},
        {"integratedTime", rekor["Payload"]["integratedTime"]},
        {"logID", rekor["Payload"]["logID"]},
        {"logIndex",
         rekor["Payload"]["logIndex"]}}.dump();
    EXPECT_TRUE(verify_signature(s.log_key(), set_payload,
                                 *util::base64_decode(rekor["SignedEntryTimestamp"].get<std::string>())));
}

TEST(TestSigstore, TrustedRootNamesTheCaChainAndBothLogs) {
    auto& s = shared_sigstore();
    const auto root = nlohmann::json::parse(s.trusted_root_json());
    EXPECT_EQ(root["mediaType"], "application/vnd.dev.sigstore.trustedroot+json;version=0.1");
    EXPECT_EQ(root["tlogs"][0]["logId"]["keyId"], util::base64_encode(s.log_key().key_id()));
    EXPECT_EQ(root["ctlogs"][0]["logId"]["keyId"], util::base64_encode(s.ct_key().key_id()));
    const auto& chain = root["certificateAuthorities"][0]["certChain"]["certificates"];
    ASSERT_EQ(chain.size(), 2u);
    EXPECT_EQ(*util::base64_decode(chain[0]["rawBytes"].get<std::string>()), s.intermediate().der);
    EXPECT_EQ(*util::base64_decode(chain[1]["rawBytes"].get<std::string>()), s.root().der);
    // Issue 24: the Rekor v2 log (Ed25519, listed under its signed-note key ID) and the TSA.
    EXPECT_EQ(root["tlogs"][1]["publicKey"]["keyDetails"], "PKIX_ED25519");
    const auto& tsa_chain = root["timestampAuthorities"][0]["certChain"]["certificates"];
    ASSERT_EQ(tsa_chain.size(), 2u);
    EXPECT_EQ(*util::base64_decode(tsa_chain[0]["rawBytes"].get<std::string>()), s.tsa_certificate().der);
}

}  // namespace
}  // namespace karmor
