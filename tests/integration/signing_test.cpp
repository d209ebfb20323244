// SPEC §9 through the karmor binary against a real docker-registry: sign, verify, pull
// --verify-key, inspect; every attack of issue 13 (forged with the real key, as an attacker
// with push access and a stolen signature would); a lying registry (scripted); and cosign v3
// both ways (peers from scripts/peers.sh, found through KARMOR_PEERS_BIN).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

#include "oci/manifest_json.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"
#include "ops/referrers_index.hpp"
#include "signing/keys.hpp"
#include "signing/legacy_signatures.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"
#include "support/local_registry.hpp"
#include "support/scripted_registry.hpp"
#include "util/encoding.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";
const std::string policy_a = (examples / "ksp-block-shell.yaml").string();
const std::string policy_b = (examples / "hsp-audit-passwd.yaml").string();

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

// A private key (PKCS#8) and its public key, made with openssl as a user would.
struct KeyPair {
    std::filesystem::path key, pub;
};

KeyPair make_key_pair(const TempDir& dir, const std::string& name) {
    KeyPair pair{dir / (name + ".pem"), dir / (name + ".pub")};
    const auto sec1 = dir / (name + ".sec1");
    EXPECT_EQ(run_command({"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", sec1.string()})
                  .exit_code,
              0);
    EXPECT_EQ(run_command({"openssl", "pkcs8", "-topk8", "-nocrypt", "-in", sec1.string(), "-out", pair.key.string()})
                  .exit_code,
              0);
    EXPECT_EQ(run_command({"openssl", "ec", "-in", pair.key.string(), "-pubout", "-out", pair.pub.string()}).exit_code,
              0);
    return pair;
}

std::filesystem::path peers_bin() {
    if (const char* dir = std::getenv("KARMOR_PEERS_BIN"); dir && *dir) return dir;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/root") / ".cache" / "karmor-peers" / "bin";
}

#define KARMOR_REQUIRE_PEER(variable, name)                                                                            \
    const auto variable = peers_bin() / (name);                                                                        \
    if (!std::filesystem::exists(variable)) {                                                                          \
        if (::karmor::testing::skipping_allowed())                                                                     \
            GTEST_SKIP() << "SKIPPED: peer '" << (name) << "' is not in " << peers_bin() << " (scripts/peers.sh)";     \
        FAIL() << "peer '" << (name) << "' is not in " << peers_bin() << ": run scripts/peers.sh";                     \
    }

class Signing : public ::testing::Test {
protected:
    void SetUp() override {
        KARMOR_START_REGISTRY(started, testing::RegistryConfig{});
        registry = std::move(started);
        keys = make_key_pair(dir, "signer");
        other = make_key_pair(dir, "other");
    }

    std::string repo(const std::string& name) const { return registry->address() + "/" + name; }

    // Pushes `policy` to REF and returns the digest.
    Digest push(const std::string& ref, const std::string& policy,
                const std::map<std::string, std::string>& env = {{"SOURCE_DATE_EPOCH", "1000"}}) {
        const auto r = run_karmor({"oci", "push", "-i", ref, "-p", policy, "-q"}, {}, env);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto digest = Digest::parse(first_line(r.out));
        EXPECT_TRUE(digest) << r.out;
        return digest ? *digest : Digest();
    }

    CommandResult sign(const std::string& ref, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"oci", "sign", "-i", ref, "--key", keys.key.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_karmor(args);
    }

    CommandResult verify(const std::string& ref, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"oci", "verify", "-i", ref, "--key", keys.pub.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_karmor(args);
    }

    // Verification must fail with exit code 8 and pull --verify-key must write nothing.
    void expect_refused(const std::string& ref, std::vector<std::string> extra = {}) {
        const auto v = verify(ref, extra);
        EXPECT_EQ(v.exit_code, 8) << "verify " << ref << " was not refused:\n" << v.out << v.err;
        const auto out = dir / ("pulled-" + std::to_string(++pulls));
        std::vector<std::string> args{"oci", "pull", "-i", ref, "-o", out.string(), "--verify-key", keys.pub.string()};
        for (std::size_t i = 0; i < extra.size(); ++i)
            if (extra[i] == "-a") args.insert(args.end(), {"--verify-annotation", extra[++i]});
        const auto p = run_karmor(args);
        EXPECT_EQ(p.exit_code, 8) << "pull --verify-key " << ref << " was not refused:\n" << p.err;
        EXPECT_FALSE(std::filesystem::exists(out)) << "pull wrote " << out << " although verification failed";
    }

    std::unique_ptr<oci::Target> open(const std::string& repository) {
        RemoteOptions remote;
        remote.plain_http = true;
        auto opened = ops::open_target(*Reference::parse(repository), std::nullopt, remote, ops::Access::push);
        EXPECT_TRUE(opened);
        return std::move(opened->target);
    }

    signing::SigningKey signing_key() { return *signing::load_signing_key(keys.key, {}); }

    Descriptor subject_of(oci::Target& target, const Digest& digest) {
        auto fetched = target.fetch_manifest(digest.str());
        EXPECT_TRUE(fetched && *fetched);
        return Descriptor{(*fetched)->manifest.media_type,
                          digest,
                          static_cast<std::int64_t>((*fetched)->bytes.size()),
                          "",
                          {},
                          std::nullopt};
    }

    // Stores a .sig manifest at `signed_digest`'s tag whose `count` layers all carry `payload`
    // with `signature` (base64 of the key's real signature when empty), declared `declared_size` bytes.
    void forge_legacy(oci::Target& target, const Digest& signed_digest, const std::string& payload,
                      std::string signature = {}, std::size_t count = 1, std::int64_t declared_size = -1) {
        Descriptor blob{signing::simple_signing_media_type,
                        Digest::sha256_of(payload),
                        static_cast<std::int64_t>(payload.size()),
                        "",
                        {},
                        std::nullopt};
        ASSERT_TRUE(target.put_blob(blob, payload, {}));
        auto built = signing::append_legacy_signature(std::nullopt, blob, *signing_key().sign(payload));
        if (!signature.empty()) built.manifest.layers[0].annotations[signing::signature_annotation] = signature;
        if (declared_size >= 0) built.manifest.layers[0].size = declared_size;
        built.manifest.layers.assign(count, built.manifest.layers[0]);
        ASSERT_TRUE(target.put_blob(built.config.descriptor, built.config.bytes, {}));
        const auto bytes = oci::serialize_manifest(built.manifest);
        auto stored =
            target.put_manifest(signing::legacy_signature_tag(signed_digest), media_type::oci_manifest, bytes);
        ASSERT_TRUE(stored) << stored.error().message;
    }

    // Stores a bundle referrer of `subject` whose DSSE envelope holds `statement` as
    // `payload_type`, signed with the real key, and lists it in the fallback tag.
    void forge_bundle(oci::Target& target, const Descriptor& subject, const std::string& statement,
                      const std::string& payload_type = signing::in_toto_payload_type) {
        const auto key = signing_key();
        const auto signature = *key.sign(signing::dsse_pae(payload_type, statement));
        nlohmann::ordered_json bundle = {
            {"mediaType", signing::bundle_media_type},
            {"verificationMaterial", {{"publicKey", {{"hint", signing::sigstore_key_hint(key.public_key())}}}}},
            {"dsseEnvelope",
             {{"payload", util::base64_encode(statement)},
              {"payloadType", payload_type},
              {"signatures", {{{"sig", util::base64_encode(signature)}}}}}}};
        const auto bytes = bundle.dump();
        Descriptor blob{signing::bundle_media_type,
                        Digest::sha256_of(bytes),
                        static_cast<std::int64_t>(bytes.size()),
                        "",
                        {},
                        std::nullopt};
        ASSERT_TRUE(target.put_blob(blob, bytes, {}));
        ASSERT_TRUE(target.put_blob(signing::empty_config_descriptor(), signing::empty_config_bytes, {}));
        const auto referrer = signing::make_bundle_referrer(subject, blob, "2026-11-29T00:00:00Z");
        const auto manifest = oci::serialize_manifest(referrer);
        const auto digest = Digest::sha256_of(manifest);
        ASSERT_TRUE(target.put_manifest(digest.str(), media_type::oci_manifest, manifest));
        ASSERT_TRUE(ops::add_to_fallback_tag(
            target, subject.digest,
            ops::referrer_descriptor(referrer, digest, static_cast<std::int64_t>(manifest.size()))));
    }

    TempDir dir;
    std::unique_ptr<testing::LocalRegistry> registry;
    KeyPair keys, other;
    int pulls = 0;
};

TEST_F(Signing, SignedArtifactVerifiesInBothFormatsAndPulls) {
    const auto ref = repo("team/policies") + ":v1";
    const auto digest = push(ref, policy_a);
    const auto s = sign(ref, {"--output", "json"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    const auto signed_json = nlohmann::json::parse(s.out);
    EXPECT_EQ(signed_json["digest"], digest.str());
    ASSERT_EQ(signed_json["signatures"].size(), 2u);

    const auto v = verify(ref, {"--key", other.pub.string(), "--output", "json"});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    const auto report = nlohmann::json::parse(v.out);
    EXPECT_EQ(report["digest"], digest.str());
    std::set<std::string> formats;
    for (const auto& sig : report["signatures"]) {
        EXPECT_TRUE(sig["verified"].get<bool>()) << sig.dump();
        EXPECT_EQ(sig["keys"], nlohmann::json::array({keys.pub.string()})) << "verified under the signer's key only";
        formats.insert(sig["format"].get<std::string>());
    }
    EXPECT_EQ(formats, (std::set<std::string>{"legacy", "bundle"}));

    const auto out = dir / "pulled";
    const auto p = run_karmor({"oci", "pull", "-i", ref, "-o", out.string(), "--verify-key", keys.pub.string()});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-default-block-shell.yaml") || !std::filesystem::is_empty(out));

    // Each format alone is enough.
    for (const auto* format : {"legacy", "bundle"}) {
        const auto other_ref = repo(std::string("only/") + format) + ":v1";
        push(other_ref, policy_a);
        ASSERT_EQ(sign(other_ref, {"--signature-format", format}).exit_code, 0);
        const auto only = verify(other_ref, {"--output", "json"});
        ASSERT_EQ(only.exit_code, 0) << only.err;
        const auto only_report = nlohmann::json::parse(only.out);
        ASSERT_EQ(only_report["signatures"].size(), 1u);
        EXPECT_EQ(only_report["signatures"][0]["format"], format);
    }
}

TEST_F(Signing, SigningTwiceAddsNothingAndAnotherKeyAppends) {
    const auto ref = repo("team/twice") + ":v1";
    const auto digest = push(ref, policy_a);
    ASSERT_EQ(sign(ref).exit_code, 0);
    const auto again = sign(ref, {"--output", "json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const auto again_json = nlohmann::json::parse(again.out);  // alive for the loop
    for (const auto& sig : again_json["signatures"]) EXPECT_TRUE(sig["alreadyPresent"].get<bool>()) << sig.dump();

    ASSERT_EQ(
        run_karmor({"oci", "sign", "-i", ref, "--key", other.key.string(), "--signature-format", "legacy"}).exit_code,
        0);
    auto target = open(repo("team/twice"));
    auto sig = target->fetch_manifest(signing::legacy_signature_tag(digest));
    ASSERT_TRUE(sig && *sig);
    EXPECT_EQ((*sig)->manifest.layers.size(), 2u) << "the second key's signature is appended, the first kept";
    EXPECT_EQ(run_karmor({"oci", "verify", "-i", ref, "--key", other.pub.string()}).exit_code, 0);
}

TEST_F(Signing, PushSignSignsWhatItPushedAlsoWhenNothingChanged) {
    const auto ref = repo("team/pushsign") + ":v1";
    for (int round = 0; round < 2; ++round) {
        const auto r = run_karmor({"oci", "push", "-i", ref, "-p", policy_a, "--sign", keys.key.string()}, {},
                                  {{"SOURCE_DATE_EPOCH", "1000"}});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    EXPECT_EQ(verify(ref).exit_code, 0);
}

TEST_F(Signing, InspectListsSignaturesAndWhichKeyVerifies) {
    const auto ref = repo("team/inspect") + ":v1";
    push(ref, policy_a);
    ASSERT_EQ(sign(ref).exit_code, 0);
    const auto r = run_karmor({"oci", "inspect", "-i", ref, "--key", keys.pub.string(), "--output", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto out = nlohmann::json::parse(r.out);
    ASSERT_EQ(out["signatures"].size(), 2u);
    for (const auto& sig : out["signatures"]) EXPECT_TRUE(sig["verified"].get<bool>()) << sig.dump();
    const auto without = nlohmann::json::parse(run_karmor({"oci", "inspect", "-i", ref, "--output", "json"}).out);
    ASSERT_EQ(without["signatures"].size(), 2u);
    for (const auto& sig : without["signatures"]) EXPECT_FALSE(sig["verified"].get<bool>());
}

TEST_F(Signing, RequiredAnnotationsAndMirrorIdentity) {
    const auto ref = repo("team/annotated") + ":v1";
    push(ref, policy_a);
    ASSERT_EQ(sign(ref, {"-a", "env=prod"}).exit_code, 0);
    EXPECT_EQ(verify(ref, {"-a", "env=prod"}).exit_code, 0);
    expect_refused(ref, {"-a", "env=dev"});
    expect_refused(ref, {"-a", "team=security"});

    // A mirror: same digest in another repository, signed for the original one.
    const auto mirror = repo("mirror/policies") + ":v1";
    push(mirror, policy_a);
    ASSERT_EQ(sign(mirror, {"--signed-identity", repo("team/annotated")}).exit_code, 0);
    EXPECT_EQ(verify(mirror, {"--signed-identity", repo("team/annotated")}).exit_code, 0);
}

TEST_F(Signing, OciLayoutSignsAndVerifiesWithASignedIdentity) {
    const auto layout = (dir / "layout").string() + ":v1";
    ASSERT_EQ(run_karmor({"oci", "push", "--oci-layout", "-i", layout, "-p", policy_a}).exit_code, 0);
    const auto key = keys.key.string();
    const auto pub = keys.pub.string();
    EXPECT_EQ(run_karmor({"oci", "sign", "--oci-layout", "-i", layout, "--key", key}).exit_code, 2)
        << "a layout names no repository: --signed-identity is required";
    ASSERT_EQ(run_karmor({"oci", "sign", "--oci-layout", "-i", layout, "--key", key, "--signed-identity",
                          "registry.example.com/team/policies"})
                  .exit_code,
              0);
    const auto v = run_karmor({"oci", "verify", "--oci-layout", "-i", layout, "--key", pub, "--signed-identity",
                               "registry.example.com/team/policies", "--output", "json"});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_EQ(nlohmann::json::parse(v.out)["signatures"].size(), 2u);
    const auto refused = dir / "refused";
    EXPECT_EQ(run_karmor({"oci", "pull", "--oci-layout", "-i", layout, "-o", refused.string(), "--verify-key", pub,
                          "--signed-identity", "registry.example.com/elsewhere"})
                  .exit_code,
              8);
    EXPECT_FALSE(std::filesystem::exists(refused));
}

// The attacks of issue 13. Each must be refused by verify (exit 8) and by pull --verify-key
// (exit 8, nothing written).

TEST_F(Signing, AttackSignatureForAnotherDigest) {
    const auto repository = repo("attack/digest");
    const auto signed_digest = push(repository + ":signed", policy_a);
    ASSERT_EQ(sign(repository + ":signed").exit_code, 0);
    const auto target_digest = push(repository + ":victim", policy_b);
    auto target = open(repository);
    // The signed artifact's own signatures, stored as if they were the victim's.
    const auto payload = signing::make_simple_signing_payload(repository, signed_digest, {});
    forge_legacy(*target, target_digest, payload);
    forge_bundle(*target, subject_of(*target, target_digest),
                 signing::make_sign_statement(repository, signed_digest, {}));
    expect_refused(repository + ":victim");
}

TEST_F(Signing, AttackSameDigestInAnotherRepository) {
    const auto ref = repo("attack/copy") + ":v1";
    push(ref, policy_a);
    // Signatures made for another repository, beside the same digest here.
    ASSERT_EQ(sign(ref, {"--signed-identity", repo("team/original")}).exit_code, 0);
    expect_refused(ref);
}

TEST_F(Signing, AttackTagMovedAfterSigning) {
    const auto ref = repo("attack/moved") + ":v1";
    const auto signed_digest = push(ref, policy_a);
    ASSERT_EQ(sign(ref).exit_code, 0);
    push(ref, policy_b);
    expect_refused(ref);
    EXPECT_EQ(verify(repo("attack/moved") + "@" + signed_digest.str()).exit_code, 0);
}

TEST_F(Signing, AttackPayloadWithExtraOrMissingFieldOrOtherType) {
    const auto repository = repo("attack/payload");
    const auto digest = push(repository + ":v1", policy_a);
    const std::string critical = R"({"critical":{"identity":{"docker-reference":")" + repository +
                                 R"("},"image":{"docker-manifest-digest":")" + digest.str() + R"("},"type":")";
    const std::vector<std::pair<std::string, std::string>> payloads = {
        {"extra field", critical + R"(cosign container image signature"},"optional":null,"extra":"x"})"},
        {"extra critical field", critical + R"(cosign container image signature","x":1},"optional":null})"},
        {"missing optional", critical + R"(cosign container image signature"}})"},
        {"other type", critical + R"(atomic container signature"},"optional":null})"},
    };
    auto target = open(repository);
    // The unaltered payload verifies: the forgery helper itself is sound.
    forge_legacy(*target, digest, signing::make_simple_signing_payload(repository, digest, {}));
    ASSERT_EQ(verify(repository + ":v1").exit_code, 0);
    for (const auto& [what, payload] : payloads) {
        SCOPED_TRACE(what);
        forge_legacy(*target, digest, payload);
        expect_refused(repository + ":v1");
    }
}

TEST_F(Signing, AttackBundleWithOtherPayloadTypeOrSubject) {
    const auto repository = repo("attack/bundle");
    const auto digest = push(repository + ":v1", policy_a);
    const auto other_digest = push(repository + ":other", policy_b);
    auto target = open(repository);
    const auto subject = subject_of(*target, digest);
    forge_bundle(*target, subject, signing::make_sign_statement(repository, digest, {}), "application/json");
    forge_bundle(*target, subject, signing::make_sign_statement(repository, other_digest, {}));
    forge_bundle(*target, subject,
                 R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" + digest.hex() +
                     R"("}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}})");
    expect_refused(repository + ":v1");
    const auto report = nlohmann::json::parse(
        run_karmor({"oci", "inspect", "-i", repository + ":v1", "--key", keys.pub.string(), "--output", "json"}).out);
    ASSERT_EQ(report["signatures"].size(), 3u);
    std::set<std::string> checks;
    for (const auto& sig : report["signatures"]) checks.insert(sig["failedCheck"].get<std::string>());
    EXPECT_EQ(checks, (std::set<std::string>{"payload", "digest"}));
}

TEST_F(Signing, AttackSignatureManifestWithTenThousandLayersOrAHugeLayer) {
    const auto repository = repo("attack/huge");
    const auto digest = push(repository + ":v1", policy_a);
    auto target = open(repository);
    const auto payload = signing::make_simple_signing_payload(repository, digest, {});
    forge_legacy(*target, digest, payload, {}, 10'000);
    expect_refused(repository + ":v1");
    forge_legacy(*target, digest, payload, {}, 1, 100 * 1024 * 1024);
    expect_refused(repository + ":v1");
}

TEST_F(Signing, AttackSignatureAnnotationThatIsNotBase64) {
    const auto repository = repo("attack/base64");
    const auto digest = push(repository + ":v1", policy_a);
    auto target = open(repository);
    const auto payload = signing::make_simple_signing_payload(repository, digest, {});
    const auto good = util::base64_encode(*signing_key().sign(payload));
    for (const auto& bad : {std::string("%%not base64%%"), good + "\n", good.substr(0, good.size() - 1) + " "}) {
        forge_legacy(*target, digest, payload, bad);
        expect_refused(repository + ":v1");
    }
}

TEST_F(Signing, AttackNoSignatureAtAll) {
    const auto ref = repo("attack/unsigned") + ":v1";
    push(ref, policy_a);
    expect_refused(ref);
}

TEST_F(Signing, AttackKeyNotGiven) {
    const auto ref = repo("attack/key") + ":v1";
    push(ref, policy_a);
    ASSERT_EQ(run_karmor({"oci", "sign", "-i", ref, "--key", other.key.string()}).exit_code, 0);
    expect_refused(ref);
}

// Encrypted keys through the binary: one password source for `key generate`, `sign` and `push
// --sign` (KARMOR_PASSWORD, else COSIGN_PASSWORD, else a no-echo prompt on a terminal).
CommandResult karmor_with_passwords(const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& env) {
    // env(1) unsets first, then sets NAME=VALUE: only `env` counts, whatever the test runner has.
    std::vector<std::string> argv{"env", "-u", "KARMOR_PASSWORD", "-u", "COSIGN_PASSWORD"};
    for (const auto& [name, value] : env) argv.push_back(name + "=" + value);
    argv.push_back(KARMOR_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

TEST_F(Signing, SignsWithAKeyFromKarmorKeyGenerate) {
    const auto ref = repo("password/karmor") + ":v1";
    push(ref, policy_a);
    const auto made =
        run_command({KARMOR_BINARY, "oci", "key", "generate"}, {}, {{"KARMOR_PASSWORD", "karmor pw"}}, dir.path());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto key = (dir / "cosign.key").string(), pub = (dir / "cosign.pub").string();
    const auto signed_now =
        karmor_with_passwords({"oci", "sign", "-i", ref, "--key", key}, {{"KARMOR_PASSWORD", "karmor pw"}});
    ASSERT_EQ(signed_now.exit_code, 0) << signed_now.err;
    EXPECT_EQ(run_karmor({"oci", "verify", "-i", ref, "--key", pub}).exit_code, 0);
}

TEST_F(Signing, SignsWithAKeyFromCosignGenerateKeyPairAndCosignPassword) {
    KARMOR_REQUIRE_PEER(cosign, "cosign");
    const auto ref = repo("password/cosign") + ":v1";
    push(ref, policy_a);
    const auto made =
        run_command({cosign.string(), "generate-key-pair"}, {}, {{"COSIGN_PASSWORD", "cosign pw"}}, dir.path());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto key = (dir / "cosign.key").string(), pub = (dir / "cosign.pub").string();
    const auto signed_now =
        karmor_with_passwords({"oci", "sign", "-i", ref, "--key", key}, {{"COSIGN_PASSWORD", "cosign pw"}});
    ASSERT_EQ(signed_now.exit_code, 0) << signed_now.err;
    EXPECT_EQ(run_karmor({"oci", "verify", "-i", ref, "--key", pub}).exit_code, 0);
}

// A wrong password is a usage error (exit code 2) naming the key; no password and no terminal
// says which variables to set. Nothing is signed either way.
TEST_F(Signing, WrongOrMissingPasswordIsAClearUsageError) {
    const auto ref = repo("password/wrong") + ":v1";
    push(ref, policy_a);
    ASSERT_EQ(run_command({KARMOR_BINARY, "oci", "key", "generate"}, {}, {{"KARMOR_PASSWORD", "right"}}, dir.path())
                  .exit_code,
              0);
    const auto key = (dir / "cosign.key").string();
    const auto wrong = karmor_with_passwords({"oci", "sign", "-i", ref, "--key", key}, {{"KARMOR_PASSWORD", "wrong"}});
    EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
    EXPECT_NE(wrong.err.find("wrong password for " + key), std::string::npos) << wrong.err;
    const auto none = karmor_with_passwords({"oci", "sign", "-i", ref, "--key", key}, {});
    EXPECT_EQ(none.exit_code, 2) << none.err;
    EXPECT_NE(none.err.find("no password for " + key + ": KARMOR_PASSWORD and COSIGN_PASSWORD are not set"),
              std::string::npos)
        << none.err;
    EXPECT_EQ(run_karmor({"oci", "verify", "-i", ref, "--key", (dir / "cosign.pub").string()}).exit_code, 8);
}

// push --sign reads the key first: a wrong password fails before a single byte is sent.
TEST_F(Signing, PushSignWithABadKeyOrPasswordSendsNothing) {
    ASSERT_EQ(run_command({KARMOR_BINARY, "oci", "key", "generate"}, {}, {{"KARMOR_PASSWORD", "right"}}, dir.path())
                  .exit_code,
              0);
    const auto key = (dir / "cosign.key").string();
    const auto ref = repo("password/push") + ":v1";
    const auto before = registry->requests().size();
    const auto wrong = karmor_with_passwords({"oci", "push", "-i", ref, "-p", policy_a, "--sign", key},
                                             {{"KARMOR_PASSWORD", "wrong"}});
    EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
    EXPECT_NE(wrong.err.find("wrong password for " + key), std::string::npos) << wrong.err;
    write_text(dir / "not-a-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    const auto garbage =
        run_karmor({"oci", "push", "-i", ref, "-p", policy_a, "--sign", (dir / "not-a-key.pem").string()});
    EXPECT_NE(garbage.exit_code, 0) << garbage.err;
    const auto requests = registry->requests();
    for (auto i = before; i < requests.size(); ++i)
        EXPECT_EQ(requests[i].rfind("PUT ", 0), std::string::npos)
            << "sent before the key was checked: " << requests[i];
    EXPECT_EQ(requests.size(), before) << "no request at all is needed to find the key unusable";

    const auto right = karmor_with_passwords({"oci", "push", "-i", ref, "-p", policy_a, "--sign", key},
                                             {{"KARMOR_PASSWORD", "right"}});
    ASSERT_EQ(right.exit_code, 0) << right.err;
    EXPECT_EQ(run_karmor({"oci", "verify", "-i", ref, "--key", (dir / "cosign.pub").string()}).exit_code, 0);
}

// A registry that moves the tag right after karmor read it: karmor must pull the digest it
// verified, never read the tag again; and one that serves an unsigned manifest for the tag
// while the signed one is there by digest.
TEST(SigningLyingRegistry, PullsTheVerifiedDigestAndRefusesTheUnsignedTag) {
    testing::ScriptedRegistry registry;
    ASSERT_TRUE(registry.running());
    TempDir dir;
    const auto keys = make_key_pair(dir, "signer");
    const auto repository = registry.address() + "/lie/policies";
    const std::map<std::string, std::string> epoch{{"SOURCE_DATE_EPOCH", "1000"}};
    ASSERT_EQ(
        run_karmor({"oci", "push", "--plain-http", "-i", repository + ":signed", "-p", policy_a}, {}, epoch).exit_code,
        0);
    ASSERT_EQ(
        run_karmor({"oci", "push", "--plain-http", "-i", repository + ":evil", "-p", policy_b}, {}, epoch).exit_code,
        0);
    const auto signed_bytes = *registry.manifest("lie/policies", "signed");
    const auto evil_bytes = *registry.manifest("lie/policies", "evil");
    const auto s =
        run_karmor({"oci", "sign", "--plain-http", "-i", repository + ":signed", "--key", keys.key.string()});
    ASSERT_EQ(s.exit_code, 0) << s.err;

    // Tag v1 holds the signed artifact until it has been read once, then the evil one.
    registry.put_manifest("lie/policies", "v1", media_type::oci_manifest, signed_bytes);
    std::atomic<int> tag_reads{0};
    // The hook runs before the answer: the first read is served the signed manifest and moves
    // the tag only on a second read, which must never come.
    registry.on_request([&](const std::string& method, const std::string& target) {
        if (method == "GET" && target == "/v2/lie/policies/manifests/v1" && ++tag_reads > 1)
            registry.put_manifest("lie/policies", "v1", media_type::oci_manifest, evil_bytes);
    });
    const auto out = dir / "pulled";
    const auto p = run_karmor({"oci", "pull", "--plain-http", "-i", repository + ":v1", "-o", out.string(),
                               "--verify-key", keys.pub.string(), "--output", "json"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_EQ(nlohmann::json::parse(p.out)["digest"], Digest::sha256_of(signed_bytes).str());
    EXPECT_EQ(tag_reads.load(), 1) << "the tag was read again after verification";

    // Now the tag serves the unsigned manifest; the signed one is still there by digest.
    registry.on_request({});
    registry.put_manifest("lie/policies", "v1", media_type::oci_manifest, evil_bytes);
    const auto refused_out = dir / "refused";
    const auto refused = run_karmor({"oci", "pull", "--plain-http", "-i", repository + ":v1", "-o",
                                     refused_out.string(), "--verify-key", keys.pub.string()});
    EXPECT_EQ(refused.exit_code, 8) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(refused_out));
}

// A peer program that serves a registry and prints "listening on 127.0.0.1:PORT".
class PeerRegistry {
public:
    explicit PeerRegistry(const std::filesystem::path& program) {
        const auto out = dir_ / "stdout";
        const auto log = dir_ / "stderr";
        pid_ = fork();
        if (pid_ == 0) {
            std::freopen(out.c_str(), "w", stdout);
            std::freopen(log.c_str(), "w", stderr);
            execl(program.c_str(), program.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        for (int i = 0; i < 1500 && port_ == 0; ++i) {
            const auto text = std::filesystem::exists(out) ? testing::read_text(out) : "";
            if (const auto at = text.find("listening on 127.0.0.1:"); at != std::string::npos)
                port_ = std::atoi(text.c_str() + at + 23);
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ~PeerRegistry() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
    }
    PeerRegistry(const PeerRegistry&) = delete;
    PeerRegistry& operator=(const PeerRegistry&) = delete;
    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string log() const { return testing::read_text(dir_ / "stderr"); }

private:
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

CommandResult cosign(const std::filesystem::path& program, std::vector<std::string> args,
                     const std::filesystem::path& cwd) {
    args.insert(args.begin(), program.string());
    return run_command(args, {}, {{"COSIGN_PASSWORD", "cosign-test-password"}, {"HOME", cwd.string()}}, cwd);
}

const std::vector<std::string> cosign_registry_flags{"--allow-insecure-registry", "--allow-http-registry"};

void expect_cosign_verifies(const std::filesystem::path& program, const std::string& ref, const KeyPair& keys,
                            const std::filesystem::path& cwd) {
    std::vector<std::string> args{"verify", "--key", keys.pub.string(), "--insecure-ignore-tlog"};
    args.insert(args.end(), cosign_registry_flags.begin(), cosign_registry_flags.end());
    args.push_back(ref);
    const auto bundle = cosign(program, args, cwd);
    EXPECT_EQ(bundle.exit_code, 0) << "cosign verify (bundle) refused " << ref << ":\n" << bundle.err;
    EXPECT_NE(bundle.out.find("https://sigstore.dev/cosign/sign/v1"), std::string::npos) << bundle.out;
    args.insert(args.end() - 1, "--new-bundle-format=false");
    const auto legacy = cosign(program, args, cwd);
    EXPECT_EQ(legacy.exit_code, 0) << "cosign verify (legacy) refused " << ref << ":\n" << legacy.err;
    EXPECT_NE(legacy.out.find("cosign container image signature"), std::string::npos) << legacy.out;
}

TEST_F(Signing, CosignV3VerifiesWhatKarmorSignsAndSoDoesOpenssl) {
    KARMOR_REQUIRE_PEER(cosign_program, "cosign");
    const auto repository = repo("interop/karmor-signed");
    const auto digest = push(repository + ":v1", policy_a);
    ASSERT_EQ(sign(repository + ":v1").exit_code, 0);
    expect_cosign_verifies(cosign_program, repository + ":v1", keys, dir.path());

    // The legacy signature is a plain ECDSA-SHA256 signature of the payload bytes.
    auto target = open(repository);
    auto sig = target->fetch_manifest(signing::legacy_signature_tag(digest));
    ASSERT_TRUE(sig && *sig);
    const auto& layer = (*sig)->manifest.layers.at(0);
    write_text(dir / "payload.json", *target->fetch_blob(layer, 65536, {}));
    write_text(dir / "signature.der", *util::base64_decode(layer.annotations.at(signing::signature_annotation)));
    const auto openssl = run_command({"openssl", "dgst", "-sha256", "-verify", keys.pub.string(), "-signature",
                                      (dir / "signature.der").string(), (dir / "payload.json").string()});
    EXPECT_EQ(openssl.exit_code, 0) << openssl.out << openssl.err;
    EXPECT_NE(openssl.out.find("Verified OK"), std::string::npos);
}

// cosign v2.6.4 reads the legacy .sig tag: it accepts karmor's legacy signature. When a bundle
// referrer is there too it switches to the bundle (and then wants a trusted root, which an
// offline key-only check has not), unless told --new-bundle-format=false.
TEST_F(Signing, CosignV2VerifiesKarmorsLegacySignature) {
    KARMOR_REQUIRE_PEER(cosign_v2, "cosign-v2");
    const auto check = [&](const std::string& ref, const std::vector<std::string>& extra,
                           const std::filesystem::path& pub) {
        std::vector<std::string> args{"verify", "--key", pub.string(), "--insecure-ignore-tlog"};
        args.insert(args.end(), cosign_registry_flags.begin(), cosign_registry_flags.end());
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(ref);
        return cosign(cosign_v2, args, dir.path());
    };
    const auto legacy_only = repo("interop/cosign-v2") + ":v1";
    push(legacy_only, policy_a);
    ASSERT_EQ(sign(legacy_only, {"--signature-format", "legacy"}).exit_code, 0);
    const auto verified = check(legacy_only, {}, keys.pub);
    EXPECT_EQ(verified.exit_code, 0) << "cosign v2 refused " << legacy_only << ":\n" << verified.err;
    EXPECT_NE(verified.out.find("cosign container image signature"), std::string::npos) << verified.out;
    EXPECT_NE(verified.out.find(repo("interop/cosign-v2")), std::string::npos) << verified.out;
    // Under another key it refuses: the check is real.
    EXPECT_NE(check(legacy_only, {}, other.pub).exit_code, 0);

    const auto both = repo("interop/cosign-v2-both") + ":v1";
    push(both, policy_b);
    ASSERT_EQ(sign(both).exit_code, 0);
    // With a bundle referrer next to the .sig tag, cosign v2.6.4 reads the bundle (even with
    // --new-bundle-format=false) and wants a trusted root; an empty one (no logs, no CAs) is
    // enough for a key-based bundle with --insecure-ignore-tlog.
    const auto without_root = check(both, {"--new-bundle-format=false"}, keys.pub);
    std::cout << "cosign v2.6.4, .sig tag and bundle present, no trusted root: exit " << without_root.exit_code << "\n"
              << without_root.err;
    write_text(dir / "trusted_root.json",
               R"({"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],)"
               R"("certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]})");
    const auto with_root =
        check(both, {"--new-bundle-format", "--trusted-root", (dir / "trusted_root.json").string()}, keys.pub);
    EXPECT_EQ(with_root.exit_code, 0) << with_root.err;
    EXPECT_NE(with_root.out.find("https://sigstore.dev/cosign/sign/v1"), std::string::npos) << with_root.out;
    EXPECT_NE(check(both, {"--new-bundle-format", "--trusted-root", (dir / "trusted_root.json").string()}, other.pub)
                  .exit_code,
              0);
}

// `oras cp -r` copies referrers (the bundle, listed through the fallback tag on docker-registry)
// but not the .sig tag, which is a tag, not a referrer. At the destination the bundle verifies
// with karmor (the signature names the source repository: --signed-identity) and with cosign;
// the legacy format is gone until the tag is copied too.
TEST_F(Signing, BundleSurvivesOrasCopyAndLegacyNeedsItsTagCopied) {
    KARMOR_REQUIRE_PEER(oras, "oras");
    KARMOR_REQUIRE_PEER(cosign_program, "cosign");
    const auto source = repo("copy/source"), mirror = repo("copy/mirror");
    const auto digest = push(source + ":v1", policy_a);
    ASSERT_EQ(sign(source + ":v1").exit_code, 0);
    const auto copied = run_command(
        {oras.string(), "cp", "-r", "--from-plain-http", "--to-plain-http", source + ":v1", mirror + ":v1"});
    ASSERT_EQ(copied.exit_code, 0) << copied.out << copied.err;

    const auto identity = registry->address() + "/copy/source";
    const auto at_mirror = run_karmor({"oci", "verify", "-i", mirror + ":v1", "--key", keys.pub.string(),
                                       "--signed-identity", identity, "--output", "json"});
    ASSERT_EQ(at_mirror.exit_code, 0) << at_mirror.out << at_mirror.err;
    std::set<std::string> formats;
    const auto mirror_report = nlohmann::json::parse(at_mirror.out);
    for (const auto& s : mirror_report["signatures"])
        if (s["verified"].get<bool>()) formats.insert(s["format"].get<std::string>());
    EXPECT_EQ(formats, std::set<std::string>{"bundle"}) << at_mirror.out;
    // Without --signed-identity the mirror's name is not the signed one: refused.
    EXPECT_EQ(verify(mirror + ":v1").exit_code, 8);

    std::vector<std::string> args{"verify", "--key", keys.pub.string(), "--insecure-ignore-tlog"};
    args.insert(args.end(), cosign_registry_flags.begin(), cosign_registry_flags.end());
    args.push_back(mirror + ":v1");
    const auto cosign_bundle = cosign(cosign_program, args, dir.path());
    EXPECT_EQ(cosign_bundle.exit_code, 0) << cosign_bundle.err;
    args.insert(args.end() - 1, "--new-bundle-format=false");
    EXPECT_NE(cosign(cosign_program, args, dir.path()).exit_code, 0) << "the .sig tag was not expected at the mirror";

    // Copying the .sig tag brings the legacy signature along.
    const auto sig_tag = signing::legacy_signature_tag(digest);
    const auto tag_copied = run_command(
        {oras.string(), "cp", "--from-plain-http", "--to-plain-http", source + ":" + sig_tag, mirror + ":" + sig_tag});
    ASSERT_EQ(tag_copied.exit_code, 0) << tag_copied.err;
    EXPECT_EQ(cosign(cosign_program, args, dir.path()).exit_code, 0);
    const auto both = run_karmor({"oci", "verify", "-i", mirror + ":v1", "--key", keys.pub.string(),
                                  "--signed-identity", identity, "--output", "json"});
    ASSERT_EQ(both.exit_code, 0) << both.err;
    formats.clear();
    const auto both_report = nlohmann::json::parse(both.out);
    for (const auto& s : both_report["signatures"])
        if (s["verified"].get<bool>()) formats.insert(s["format"].get<std::string>());
    EXPECT_EQ(formats, (std::set<std::string>{"bundle", "legacy"})) << both.out;
}

// Sigstore's JavaScript verifier (@sigstore/verify, scripts/peers.sh) checks the bundle karmor
// stored, read back from the registry, offline with only the public key as trust material; and
// refuses it once the statement is changed or the key is another.
TEST_F(Signing, SigstoreJsVerifiesKarmorsBundleOffline) {
    KARMOR_REQUIRE_PEER(sigstore_verify, "sigstore-verify");
    const auto repository = repo("interop/sigstore-js");
    const auto digest = push(repository + ":v1", policy_a);
    ASSERT_EQ(sign(repository + ":v1", {"--signature-format", "bundle"}).exit_code, 0);

    auto target = open(repository);
    auto listing = ops::find_referrers(*target, digest, signing::bundle_media_type);
    ASSERT_TRUE(listing) << listing.error().message;
    ASSERT_EQ(listing->referrers.size(), 1u);
    auto referrer = target->fetch_manifest(listing->referrers[0].digest.str());
    ASSERT_TRUE(referrer && *referrer);
    auto bytes = target->fetch_blob((*referrer)->manifest.layers.at(0), signing::max_bundle_bytes, {});
    ASSERT_TRUE(bytes);
    write_text(dir / "bundle.json", *bytes);

    const auto accepted = run_command({sigstore_verify.string(), (dir / "bundle.json").string(), keys.pub.string()});
    ASSERT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
    EXPECT_NE(accepted.out.find("verified application/vnd.in-toto+json"), std::string::npos) << accepted.out;
    EXPECT_NE(accepted.out.find("subject " + digest.str()), std::string::npos) << accepted.out;

    EXPECT_NE(run_command({sigstore_verify.string(), (dir / "bundle.json").string(), other.pub.string()}).exit_code, 0)
        << "accepted under a key that did not sign";

    // The same envelope with a statement for another digest, the signature kept.
    auto tampered = nlohmann::json::parse(*bytes);
    auto statement =
        nlohmann::json::parse(*util::base64_decode(tampered["dsseEnvelope"]["payload"].get<std::string>()));
    statement["subject"][0]["digest"]["sha256"] = std::string(64, 'a');
    tampered["dsseEnvelope"]["payload"] = util::base64_encode(statement.dump());
    write_text(dir / "tampered.json", tampered.dump());
    const auto refused = run_command({sigstore_verify.string(), (dir / "tampered.json").string(), keys.pub.string()});
    EXPECT_EQ(refused.exit_code, 1) << refused.out;
    EXPECT_NE(refused.err.find("SIGNATURE_ERROR"), std::string::npos) << refused.err;
}

TEST(SigningReferrersRegistry, CosignV3VerifiesWhatKarmorSignsThroughTheReferrersApi) {
    KARMOR_REQUIRE_PEER(cosign_program, "cosign");
    KARMOR_REQUIRE_PEER(registry_program, "referrers-registry");
    PeerRegistry registry(registry_program);
    ASSERT_NE(registry.port(), 0) << "referrers-registry did not start: " << registry.log();
    TempDir dir;
    const auto keys = make_key_pair(dir, "signer");
    const auto ref = registry.address() + "/interop/referrers:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", ref, "-p", policy_a}).exit_code, 0);
    const auto s = run_karmor({"oci", "sign", "-i", ref, "--key", keys.key.string(), "--output", "json"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    const auto signed_json = nlohmann::json::parse(s.out);  // alive for the loop
    for (const auto& sig : signed_json["signatures"])
        if (sig["format"] == "bundle") {
            EXPECT_EQ(sig["indexing"], "referrers API");
        }
    expect_cosign_verifies(cosign_program, ref, keys, dir.path());
    const auto v = run_karmor({"oci", "verify", "-i", ref, "--key", keys.pub.string(), "--output", "json"});
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_EQ(nlohmann::json::parse(v.out)["signatures"].size(), 2u);
}

TEST_F(Signing, KarmorVerifiesAndPullsWhatCosignV3Signs) {
    KARMOR_REQUIRE_PEER(cosign_program, "cosign");
    ASSERT_EQ(cosign(cosign_program, {"generate-key-pair"}, dir.path()).exit_code, 0);
    const auto cosign_pub = (dir / "cosign.pub").string();
    const std::vector<std::string> sign_flags{"sign",
                                              "--key",
                                              (dir / "cosign.key").string(),
                                              "--use-signing-config=false",
                                              "--tlog-upload=false",
                                              "-y",
                                              "--allow-insecure-registry",
                                              "--allow-http-registry"};
    for (const auto* format : {"bundle", "legacy"}) {
        SCOPED_TRACE(format);
        const auto ref = repo(std::string("interop/cosign-") + format) + ":v1";
        push(ref, policy_a);
        auto args = sign_flags;
        if (std::string(format) == "legacy") args.push_back("--new-bundle-format=false");
        args.insert(args.end(), {"-a", "env=prod", ref});
        const auto c = cosign(cosign_program, args, dir.path());
        ASSERT_EQ(c.exit_code, 0) << c.err;

        const auto v =
            run_karmor({"oci", "verify", "-i", ref, "--key", cosign_pub, "-a", "env=prod", "--output", "json"});
        ASSERT_EQ(v.exit_code, 0) << v.err;
        const auto report = nlohmann::json::parse(v.out);
        ASSERT_EQ(report["signatures"].size(), 1u);
        EXPECT_EQ(report["signatures"][0]["format"], format);
        EXPECT_TRUE(report["signatures"][0]["verified"].get<bool>());

        const auto out = dir / (std::string("pulled-") + format);
        const auto p = run_karmor({"oci", "pull", "-i", ref, "-o", out.string(), "--verify-key", cosign_pub});
        EXPECT_EQ(p.exit_code, 0) << p.err;
        EXPECT_TRUE(std::filesystem::exists(out));
        EXPECT_EQ(run_karmor({"oci", "verify", "-i", ref, "--key", keys.pub.string()}).exit_code, 8);
    }
}

// Issue 13's goal: at most 4 requests per format for sign, 3 for verify. Measured from the
// registry's access log; the bounds below are what karmor does today, and why the goal is out of
// reach with these formats on docker-registry is in docs/signing.md ("Requests").
TEST_F(Signing, RequestCountsOfSignAndVerify) {
    const auto ref = repo("count/policies") + ":v1";
    push(ref, policy_a);
    const auto count = [&] { return registry->requests().size(); };
    auto before = count();
    ASSERT_EQ(sign(ref, {"--signature-format", "legacy"}).exit_code, 0);
    const auto legacy = count() - before;
    before = count();
    ASSERT_EQ(sign(ref, {"--signature-format", "bundle"}).exit_code, 0);
    const auto bundle = count() - before;
    before = count();
    ASSERT_EQ(verify(ref).exit_code, 0);
    const auto verify_both = count() - before;
    std::cout << "requests: sign legacy " << legacy << ", sign bundle " << bundle << ", verify both formats "
              << verify_both << " (docker-registry, no referrers API)\n";
    RecordProperty("sign_legacy_requests", static_cast<int>(legacy));
    RecordProperty("sign_bundle_requests", static_cast<int>(bundle));
    RecordProperty("verify_requests", static_cast<int>(verify_both));
    EXPECT_LE(legacy, 7u);
    EXPECT_LE(bundle, 12u);  // 11 once the repository has the empty config
    EXPECT_LE(verify_both, 7u);

    // Signing again with the same key: nothing is written, only read.
    before = count();
    ASSERT_EQ(sign(ref).exit_code, 0);
    const auto again = count() - before;
    const auto requests = registry->requests();
    for (auto i = before; i < requests.size(); ++i)
        EXPECT_TRUE(requests[i].rfind("GET ", 0) == 0 || requests[i].rfind("HEAD ", 0) == 0) << requests[i];
    std::cout << "requests: sign both formats again (already signed) " << again << "\n";
    EXPECT_LE(again, 6u);  // resolve; the .sig tag; the referrers (2); the bundle's manifest and blob

    // Another key's bundle: the empty config is known from the bundle already read, no HEAD.
    before = count();
    ASSERT_EQ(
        run_karmor({"oci", "sign", "-i", ref, "--key", other.key.string(), "--signature-format", "bundle"}).exit_code,
        0);
    const auto second_bundle = count() - before;
    std::cout << "requests: a second key's bundle " << second_bundle << "\n";
    EXPECT_LE(second_bundle, 11u);
    const auto after = registry->requests();
    for (auto i = before; i < after.size(); ++i)
        EXPECT_NE(after[i].rfind("HEAD ", 0), 0u) << "the empty config was asked for again: " << after[i];
}

}  // namespace
}  // namespace karmor
