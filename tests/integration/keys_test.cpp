// Keys (SPEC §9 "Keys"): `karmor oci key generate` through the binary, and cosign v3.1.2 and
// karmor using each other's keys: cosign signs with a key karmor generated, karmor signs with
// a key cosign generated, and each side verifies the other's signature.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "signing/keys.hpp"
#include "support/process.hpp"
#include "util/encoding.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::write_text;

// cosign from the peers cache: $KARMOR_PEERS_BIN, else ~/.cache/karmor-peers/bin (scripts/peers.sh).
// A local lookup until tests/support/peers.hpp (KARMOR_REQUIRE_PEER) is on main.
std::optional<std::filesystem::path> find_cosign() {
    std::filesystem::path bin;
    if (const char* dir = std::getenv("KARMOR_PEERS_BIN"); dir && *dir)
        bin = dir;
    else if (const char* home = std::getenv("HOME"))
        bin = std::filesystem::path(home) / ".cache" / "karmor-peers" / "bin";
    const auto cosign = bin / "cosign";
    if (bin.empty() || access(cosign.c_str(), X_OK) != 0) return std::nullopt;
    return cosign;
}

#define KARMOR_REQUIRE_COSIGN(variable)                                                                                \
    std::filesystem::path variable;                                                                                    \
    do {                                                                                                               \
        const auto karmor_found_ = find_cosign();                                                                      \
        if (!karmor_found_) {                                                                                          \
            if (::karmor::testing::skipping_allowed() || std::getenv("KARMOR_SKIP_PEERS"))                             \
                GTEST_SKIP() << "SKIPPED: cosign is not in KARMOR_PEERS_BIN; run scripts/peers.sh";                    \
            FAIL() << "cosign v3.1.2 is not in KARMOR_PEERS_BIN (default ~/.cache/karmor-peers/bin): run "             \
                      "scripts/peers.sh";                                                                              \
        }                                                                                                              \
        variable = *karmor_found_;                                                                                     \
    } while (0)

signing::PasswordSource password_is(const std::string& password) {
    return [password](bool) -> Result<std::string> { return password; };
}

mode_t file_mode(const std::filesystem::path& file) {
    struct stat status {};
    EXPECT_EQ(::stat(file.c_str(), &status), 0) << file;
    return status.st_mode & 07777;
}

// cosign with its state (~/.sigstore) inside the test's directory, and never a network call:
// no signing config from TUF, no transparency log.
CommandResult run_cosign(const std::filesystem::path& cosign, std::vector<std::string> args, const TempDir& work,
                         std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), cosign.string());
    env["HOME"] = work.path().string();
    return run_command(args, {}, env, work.path());
}

CommandResult cosign_sign_blob(const std::filesystem::path& cosign, const TempDir& work, const std::string& key,
                               const std::string& password, const std::string& bundle) {
    return run_cosign(
        cosign,
        {"sign-blob", "--key", key, "--use-signing-config=false", "--tlog-upload=false", "--bundle", bundle, "blob"},
        work, {{"COSIGN_PASSWORD", password}});
}

// A Sigstore bundle holding a plain message signature over `blob`, as cosign sign-blob writes
// it, so that `cosign verify-blob --bundle` checks a signature karmor made.
std::string message_signature_bundle(const std::string& blob, const std::string& der_signature) {
    nlohmann::ordered_json bundle;
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json";
    bundle["verificationMaterial"]["publicKey"]["hint"] = "";
    bundle["messageSignature"]["messageDigest"]["algorithm"] = "SHA2_256";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(blob.data()), blob.size(), digest);
    bundle["messageSignature"]["messageDigest"]["digest"] =
        util::base64_encode(std::string(reinterpret_cast<const char*>(digest), sizeof digest));
    bundle["messageSignature"]["signature"] = util::base64_encode(der_signature);
    return bundle.dump();
}

std::string bundle_signature(const std::filesystem::path& bundle) {
    const auto json = nlohmann::json::parse(read_text(bundle));
    return *util::base64_decode(json.at("messageSignature").at("signature").get<std::string>());
}

TEST(KeysInterop, KeyFromCosignGenerateKeyPairSignsForKarmor) {
    KARMOR_REQUIRE_COSIGN(cosign);
    TempDir work;
    const std::string blob = "a policy artifact's payload\n";
    write_text(work / "blob", blob);
    auto generated = run_cosign(cosign, {"generate-key-pair"}, work, {{"COSIGN_PASSWORD", "cosign pw"}});
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
    ASSERT_NE(read_text(work / "cosign.key").find("BEGIN ENCRYPTED SIGSTORE PRIVATE KEY"), std::string::npos);

    auto key = signing::load_signing_key(work / "cosign.key", password_is("cosign pw"));
    ASSERT_TRUE(key) << key.error().message;
    auto public_key = signing::load_public_key(work / "cosign.pub");
    ASSERT_TRUE(public_key) << public_key.error().message;
    EXPECT_EQ(key->public_key().pem(), public_key->pem()) << "the key karmor decrypted is the one cosign made";

    // karmor signs; cosign verifies with its own public key.
    auto signature = key->sign(blob);
    ASSERT_TRUE(signature);
    write_text(work / "karmor.bundle", message_signature_bundle(blob, *signature));
    auto verified = run_cosign(
        cosign,
        {"verify-blob", "--key", "cosign.pub", "--bundle", "karmor.bundle", "--insecure-ignore-tlog=true", "blob"},
        work);
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    EXPECT_NE(verified.err.find("Verified OK"), std::string::npos) << verified.err;
    // The check can fail: cosign refuses the same signature over other bytes.
    write_text(work / "other", "another payload\n");
    auto refused = run_cosign(
        cosign,
        {"verify-blob", "--key", "cosign.pub", "--bundle", "karmor.bundle", "--insecure-ignore-tlog=true", "other"},
        work);
    EXPECT_NE(refused.exit_code, 0);

    // cosign signs; karmor verifies with the public key cosign wrote.
    auto signed_blob = cosign_sign_blob(cosign, work, "cosign.key", "cosign pw", "cosign.bundle");
    ASSERT_EQ(signed_blob.exit_code, 0) << signed_blob.err;
    EXPECT_TRUE(public_key->verify(blob, bundle_signature(work / "cosign.bundle")));
    EXPECT_FALSE(public_key->verify("another payload\n", bundle_signature(work / "cosign.bundle")));

    auto wrong = signing::load_signing_key(work / "cosign.key", password_is("not it"));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().message, "wrong password for " + (work / "cosign.key").string() + " (or a corrupt key)");
}

TEST(KeysInterop, KeyFromKarmorKeyGenerateSignsForCosign) {
    KARMOR_REQUIRE_COSIGN(cosign);
    TempDir work;
    const std::string blob = "signed by cosign with karmor's key\n";
    write_text(work / "blob", blob);
    auto generated = run_command({KARMOR_BINARY, "oci", "key", "generate", "--output-key-prefix", "release"}, {},
                                 {{"KARMOR_PASSWORD", "karmor pw"}}, work.path());
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
    EXPECT_EQ(generated.out, "release.key\nrelease.pub\n");
    EXPECT_EQ(file_mode(work / "release.key"), 0600u);
    EXPECT_EQ(file_mode(work / "release.pub"), 0644u);

    // Not a format OpenSSL reads: the key is in cosign's envelope, not a plain PEM key.
    if (testing::find_program("openssl")) {
        auto openssl = run_command({"openssl", "pkey", "-in", "release.key", "-noout", "-passin", "pass:karmor pw"}, {},
                                   {}, work.path());
        EXPECT_NE(openssl.exit_code, 0) << openssl.out;
    }

    auto signed_blob = cosign_sign_blob(cosign, work, "release.key", "karmor pw", "cosign.bundle");
    ASSERT_EQ(signed_blob.exit_code, 0) << signed_blob.err;
    auto public_key = signing::load_public_key(work / "release.pub");
    ASSERT_TRUE(public_key) << public_key.error().message;
    EXPECT_TRUE(public_key->verify(blob, bundle_signature(work / "cosign.bundle")));
    EXPECT_FALSE(public_key->verify(blob + "x", bundle_signature(work / "cosign.bundle")));

    auto verified = run_cosign(
        cosign,
        {"verify-blob", "--key", "release.pub", "--bundle", "cosign.bundle", "--insecure-ignore-tlog=true", "blob"},
        work);
    EXPECT_EQ(verified.exit_code, 0) << verified.err;

    // The password really protects the key: cosign cannot open it with another one.
    auto wrong = cosign_sign_blob(cosign, work, "release.key", "other pw", "wrong.bundle");
    EXPECT_NE(wrong.exit_code, 0);
    EXPECT_NE(wrong.err.find("decrypt"), std::string::npos) << wrong.err;
}

// cosign import-key-pair re-encrypts any PEM key in its format: the P-256 one is read (and is
// the same key as the unencrypted original), the P-384 one is refused by its curve.
TEST(KeysInterop, KeysCosignImportedAreReadOrRefusedByName) {
    KARMOR_REQUIRE_COSIGN(cosign);
    KARMOR_REQUIRE_PROGRAM("openssl");
    TempDir work;
    for (const std::string curve : {"P-256", "P-384"}) {
        auto made = run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + curve,
                                 "-out", curve + ".pem"},
                                {}, {}, work.path());
        ASSERT_EQ(made.exit_code, 0) << made.err;
        auto imported = run_cosign(cosign, {"import-key-pair", "--key", curve + ".pem", "--output-key-prefix", curve},
                                   work, {{"COSIGN_PASSWORD", "imported"}});
        ASSERT_EQ(imported.exit_code, 0) << imported.err;
    }
    auto p256 = signing::load_signing_key(work / "P-256.key", password_is("imported"));
    ASSERT_TRUE(p256) << p256.error().message;
    auto original = signing::load_signing_key(work / "P-256.pem", {});
    ASSERT_TRUE(original) << original.error().message;
    EXPECT_EQ(p256->public_key().pem(), original->public_key().pem());
    EXPECT_EQ(p256->public_key().pem(), read_text(work / "P-256.pub"));

    auto p384 = signing::load_signing_key(work / "P-384.key", password_is("imported"));
    ASSERT_FALSE(p384);
    EXPECT_NE(p384.error().message.find("is an ECDSA key on curve secp384r1, not P-256"), std::string::npos)
        << p384.error().message;
    // Verifying takes every key type cosign verifies with (issue 24): a P-384 public key is read.
    auto p384_public = signing::load_public_key(work / "P-384.pub");
    EXPECT_TRUE(p384_public) << p384_public.error().message;
}

TEST(KeysInterop, KarmorPasswordComesBeforeCosignPassword) {
    KARMOR_REQUIRE_COSIGN(cosign);
    TempDir work;
    write_text(work / "blob", "x");
    auto both = run_command({KARMOR_BINARY, "oci", "key", "generate", "--output-key-prefix", "both"}, {},
                            {{"KARMOR_PASSWORD", "first"}, {"COSIGN_PASSWORD", "second"}}, work.path());
    ASSERT_EQ(both.exit_code, 0) << both.err;
    EXPECT_EQ(cosign_sign_blob(cosign, work, "both.key", "first", "a.bundle").exit_code, 0);
    EXPECT_NE(cosign_sign_blob(cosign, work, "both.key", "second", "b.bundle").exit_code, 0);
}

TEST(KeyGenerate, CosignPasswordIsUsedWithoutKarmorPassword) {
    TempDir work;
    // An empty KARMOR_PASSWORD would count as set: run without it through env -u.
    auto generated = run_command({"env", "-u", "KARMOR_PASSWORD", KARMOR_BINARY, "oci", "key", "generate"}, {},
                                 {{"COSIGN_PASSWORD", "from cosign's variable"}}, work.path());
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
    EXPECT_EQ(generated.out, "cosign.key\ncosign.pub\n");
    EXPECT_TRUE(signing::load_signing_key(work / "cosign.key", password_is("from cosign's variable")));
}

TEST(KeyGenerate, NoPasswordAndNoTerminalIsAClearError) {
    TempDir work;
    auto generated =
        run_command({"env", "-u", "KARMOR_PASSWORD", "-u", "COSIGN_PASSWORD", KARMOR_BINARY, "oci", "key", "generate"},
                    {}, {}, work.path());
    EXPECT_EQ(generated.exit_code, 2);
    EXPECT_NE(generated.err.find("no password for cosign.key: KARMOR_PASSWORD and COSIGN_PASSWORD are not set and "
                                 "standard input is not a terminal"),
              std::string::npos)
        << generated.err;
    EXPECT_FALSE(std::filesystem::exists(work / "cosign.key"));
}

TEST(KeyGenerate, ExistingFilesAreKeptWithoutForce) {
    TempDir work;
    write_text(work / "mine.pub", "someone's public key\n");
    const std::map<std::string, std::string> env = {{"KARMOR_PASSWORD", "pw"}};
    auto refused =
        run_command({KARMOR_BINARY, "oci", "key", "generate", "--output-key-prefix", "mine"}, {}, env, work.path());
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("mine.pub already exists; not overwritten"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--force"), std::string::npos);
    EXPECT_EQ(read_text(work / "mine.pub"), "someone's public key\n");
    EXPECT_FALSE(std::filesystem::exists(work / "mine.key")) << "nothing is written when one file is refused";

    auto forced = run_command({KARMOR_BINARY, "oci", "key", "generate", "--output-key-prefix", "mine", "--force"}, {},
                              env, work.path());
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    auto key = signing::load_signing_key(work / "mine.key", password_is("pw"));
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(read_text(work / "mine.pub"), key->public_key().pem());
    // No temporary files left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(work.path())) ++entries;
    EXPECT_EQ(entries, 2u);
}

TEST(KeyGenerate, MissingDirectoryIsAnIoError) {
    TempDir work;
    auto generated = run_command({KARMOR_BINARY, "oci", "key", "generate", "--output-key-prefix", "no/such/dir/k"}, {},
                                 {{"KARMOR_PASSWORD", "pw"}}, work.path());
    EXPECT_EQ(generated.exit_code, 7);
    EXPECT_NE(generated.err.find("cannot write no/such/dir/k.key"), std::string::npos) << generated.err;
}

// The prompt on a terminal: `script` runs karmor on a pseudo-terminal fed from our input.
CommandResult generate_on_terminal(const TempDir& work, const std::string& typed, const std::string& prefix) {
    const std::string command = std::string(KARMOR_BINARY) + " oci key generate --output-key-prefix " + prefix;
    return run_command(
        {"env", "-u", "KARMOR_PASSWORD", "-u", "COSIGN_PASSWORD", "script", "-qec", command, "/dev/null"}, typed, {},
        work.path());
}

TEST(KeyGenerate, TerminalPromptAsksTwice) {
    KARMOR_REQUIRE_PROGRAM("script");
    TempDir work;
    auto generated = generate_on_terminal(work, "typed pw\ntyped pw\n", "tty");
    ASSERT_EQ(generated.exit_code, 0) << generated.out << generated.err;
    EXPECT_NE(generated.out.find("Enter password for private key tty.key: "), std::string::npos) << generated.out;
    EXPECT_NE(generated.out.find("Enter password for private key tty.key again: "), std::string::npos);
    EXPECT_TRUE(signing::load_signing_key(work / "tty.key", password_is("typed pw")));
    EXPECT_FALSE(signing::load_signing_key(work / "tty.key", password_is("typed pw\n")));

    auto differ = generate_on_terminal(work, "one\ntwo\n", "differ");
    EXPECT_EQ(differ.exit_code, 2);
    EXPECT_NE(differ.out.find("the two passwords differ"), std::string::npos) << differ.out;
    EXPECT_FALSE(std::filesystem::exists(work / "differ.key"));

    auto closed = generate_on_terminal(work, "only once\n", "closed");
    EXPECT_EQ(closed.exit_code, 2);
    EXPECT_NE(closed.out.find("end of input"), std::string::npos) << closed.out;
    EXPECT_FALSE(std::filesystem::exists(work / "closed.key"));

    auto kept = generate_on_terminal(work, "n\n", "tty");
    EXPECT_EQ(kept.exit_code, 2);
    EXPECT_NE(kept.out.find("File tty.key already exists. Overwrite (y/N)?"), std::string::npos) << kept.out;
    EXPECT_TRUE(signing::load_signing_key(work / "tty.key", password_is("typed pw"))) << "the old key is kept";
}

}  // namespace
}  // namespace karmor
