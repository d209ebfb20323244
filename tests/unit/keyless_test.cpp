// Keyless verification (issue 16) in the library: every link of the private Sigstore's matrix
// broken once and refused by the check that guards it, in both formats; the trusted-root
// reader, the Merkle audit path and the checkpoint reader on small vectors built here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "signing/keyless.hpp"
#include "signing/legacy_signatures.hpp"
#include "signing/simple_signing.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/transparency_log.hpp"
#include "signing/trusted_root.hpp"
#include "support/test_sigstore.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

namespace ts = testing::sigstore;

const std::string repository = "registry.karmor.test/team/policies";

ts::TestSigstore& shared_sigstore() {
    static ts::TestSigstore instance;
    return instance;
}

Digest subject_digest() {
    return Digest::sha256_of("the signed manifest");
}

ExpectedSubject expected() {
    ExpectedSubject subject;
    subject.digest = subject_digest();
    subject.repository = repository;
    return subject;
}

KeylessPolicy policy(const std::string& identity = ts::default_identity,
                     const std::string& issuer = ts::github_issuer) {
    auto root = parse_trusted_root(shared_sigstore().trusted_root_json(), "trusted_root.json");
    EXPECT_TRUE(root) << (root ? "" : root.error().message);
    KeylessPolicy out;
    out.trusted_root = std::make_shared<const TrustedRoot>(std::move(*root));
    out.identity.exact = identity;
    out.issuer.exact = issuer;
    return out;
}

// The candidate ops/ would collect from a bundle referrer.
SignatureCandidate bundle_candidate(const std::string& json) {
    SignatureCandidate candidate;
    candidate.format = SignatureFormat::bundle;
    candidate.source = "bundle";
    auto bundle = parse_dsse_bundle(json);
    if (!bundle) {
        candidate.problem = bundle.error().message;
        return candidate;
    }
    candidate.payload = bundle->payload;
    candidate.payload_type = bundle->payload_type;
    candidate.der_signatures = bundle->der_signatures;
    candidate.certificate_der = bundle->certificate_der;
    candidate.tlog_entries = bundle->tlog_entries;
    candidate.rfc3161_timestamps = bundle->rfc3161_timestamps;
    candidate.bundle_version = bundle->version;
    return candidate;
}

// … and from a layer of the .sig manifest.
SignatureCandidate legacy_candidate(const ts::LegacyMaterial& material) {
    Manifest manifest;
    manifest.schema_version = 2;
    manifest.media_type = media_type::oci_manifest;
    Descriptor layer{simple_signing_media_type,
                     Digest::sha256_of(material.payload),
                     static_cast<std::int64_t>(material.payload.size()),
                     "",
                     {},
                     std::nullopt};
    layer.annotations[signature_annotation] = util::base64_encode(material.signature);
    layer.annotations[certificate_annotation] = material.certificate_pem;
    layer.annotations[chain_annotation] = material.chain_pem;
    layer.annotations[rekor_bundle_annotation] = material.rekor_bundle_json;
    manifest.layers.push_back(layer);
    auto layers = read_legacy_signature_layers(manifest, "test.sig");
    SignatureCandidate candidate;
    candidate.format = SignatureFormat::legacy;
    candidate.source = "legacy";
    if (!layers) {
        candidate.problem = layers.error().message;
        return candidate;
    }
    auto& read = layers->front();
    candidate.problem = read.problem;
    candidate.payload = material.payload;
    candidate.der_signatures = {read.der_signature};
    candidate.certificate_der = read.certificate_der;
    candidate.tlog_entries = read.tlog_entries;
    return candidate;
}

// The case's policy: identity or identity regexp, issuer, and its cosign-spelled flags.
KeylessPolicy case_policy(const ts::Case& c) {
    auto rules = policy(c.identity, c.issuer);
    if (!c.identity_regexp.empty()) {
        auto matcher = make_value_matcher("", c.identity_regexp, "certificate-identity");
        EXPECT_TRUE(matcher);
        if (matcher) rules.identity = *matcher;
    }
    for (std::size_t i = 0; i + 1 < c.flags.size(); i += 2) {
        const auto& flag = c.flags[i];
        const auto& value = c.flags[i + 1];
        if (flag == "--certificate-github-workflow-trigger")
            rules.github_workflow_trigger = value;
        else if (flag == "--certificate-github-workflow-sha")
            rules.github_workflow_sha = value;
        else if (flag == "--certificate-github-workflow-name")
            rules.github_workflow_name = value;
        else if (flag == "--certificate-github-workflow-repository")
            rules.github_workflow_repository = value;
        else if (flag == "--certificate-github-workflow-ref")
            rules.github_workflow_ref = value;
        else
            ADD_FAILURE() << "unknown flag " << flag;
    }
    return rules;
}

TEST(KeylessMatrix, EachBrokenLinkIsRefusedByItsCheckAndGoodSignaturesVerify) {
    auto& sigstore = shared_sigstore();
    int checked = 0;
    for (const auto& c : ts::standard_cases()) {
        const auto rules = case_policy(c);
        for (const bool bundle : {true, false}) {
            if (bundle ? !c.bundle : !c.legacy) continue;
            SCOPED_TRACE(c.name + (bundle ? " (bundle)" : " (legacy)"));
            const auto candidate =
                bundle ? bundle_candidate(sigstore.make_bundle(repository, subject_digest(), c.options).json)
                       : legacy_candidate(sigstore.make_legacy(repository, subject_digest(), c.options));
            const auto verdict = verify_keyless_signature(candidate, rules, expected());
            ++checked;
            if (c.good) {
                EXPECT_TRUE(verdict.verified) << verdict.failed_check << ": " << verdict.reason;
                ASSERT_EQ(verdict.keys.size(), 1u);
                EXPECT_NE(
                    verdict.keys.front().find(c.options.leaf.san_uri.empty() ? c.identity : c.options.leaf.san_uri),
                    std::string::npos)
                    << verdict.keys.front();
                continue;
            }
            EXPECT_FALSE(verdict.verified);
            EXPECT_EQ(verdict.failed_check, c.check) << verdict.reason;
            EXPECT_FALSE(verdict.reason.empty());
        }
    }
    EXPECT_GE(checked, 30);
}

TEST(KeylessMatrix, RegexpsMatchAsCosignsDoAndAnchorsNarrowThem) {
    auto& sigstore = shared_sigstore();
    const auto candidate = bundle_candidate(sigstore.make_bundle(repository, subject_digest()).json);
    auto rules = policy();
    auto identity = make_value_matcher("", "^https://github\\.com/karmor-test/", "certificate-identity");
    ASSERT_TRUE(identity);
    rules.identity = *identity;
    EXPECT_TRUE(verify_keyless_signature(candidate, rules, expected()).verified);
    // An anchored pattern for another organisation does not match a substring of this one.
    identity = make_value_matcher("", "^https://github\\.com/karmor-tes/", "certificate-identity");
    ASSERT_TRUE(identity);
    rules.identity = *identity;
    EXPECT_EQ(verify_keyless_signature(candidate, rules, expected()).failed_check, check::certificate_identity);
    EXPECT_FALSE(make_value_matcher("", "([", "certificate-identity"));
    EXPECT_FALSE(make_value_matcher("a", "b", "certificate-identity"));
}

TEST(KeylessMatrix, GithubWorkflowClaimsAreCompared) {
    auto& sigstore = shared_sigstore();
    const auto candidate = bundle_candidate(sigstore.make_bundle(repository, subject_digest()).json);
    auto rules = policy();
    rules.github_workflow_trigger = "push";
    rules.github_workflow_repository = "karmor-test/policies";
    rules.github_workflow_ref = "refs/heads/main";
    auto verdict = verify_keyless_signature(candidate, rules, expected());
    EXPECT_TRUE(verdict.verified) << verdict.failed_check << ": " << verdict.reason;
    // A signature made by a pull-request run of the same workflow is not a release.
    rules.github_workflow_trigger = "workflow_dispatch";
    verdict = verify_keyless_signature(candidate, rules, expected());
    EXPECT_EQ(verdict.failed_check, check::github_workflow) << verdict.reason;
    rules.github_workflow_trigger.clear();
    rules.github_workflow_repository = "someone-else/policies";
    EXPECT_EQ(verify_keyless_signature(candidate, rules, expected()).failed_check, check::github_workflow);
}

TEST(KeylessMatrix, InsecureIgnoreSctAcceptsACertificateWithoutOne) {
    auto& sigstore = shared_sigstore();
    ts::SignOptions options;
    options.knobs.no_sct = true;
    const auto candidate = bundle_candidate(sigstore.make_bundle(repository, subject_digest(), options).json);
    auto rules = policy();
    EXPECT_EQ(verify_keyless_signature(candidate, rules, expected()).failed_check, check::sct);
    rules.ignore_sct = true;
    EXPECT_TRUE(verify_keyless_signature(candidate, rules, expected()).verified);
}

TEST(KeylessMatrix, TheDigestAndRepositoryChecksStillApply) {
    auto& sigstore = shared_sigstore();
    // A valid keyless signature of another manifest does not verify this one.
    const auto other = bundle_candidate(sigstore.make_bundle(repository, Digest::sha256_of("other")).json);
    EXPECT_EQ(verify_keyless_signature(other, policy(), expected()).failed_check, check::digest);
    const auto legacy = legacy_candidate(sigstore.make_legacy("registry.karmor.test/other/repo", subject_digest()));
    EXPECT_EQ(verify_keyless_signature(legacy, policy(), expected()).failed_check, check::identity);
}

TEST(KeylessMatrix, WithoutALogEntryThereIsNoSigningTime) {
    auto& sigstore = shared_sigstore();
    auto candidate = bundle_candidate(sigstore.make_bundle(repository, subject_digest()).json);
    candidate.tlog_entries.clear();
    EXPECT_EQ(verify_keyless_signature(candidate, policy(), expected()).failed_check, check::transparency_log);
    // A log entry from a log the root does not list gives no time either.
    candidate = bundle_candidate(sigstore.make_bundle(repository, subject_digest()).json);
    candidate.tlog_entries.front().log_id = std::string(32, 'x');
    EXPECT_EQ(verify_keyless_signature(candidate, policy(), expected()).failed_check, check::transparency_log);
}

TEST(KeylessMatrix, AMovedIntegratedTimeBreaksTheSet) {
    // The SET covers the integrated time: moving it into the certificate's validity is caught.
    auto& sigstore = shared_sigstore();
    ts::SignOptions options;
    options.knobs.expired_at_log_time = true;
    auto candidate = bundle_candidate(sigstore.make_bundle(repository, subject_digest(), options).json);
    candidate.tlog_entries.front().integrated_time = sigstore.base_time() + 60;
    EXPECT_EQ(verify_keyless_signature(candidate, policy(), expected()).failed_check, check::signed_entry_timestamp);
}

// ---- trusted root ----

nlohmann::json trusted_root() {
    return nlohmann::json::parse(shared_sigstore().trusted_root_json());
}

TEST(TrustedRootReader, ReadsTheFixturesRoot) {
    auto root = parse_trusted_root(trusted_root().dump(), "root.json");
    ASSERT_TRUE(root) << root.error().message;
    EXPECT_EQ(root->certificate_authorities.size(), 1u);
    EXPECT_EQ(root->certificate_authorities.front().chain.size(), 2u);
    ASSERT_EQ(root->tlogs.size(), 2u);  // Rekor v1 (ECDSA) and v2 (Ed25519)
    EXPECT_EQ(root->tlogs.front().key_id, shared_sigstore().log_key().key_id());
    EXPECT_TRUE(root->tlogs.back().key);
    ASSERT_EQ(root->ctlogs.size(), 1u);
    EXPECT_TRUE(root->ctlogs.front().key);
    ASSERT_EQ(root->timestamp_authorities.size(), 1u);
    EXPECT_EQ(root->timestamp_authorities.front().chain.size(), 2u);
}

TEST(TrustedRootReader, RefusesWhatItCannotTrust) {
    const auto refused = [](nlohmann::json json, const std::string& says) {
        auto root = parse_trusted_root(json.dump(), "root.json");
        ASSERT_FALSE(root) << json.dump().substr(0, 200);
        EXPECT_EQ(root.error().kind, ErrorKind::verification);
        EXPECT_NE(root.error().message.find(says), std::string::npos) << root.error().message;
    };
    auto json = trusted_root();
    json["mediaType"] = "application/json";
    refused(json, "media type");
    json = trusted_root();
    json["extra"] = 1;
    refused(json, "unknown field \"extra\"");
    json = trusted_root();
    json["tlogs"][0]["publicKey"]["rawBytes"] = "not base64!";
    refused(json, "not base64");
    json = trusted_root();
    json["tlogs"][0]["publicKey"]["rawBytes"] = util::base64_encode("garbage");
    refused(json, "not a DER public key");
    json = trusted_root();
    json["certificateAuthorities"][0]["validFor"].erase("start");
    refused(json, "start");
    json = trusted_root();
    json["certificateAuthorities"][0]["validFor"]["start"] = "yesterday";
    refused(json, "RFC 3339");
    json = trusted_root();
    json["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] = util::base64_encode("x");
    refused(json, "not DER X.509");
    json = trusted_root();
    json["certificateAuthorities"] = nlohmann::json::array();
    json["tlogs"] = nlohmann::json::array();
    json["timestampAuthorities"] = nlohmann::json::array();
    refused(json, "nothing to verify against");
    json = trusted_root();
    json["tlogs"] = nlohmann::json::array();
    for (int i = 0; i < 65; ++i) json["tlogs"].push_back(trusted_root()["tlogs"][0]);
    refused(json, "more than 64");
    json = trusted_root();
    auto& certificates = json["certificateAuthorities"][0]["certChain"]["certificates"];
    while (certificates.size() <= max_chain_certificates) certificates.push_back(certificates[0]);
    refused(json, "more than 10");
    // A duplicated key would let two readers see two roots.
    auto text = trusted_root().dump();
    text.insert(1, "\"mediaType\":\"x\",");
    auto root = parse_trusted_root(text, "root.json");
    ASSERT_FALSE(root);
    EXPECT_NE(root.error().message.find("twice"), std::string::npos);
    EXPECT_FALSE(parse_trusted_root(std::string(max_trusted_root_bytes + 1, ' '), "root.json"));
}

TEST(TrustedRootReader, AMissingValidForMeansAlwaysValid) {
    // Older roots (and sigstore-js's fixtures) give log keys no validFor.
    auto json = trusted_root();
    json["tlogs"][0]["publicKey"].erase("validFor");
    auto root = parse_trusted_root(json.dump(), "root.json");
    ASSERT_TRUE(root) << root.error().message;
    EXPECT_TRUE(root->tlogs.front().valid.contains(0));
    EXPECT_TRUE(root->tlogs.front().valid.contains(4102444800));
    // A key whose validity ended before the entry was logged does not sign its time.
    json = trusted_root();
    json["tlogs"][0]["publicKey"]["validFor"]["end"] = "2000-01-01T00:00:00Z";
    auto ended = parse_trusted_root(json.dump(), "root.json");
    ASSERT_TRUE(ended);
    KeylessPolicy rules = policy();
    rules.trusted_root = std::make_shared<const TrustedRoot>(std::move(*ended));
    const auto candidate = bundle_candidate(shared_sigstore().make_bundle(repository, subject_digest()).json);
    const auto verdict = verify_keyless_signature(candidate, rules, expected());
    EXPECT_EQ(verdict.failed_check, check::signed_entry_timestamp);
    EXPECT_NE(verdict.reason.find("was not valid"), std::string::npos) << verdict.reason;
}

TEST(TrustedRootReader, ACaNotValidAtTheSigningTimeIsNotUsed) {
    auto json = trusted_root();
    json["certificateAuthorities"][0]["validFor"]["end"] = "2000-01-01T00:00:00Z";
    auto root = parse_trusted_root(json.dump(), "root.json");
    ASSERT_TRUE(root);
    KeylessPolicy rules = policy();
    rules.trusted_root = std::make_shared<const TrustedRoot>(std::move(*root));
    const auto candidate = bundle_candidate(shared_sigstore().make_bundle(repository, subject_digest()).json);
    const auto verdict = verify_keyless_signature(candidate, rules, expected());
    EXPECT_EQ(verdict.failed_check, check::certificate_chain);
    EXPECT_NE(verdict.reason.find("no certificate authority"), std::string::npos) << verdict.reason;
}

TEST(TrustedRootReader, KeepsALogWithAnUnsupportedKeyTypeButCannotUseIt) {
    auto json = trusted_root();
    json["ctlogs"][0]["publicKey"]["keyDetails"] = "PKIX_RSA_PSS_2048_SHA256";
    auto root = parse_trusted_root(json.dump(), "root.json");
    ASSERT_TRUE(root) << root.error().message;
    EXPECT_FALSE(root->ctlogs.front().key);
    EXPECT_NE(root->ctlogs.front().unusable.find("not supported"), std::string::npos);
}

TEST(TrustedRootReader, Rfc3339Times) {
    EXPECT_EQ(util::parse_rfc3339_utc("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(util::parse_rfc3339_utc("2021-01-12T11:53:27.000Z"), 1610452407);
    EXPECT_EQ(util::parse_rfc3339_utc("2021-01-12T11:53:27Z"), 1610452407);
    EXPECT_FALSE(util::parse_rfc3339_utc("2021-01-12T11:53:27+01:00"));
    EXPECT_FALSE(util::parse_rfc3339_utc("2021-13-12T11:53:27Z"));
    EXPECT_FALSE(util::parse_rfc3339_utc("2021-01-12T11:53:27.Z"));
    EXPECT_EQ(util::format_rfc3339_utc(1610452407), "2021-01-12T11:53:27Z");
}

// ---- Merkle audit paths (RFC 6962), built here by hand ----

std::string node(const std::string& left, const std::string& right) {
    return util::sha256_raw(std::string(1, '\x01') + left + right);
}

TEST(MerkleInclusion, HandBuiltTreesOfOneToSevenLeaves) {
    std::vector<std::string> leaves;
    for (int i = 0; i < 7; ++i) leaves.push_back(merkle_leaf_hash("entry " + std::to_string(i)));
    const auto& l = leaves;
    // One leaf: the root is the leaf hash, the path empty.
    EXPECT_TRUE(verify_inclusion(0, 1, l[0], {}, l[0]));
    // Three leaves: root = H(H(l0,l1), l2).
    const auto root3 = node(node(l[0], l[1]), l[2]);
    EXPECT_TRUE(verify_inclusion(0, 3, l[0], {l[1], l[2]}, root3));
    EXPECT_TRUE(verify_inclusion(1, 3, l[1], {l[0], l[2]}, root3));
    EXPECT_TRUE(verify_inclusion(2, 3, l[2], {node(l[0], l[1])}, root3));
    // Seven leaves: root = H(H(H01,H23), H(H45, l6)).
    const auto h01 = node(l[0], l[1]), h23 = node(l[2], l[3]), h45 = node(l[4], l[5]);
    const auto root7 = node(node(h01, h23), node(h45, l[6]));
    EXPECT_TRUE(verify_inclusion(6, 7, l[6], {h45, node(h01, h23)}, root7));
    EXPECT_TRUE(verify_inclusion(4, 7, l[4], {l[5], l[6], node(h01, h23)}, root7));
    EXPECT_TRUE(verify_inclusion(3, 7, l[3], {l[2], h01, node(h45, l[6])}, root7));
    // Each kind of lie fails.
    EXPECT_FALSE(verify_inclusion(3, 7, l[2], {l[2], h01, node(h45, l[6])}, root7));        // other leaf
    EXPECT_FALSE(verify_inclusion(2, 7, l[3], {l[2], h01, node(h45, l[6])}, root7));        // other index
    EXPECT_FALSE(verify_inclusion(6, 8, l[6], {h45, node(h01, h23)}, root7));               // other size
    EXPECT_FALSE(verify_inclusion(3, 7, l[3], {l[2], h01}, root7));                         // short path
    EXPECT_FALSE(verify_inclusion(3, 7, l[3], {l[2], h01, node(h45, l[6]), l[0]}, root7));  // long path
    EXPECT_FALSE(verify_inclusion(3, 7, l[3], {l[2], h23, node(h45, l[6])}, root7));        // altered hash
    EXPECT_FALSE(verify_inclusion(7, 7, l[3], {}, root7));                                  // index out of range
    EXPECT_FALSE(verify_inclusion(-1, 7, l[3], {}, root7));
}

TEST(MerkleInclusion, AgreesWithTheFixturesRecursiveTreeForEveryLeafUpTo33) {
    std::vector<std::string> leaves;
    for (std::size_t size = 1; size <= 33; ++size) {
        leaves.push_back(ts::merkle_leaf_hash("entry " + std::to_string(size)));
        const auto root = ts::merkle_root(leaves);
        for (std::size_t i = 0; i < size; ++i) {
            const auto proof = ts::merkle_inclusion_proof(leaves, i);
            EXPECT_TRUE(
                verify_inclusion(static_cast<std::int64_t>(i), static_cast<std::int64_t>(size), leaves[i], proof, root))
                << i << " of " << size;
            if (size > 1) {
                EXPECT_FALSE(verify_inclusion(static_cast<std::int64_t>(i), static_cast<std::int64_t>(size),
                                              leaves[(i + 1) % size], proof, root));
            }
        }
    }
}

// ---- checkpoints and SETs ----

TEST(Checkpoint, ReadsASignedNoteAndRefusesAlteredOnes) {
    auto& sigstore = shared_sigstore();
    auto root = parse_trusted_root(sigstore.trusted_root_json(), "root.json");
    ASSERT_TRUE(root);
    const auto& log = root->tlogs.front();
    const auto bundle = sigstore.make_bundle(repository, subject_digest());
    const auto& note = bundle.entry.checkpoint;
    auto checkpoint = verify_checkpoint(note, log);
    ASSERT_TRUE(checkpoint) << checkpoint.error().message << "\n" << note;
    EXPECT_EQ(checkpoint->size, bundle.entry.tree_size);
    EXPECT_EQ(checkpoint->root_hash, bundle.entry.root_hash);
    EXPECT_EQ(checkpoint->origin, sigstore.log_origin());
    // Another tree size under the same signature.
    auto altered = note;
    altered.replace(altered.find('\n') + 1, std::to_string(bundle.entry.tree_size).size(),
                    std::to_string(bundle.entry.tree_size + 1));
    EXPECT_FALSE(verify_checkpoint(altered, log));
    EXPECT_FALSE(verify_checkpoint(note.substr(0, note.find("\n\n") + 1), log));  // unsigned
    EXPECT_FALSE(verify_checkpoint(std::string(max_checkpoint_bytes + 1, 'a'), log));
}

TEST(SignedEntryTimestamp, CoversBodyTimeIndexAndLog) {
    auto& sigstore = shared_sigstore();
    auto root = parse_trusted_root(sigstore.trusted_root_json(), "root.json");
    ASSERT_TRUE(root);
    const auto material = sigstore.make_legacy(repository, subject_digest());
    auto entry = parse_cosign_bundle_annotation(material.rekor_bundle_json);
    ASSERT_TRUE(entry) << entry.error().message;
    const auto& log = root->tlogs.front();
    EXPECT_TRUE(log.verify(set_signed_payload(*entry), entry->signed_entry_timestamp));
    auto moved = *entry;
    moved.log_index += 1;
    EXPECT_FALSE(log.verify(set_signed_payload(moved), moved.signed_entry_timestamp));
    moved = *entry;
    moved.canonical_body += " ";
    EXPECT_FALSE(log.verify(set_signed_payload(moved), moved.signed_entry_timestamp));
}

TEST(TlogEntryReader, RefusesMalformedEntries) {
    EXPECT_FALSE(parse_cosign_bundle_annotation("{}"));
    EXPECT_FALSE(parse_cosign_bundle_annotation(
        R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":-1,"logIndex":1,"logID":"00"}})"));
    EXPECT_FALSE(parse_cosign_bundle_annotation(
        R"({"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"zz"}})"));
    auto bundle = nlohmann::json::parse(shared_sigstore().make_bundle(repository, subject_digest()).json);
    auto& entry = bundle["verificationMaterial"]["tlogEntries"][0];
    entry["inclusionProof"]["hashes"] = nlohmann::json::array();
    for (std::size_t i = 0; i <= max_proof_hashes; ++i)
        entry["inclusionProof"]["hashes"].push_back(std::string(44, 'A'));
    EXPECT_FALSE(parse_bundle_tlog_entry(entry, "entry"));
    entry = nlohmann::json::parse(
        shared_sigstore().make_bundle(repository, subject_digest()).json)["verificationMaterial"]["tlogEntries"][0];
    entry["inclusionProof"].erase("checkpoint");
    EXPECT_FALSE(parse_bundle_tlog_entry(entry, "entry"));
    entry = nlohmann::json::parse(
        shared_sigstore().make_bundle(repository, subject_digest()).json)["verificationMaterial"]["tlogEntries"][0];
    entry["logIndex"] = "01";
    EXPECT_FALSE(parse_bundle_tlog_entry(entry, "entry"));
    auto many = nlohmann::json::parse(shared_sigstore().make_bundle(repository, subject_digest()).json);
    auto& list = many["verificationMaterial"]["tlogEntries"];
    while (list.size() <= max_tlog_entries) list.push_back(list[0]);
    EXPECT_FALSE(parse_dsse_bundle(many.dump()));
}

}  // namespace
}  // namespace karmor::signing

namespace karmor::signing {
namespace {

// Entry bodies built here for the kinds the fixture does not write (intoto 0.0.2) and for
// cross-kind confusion: each records exactly one thing wrong.
struct BodyCase {
    SignedContent content;
    std::string certificate_pem;
};

BodyCase body_case() {
    auto& sigstore = shared_sigstore();
    const auto bundle = sigstore.make_bundle(repository, subject_digest());
    BodyCase out;
    out.content.dsse = true;
    out.content.payload = bundle.statement;
    out.content.payload_type = in_toto_payload_type;
    auto parsed = parse_dsse_bundle(bundle.json);
    EXPECT_TRUE(parsed);
    out.content.signature = parsed->der_signatures.front();
    out.content.certificate_der = parsed->certificate_der;
    out.certificate_pem = bundle.leaf.certificate.pem;
    return out;
}

TlogEntry entry_of(const nlohmann::json& body, std::string kind = "", std::string version = "") {
    TlogEntry entry;
    entry.canonical_body = body.dump();
    entry.kind = std::move(kind);
    entry.version = std::move(version);
    return entry;
}

nlohmann::json intoto_body(const BodyCase& c) {
    return {{"apiVersion", "0.0.2"},
            {"kind", "intoto"},
            {"spec",
             {{"content",
               {{"envelope",
                 {{"payloadType", in_toto_payload_type},
                  {"signatures",
                   {{{"sig", util::base64_encode(util::base64_encode(c.content.signature))},
                     {"publicKey", util::base64_encode(c.certificate_pem)}}}}}},
                {"payloadHash",
                 {{"algorithm", "sha256"}, {"value", util::to_hex(util::sha256_raw(c.content.payload))}}}}}}}};
}

TEST(LogEntryBody, IntotoEntriesRecordTheEnvelopeSignatureCertificateAndPayload) {
    const auto c = body_case();
    std::string why;
    EXPECT_TRUE(entry_records(entry_of(intoto_body(c), "intoto", "0.0.2"), c.content, why)) << why;
    auto body = intoto_body(c);
    body["spec"]["content"]["payloadHash"]["value"] = util::to_hex(util::sha256_raw("another statement"));
    EXPECT_FALSE(entry_records(entry_of(body), c.content, why));
    EXPECT_NE(why.find("payload hash"), std::string::npos) << why;
    body = intoto_body(c);
    body["spec"]["content"]["envelope"]["signatures"][0]["sig"] =
        util::base64_encode(util::base64_encode("another signature"));
    EXPECT_FALSE(entry_records(entry_of(body), c.content, why));
    EXPECT_NE(why.find("another signature"), std::string::npos) << why;
    body = intoto_body(c);
    body["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] =
        util::base64_encode(shared_sigstore().intermediate().pem);
    EXPECT_FALSE(entry_records(entry_of(body), c.content, why));
    EXPECT_NE(why.find("certificate"), std::string::npos) << why;
    body = intoto_body(c);
    body["spec"]["content"]["envelope"]["payloadType"] = "text/plain";
    EXPECT_FALSE(entry_records(entry_of(body), c.content, why));
}

TEST(LogEntryBody, KindVersionMustMatchTheBodyAndKindsDoNotCrossFormats) {
    const auto c = body_case();
    std::string why;
    // The bundle says dsse, the body is intoto: one of them lies.
    EXPECT_FALSE(entry_records(entry_of(intoto_body(c), "dsse", "0.0.1"), c.content, why));
    EXPECT_NE(why.find("kindVersion"), std::string::npos) << why;
    // A hashedrekord entry cannot vouch for a DSSE envelope, nor an intoto entry for a legacy payload.
    const nlohmann::json hashed = {
        {"apiVersion", "0.0.1"},
        {"kind", "hashedrekord"},
        {"spec",
         {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", util::to_hex(util::sha256_raw(c.content.payload))}}}}},
          {"signature",
           {{"content", util::base64_encode(c.content.signature)},
            {"publicKey", {{"content", util::base64_encode(c.certificate_pem)}}}}}}}};
    EXPECT_FALSE(entry_records(entry_of(hashed), c.content, why));
    auto legacy = c.content;
    legacy.dsse = false;
    EXPECT_TRUE(entry_records(entry_of(hashed), legacy, why)) << why;
    EXPECT_FALSE(entry_records(entry_of(intoto_body(c)), legacy, why));
    // Unknown kinds and versions are refused by name.
    auto other = intoto_body(c);
    other["apiVersion"] = "0.0.3";
    EXPECT_FALSE(entry_records(entry_of(other), c.content, why));
    EXPECT_NE(why.find("0.0.3"), std::string::npos) << why;
    // A body that names a key twice has two readings.
    TlogEntry twice;
    twice.canonical_body = R"({"kind":"intoto","kind":"dsse"})";
    EXPECT_FALSE(entry_records(twice, c.content, why));
}

}  // namespace
}  // namespace karmor::signing

// ---- a certificate that its CA did not issue for code signing ----

namespace karmor::signing {
namespace {

std::shared_ptr<EVP_PKEY> new_p256_key() {
    return std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    ASSERT_NE(extension, nullptr) << value;
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
}

// A certificate of `key` issued by `issuer_key` (self-signed when `issuer` is null).
X509Ptr make_certificate(EVP_PKEY* key, EVP_PKEY* issuer_key, X509* issuer, bool ca, const char* eku,
                         std::int64_t not_before, std::int64_t not_after) {
    X509Ptr certificate(X509_new(), X509Free{});
    X509_set_version(certificate.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), ca ? 1 : 2);
    ASN1_TIME_set(X509_getm_notBefore(certificate.get()), static_cast<time_t>(not_before));
    ASN1_TIME_set(X509_getm_notAfter(certificate.get()), static_cast<time_t>(not_after));
    X509_NAME* name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(ca ? "eku-test-ca" : "eku-test-leaf"), -1, -1, 0);
    X509_set_subject_name(certificate.get(), name);
    X509_set_issuer_name(certificate.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    X509_set_pubkey(certificate.get(), key);
    X509* signer = issuer ? issuer : certificate.get();
    if (ca) {
        add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_extension(certificate.get(), signer, NID_key_usage, "critical,digitalSignature");
        add_extension(certificate.get(), signer, NID_subject_alt_name,
                      (std::string("URI:") + ts::default_identity).c_str());
        if (eku) add_extension(certificate.get(), signer, NID_ext_key_usage, eku);
        // Fulcio's issuer extension (1.3.6.1.4.1.57264.1.1): the raw issuer URL.
        std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> oid(OBJ_txt2obj("1.3.6.1.4.1.57264.1.1", 1),
                                                                      ASN1_OBJECT_free);
        std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> value(ASN1_OCTET_STRING_new(),
                                                                                    ASN1_OCTET_STRING_free);
        ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>(ts::github_issuer),
                              static_cast<int>(std::strlen(ts::github_issuer)));
        X509_EXTENSION* extension = X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get());
        X509_add_ext(certificate.get(), extension, -1);
        X509_EXTENSION_free(extension);
    }
    X509_sign(certificate.get(), issuer_key, EVP_sha256());
    return certificate;
}

std::string pem_of(X509* certificate) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), certificate);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// How the leaf signs: its key and scheme (issue 24: every key type cosign verifies with).
struct LeafSigner {
    std::shared_ptr<EVP_PKEY> key = new_p256_key();
    const EVP_MD* digest = EVP_sha256();
    bool pss = false;
};

// A legacy keyless signature by a leaf with `eku` from a CA of its own, logged (with a valid SET)
// in the fixture's log; its trusted root lists that CA.
SignatureVerdict verify_leaf_with_eku(const char* eku, const LeafSigner& signer = {}) {
    auto& sigstore = shared_sigstore();
    const std::int64_t now = sigstore.base_time() + 60;
    auto ca_key = new_p256_key();
    const auto& leaf_key = signer.key;
    auto ca = make_certificate(ca_key.get(), ca_key.get(), nullptr, true, nullptr, now - 3600, now + 3600);
    auto leaf = make_certificate(leaf_key.get(), ca_key.get(), ca.get(), false, eku, now - 30, now + 570);

    SignatureCandidate candidate;
    candidate.format = SignatureFormat::legacy;
    candidate.payload = make_simple_signing_payload(repository, subject_digest(), {});
    candidate.der_signatures = {ts::sign_message(leaf_key.get(), signer.digest, candidate.payload, signer.pss)};
    candidate.certificate_der = certificate_der(leaf.get());
    const nlohmann::json body = {
        {"apiVersion", "0.0.1"},
        {"kind", "hashedrekord"},
        {"spec",
         {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", util::to_hex(util::sha256_raw(candidate.payload))}}}}},
          {"signature",
           {{"content", util::base64_encode(candidate.der_signatures.front())},
            {"publicKey", {{"content", util::base64_encode(pem_of(leaf.get()))}}}}}}}};
    TlogEntry entry;
    entry.canonical_body = body.dump();
    entry.integrated_time = now;
    entry.log_index = 7;
    entry.log_id = sigstore.log_key().key_id();
    entry.signed_entry_timestamp = sigstore.log_key().sign(set_signed_payload(entry));
    candidate.tlog_entries = {entry};

    auto json = trusted_root();
    json["certificateAuthorities"][0]["certChain"]["certificates"] =
        nlohmann::json::array({{{"rawBytes", util::base64_encode(certificate_der(ca.get()))}}});
    auto root = parse_trusted_root(json.dump(), "root.json");
    EXPECT_TRUE(root) << (root ? "" : root.error().message);
    auto rules = policy();
    rules.trusted_root = std::make_shared<const TrustedRoot>(std::move(*root));
    rules.ignore_sct = true;  // this CA publishes nothing in CT; the test is about the EKU
    return verify_keyless_signature(candidate, rules, expected());
}

TEST(KeylessCodeSigning, ALeafNotIssuedForCodeSigningIsRefused) {
    // The control: the same construction with the codeSigning EKU verifies, so the refusals
    // below come from the EKU alone.
    auto verdict = verify_leaf_with_eku("codeSigning");
    EXPECT_TRUE(verdict.verified) << verdict.failed_check << ": " << verdict.reason;
    // A TLS client certificate from a trusted CA is not a signing certificate.
    verdict = verify_leaf_with_eku("clientAuth");
    EXPECT_EQ(verdict.failed_check, check::certificate_chain) << verdict.reason;
    EXPECT_NE(verdict.reason.find("code signing"), std::string::npos) << verdict.reason;
    verdict = verify_leaf_with_eku(nullptr);
    EXPECT_EQ(verdict.failed_check, check::certificate_chain) << verdict.reason;
}

TEST(KeylessLeafKeys, EveryKeyTypeCosignVerifiesWithSignsAsALeaf) {
    // Fulcio issues leaves for ECDSA P-256/P-384/P-521, Ed25519 and RSA keys; cosign verifies each.
    std::vector<std::pair<std::string, LeafSigner>> signers;
    auto key_of = [](EVP_PKEY* key) { return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free); };
    signers.push_back({"P-384 SHA-384", {key_of(EVP_EC_gen("P-384")), EVP_sha384(), false}});
    signers.push_back({"P-521 SHA-512", {key_of(EVP_EC_gen("P-521")), EVP_sha512(), false}});
    signers.push_back({"Ed25519", {key_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")), nullptr, false}});
    const auto rsa = key_of(EVP_RSA_gen(2048));
    signers.push_back({"RSA PKCS#1 v1.5", {rsa, EVP_sha256(), false}});
    signers.push_back({"RSA PSS", {rsa, EVP_sha256(), true}});
    for (const auto& [name, signer] : signers) {
        const auto verdict = verify_leaf_with_eku("codeSigning", signer);
        EXPECT_TRUE(verdict.verified) << name << ": " << verdict.failed_check << ": " << verdict.reason;
    }
    // Stops a leaf whose key cosign would not trust: RSA under 2048 bits, a curve it does not verify.
    LeafSigner weak{key_of(EVP_RSA_gen(1024)), EVP_sha256(), false};
    auto verdict = verify_leaf_with_eku("codeSigning", weak);
    EXPECT_EQ(verdict.failed_check, check::certificate) << verdict.reason;
    EXPECT_NE(verdict.reason.find("1024"), std::string::npos) << verdict.reason;
    LeafSigner k1{key_of(EVP_EC_gen("secp256k1")), EVP_sha256(), false};
    verdict = verify_leaf_with_eku("codeSigning", k1);
    EXPECT_EQ(verdict.failed_check, check::certificate) << verdict.reason;
    EXPECT_NE(verdict.reason.find("secp256k1"), std::string::npos) << verdict.reason;
}

}  // namespace
}  // namespace karmor::signing
