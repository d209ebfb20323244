// Private and public keys (SPEC §9 "Keys"): cosign's encrypted format both ways, the unencrypted
// PEM formats, and a clear refusal of every key or file that is not an ECDSA P-256 key.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "signing/encrypted_key.hpp"
#include "signing/keys.hpp"
#include "util/encoding.hpp"

namespace karmor::signing {
namespace {

const std::string sigstore_label = "ENCRYPTED SIGSTORE PRIVATE KEY";

PasswordSource password_is(const std::string& password, int* calls = nullptr) {
    return [password, calls](bool confirm) -> Result<std::string> {
        EXPECT_FALSE(confirm) << "loading a key asks for the password once";
        if (calls) ++*calls;
        return password;
    };
}

PasswordSource never_asked() {
    return [](bool) -> Result<std::string> {
        ADD_FAILURE() << "the password was asked for a key that is not encrypted";
        return std::string();
    };
}

struct Pem {
    std::string label;
    std::string body;
};

Pem pem_decode(const std::string& text) {
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    Pem pem;
    if (PEM_read_bio(bio, &name, &header, &data, &length) == 1) {
        pem.label = name;
        pem.body.assign(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    return pem;
}

std::string pem_encode(const std::string& label, const std::string& body) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio(bio, label.c_str(), "", reinterpret_cast<const unsigned char*>(body.data()),
                  static_cast<long>(body.size()));
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
}

// A key made by OpenSSL directly, written as `format`: "pkcs8", "sec1", or "pkcs8-der" (bytes).
std::string key_text(const char* algorithm, const char* parameter, const std::string& format) {
    EVP_PKEY* key = nullptr;
    if (std::string(algorithm) == "RSA")
        key = EVP_RSA_gen(2048);
    else if (std::string(algorithm) == "ED25519")
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    else
        key = EVP_EC_gen(parameter);
    EXPECT_NE(key, nullptr);
    std::string text;
    if (format == "pkcs8-der") {
        unsigned char* der = nullptr;
        PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
        const int size = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
        text.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
        OPENSSL_free(der);
        PKCS8_PRIV_KEY_INFO_free(info);
    } else {
        BIO* bio = BIO_new(BIO_s_mem());
        if (format == "sec1")
            PEM_write_bio_PrivateKey_traditional(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        else
            PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        text.assign(data, static_cast<std::size_t>(size));
        BIO_free(bio);
    }
    EVP_PKEY_free(key);
    return text;
}

// A cosign-format key of `der` under `password`, its envelope JSON changed by `edit` first.
std::string cosign_key(const std::string& der, const std::string& password,
                       const std::function<void(nlohmann::json&)>& edit = {}) {
    auto envelope = seal_with_password(der, password);
    EXPECT_TRUE(envelope) << envelope.error().message;
    auto json = nlohmann::json::parse(*envelope);
    if (edit) edit(json);
    return pem_encode(sigstore_label, json.dump());
}

// One P-256 key sealed under "pw", made once: scrypt is slow on purpose, and most cases only
// change the envelope around it.
std::string sealed_p256(const std::function<void(nlohmann::json&)>& edit) {
    static const std::string envelope = *seal_with_password(key_text("EC", "P-256", "pkcs8-der"), "pw");
    auto json = nlohmann::json::parse(envelope);
    edit(json);
    return pem_encode(sigstore_label, json.dump());
}

class SigningKeys : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto generated = generate_key_pair("correct horse");
        ASSERT_TRUE(generated) << generated.error().message;
        pair_ = new GeneratedKeyPair(std::move(*generated));
    }
    static void TearDownTestSuite() { delete pair_; }
    static const GeneratedKeyPair& pair() { return *pair_; }

private:
    static inline GeneratedKeyPair* pair_ = nullptr;
};

TEST_F(SigningKeys, GeneratedKeyIsCosignsEncryptedFormat) {
    const auto pem = pem_decode(pair().private_pem);
    EXPECT_EQ(pem.label, sigstore_label);
    const auto envelope = nlohmann::json::parse(pem.body);
    EXPECT_EQ(envelope["kdf"]["name"], "scrypt");
    EXPECT_EQ(envelope["kdf"]["params"], nlohmann::json::parse(R"({"N":65536,"r":8,"p":1})"));
    EXPECT_EQ(util::base64_decode(envelope["kdf"]["salt"].get<std::string>())->size(), 32u);
    EXPECT_EQ(envelope["cipher"]["name"], "nacl/secretbox");
    EXPECT_EQ(util::base64_decode(envelope["cipher"]["nonce"].get<std::string>())->size(), 24u);
    // The DER PKCS#8 of a P-256 key is about 138 bytes, plus the 16-byte MAC.
    EXPECT_GT(util::base64_decode(envelope["ciphertext"].get<std::string>())->size(), 100u);
    EXPECT_EQ(pem_decode(pair().public_pem).label, "PUBLIC KEY");
}

TEST_F(SigningKeys, EveryGeneratedKeyHasItsOwnSaltAndNonce) {
    auto other = generate_key_pair("correct horse");
    ASSERT_TRUE(other);
    const auto a = nlohmann::json::parse(pem_decode(pair().private_pem).body);
    const auto b = nlohmann::json::parse(pem_decode(other->private_pem).body);
    EXPECT_NE(a["kdf"]["salt"], b["kdf"]["salt"]);
    EXPECT_NE(a["cipher"]["nonce"], b["cipher"]["nonce"]);
    EXPECT_NE(pair().public_pem, other->public_pem);
}

TEST_F(SigningKeys, GeneratedKeyLoadsWithItsPasswordAndSignsForItsPublicKey) {
    int calls = 0;
    auto key = parse_signing_key(pair().private_pem, "release.key", password_is("correct horse", &calls));
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(key->public_key().pem(), pair().public_pem);
    auto public_key = parse_public_key(pair().public_pem, "release.pub");
    ASSERT_TRUE(public_key) << public_key.error().message;
    auto signature = key->sign("payload");
    ASSERT_TRUE(signature);
    EXPECT_TRUE(public_key->verify("payload", *signature));
    EXPECT_FALSE(public_key->verify("payload!", *signature));
}

TEST_F(SigningKeys, OlderCosignLabelIsReadToo) {
    const auto older = pem_encode("ENCRYPTED COSIGN PRIVATE KEY", pem_decode(pair().private_pem).body);
    auto key = parse_signing_key(older, "old.key", password_is("correct horse"));
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->public_key().pem(), pair().public_pem);
}

TEST_F(SigningKeys, WrongPasswordIsNamed) {
    auto key = parse_signing_key(pair().private_pem, "release.key", password_is("correct horse "));
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().kind, ErrorKind::usage);
    EXPECT_EQ(key.error().message, "wrong password for release.key (or a corrupt key)");
}

TEST_F(SigningKeys, PasswordSourceErrorIsPassedOn) {
    PasswordSource refusing = [](bool) -> Result<std::string> {
        return unexpected(Error(ErrorKind::usage, "no password: not a terminal"));
    };
    auto key = parse_signing_key(pair().private_pem, "release.key", refusing);
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().message, "no password: not a terminal");
    auto without = parse_signing_key(pair().private_pem, "release.key", PasswordSource());
    ASSERT_FALSE(without);
    EXPECT_NE(without.error().message.find("encrypted and no password"), std::string::npos);
}

TEST_F(SigningKeys, TruncatedKeyFileIsRefused) {
    const auto& text = pair().private_pem;
    for (const std::size_t keep : {text.size() / 2, text.size() - 40, std::size_t{50}}) {
        auto key = parse_signing_key(text.substr(0, keep), "cut.key", never_asked());
        ASSERT_FALSE(key) << "kept " << keep;
        EXPECT_NE(key.error().message.find("cut.key is not a complete cosign encrypted key"), std::string::npos)
            << key.error().message;
    }
}

TEST_F(SigningKeys, TamperedCiphertextIsRefused) {
    auto json = nlohmann::json::parse(pem_decode(pair().private_pem).body);
    auto ciphertext = *util::base64_decode(json["ciphertext"].get<std::string>());
    ciphertext[ciphertext.size() / 2] = static_cast<char>(ciphertext[ciphertext.size() / 2] ^ 1);
    json["ciphertext"] = util::base64_encode(ciphertext);
    auto key = parse_signing_key(pem_encode(sigstore_label, json.dump()), "tampered.key", password_is("correct horse"));
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().message, "wrong password for tampered.key (or a corrupt key)");
}

TEST_F(SigningKeys, TamperedSaltOrNonceIsRefused) {
    for (const auto& [section, field] : {std::pair{"kdf", "salt"}, std::pair{"cipher", "nonce"}}) {
        auto json = nlohmann::json::parse(pem_decode(pair().private_pem).body);
        auto bytes = *util::base64_decode(json[section][field].get<std::string>());
        bytes[0] = static_cast<char>(bytes[0] ^ 0x80);
        json[section][field] = util::base64_encode(bytes);
        auto key = parse_signing_key(pem_encode(sigstore_label, json.dump()), "t.key", password_is("correct horse"));
        ASSERT_FALSE(key) << field;
        EXPECT_EQ(key.error().message, "wrong password for t.key (or a corrupt key)");
    }
}

TEST(SigningKeyFormats, UnencryptedPkcs8AndSec1P256KeysAreRead) {
    for (const char* format : {"pkcs8", "sec1"}) {
        const auto text = key_text("EC", "P-256", format);
        EXPECT_NE(text.find(std::string(format) == "sec1" ? "BEGIN EC PRIVATE KEY" : "BEGIN PRIVATE KEY"),
                  std::string::npos);
        auto key = parse_signing_key(text, format, never_asked());
        ASSERT_TRUE(key) << format << ": " << key.error().message;
        auto signature = key->sign("m");
        ASSERT_TRUE(signature);
        EXPECT_TRUE(key->public_key().verify("m", *signature));
    }
}

TEST(SigningKeyFormats, OtherKeyTypesAndCurvesAreRefusedByName) {
    struct Case {
        const char* algorithm;
        const char* parameter;
        const char* named;
    };
    for (const auto& c : {Case{"RSA", "", "of type RSA"}, Case{"ED25519", "", "of type ED25519"},
                          Case{"EC", "P-384", "on curve secp384r1"}, Case{"EC", "P-521", "on curve secp521r1"}}) {
        auto plain = parse_signing_key(key_text(c.algorithm, c.parameter, "pkcs8"), "other.key", never_asked());
        ASSERT_FALSE(plain) << c.named;
        EXPECT_NE(plain.error().message.find(c.named), std::string::npos) << plain.error().message;
        EXPECT_NE(plain.error().message.find("not"), std::string::npos);
        // The same key inside cosign's envelope (cosign import-key-pair writes such files).
        auto sealed = parse_signing_key(cosign_key(key_text(c.algorithm, c.parameter, "pkcs8-der"), "pw"), "other.key",
                                        password_is("pw"));
        ASSERT_FALSE(sealed) << c.named;
        EXPECT_NE(sealed.error().message.find(c.named), std::string::npos) << sealed.error().message;
    }
}

TEST(SigningKeyFormats, OversizedTextIsRefusedBeforeParsing) {
    const std::string huge = pem_encode(sigstore_label, std::string(70 * 1024, 'x'));
    auto key = parse_signing_key(huge, "huge.key", never_asked());
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().message.find("too large for a private key"), std::string::npos) << key.error().message;
    auto public_key = parse_public_key(pem_encode("PUBLIC KEY", std::string(70 * 1024, 'x')), "huge.pub");
    ASSERT_FALSE(public_key);
    EXPECT_NE(public_key.error().message.find("too large for a public key"), std::string::npos);
}

TEST(SigningKeyFormats, EmptyPasswordRoundTrips) {
    auto pair = generate_key_pair("");
    ASSERT_TRUE(pair) << pair.error().message;
    EXPECT_TRUE(parse_signing_key(pair->private_pem, "k", password_is("")));
    EXPECT_FALSE(parse_signing_key(pair->private_pem, "k", password_is(" ")));
}

TEST(SigningKeyFormats, DecryptedBytesThatAreNoKeyAreRefused) {
    for (const std::string& plaintext : {std::string("not a key"), key_text("EC", "P-256", "pkcs8-der") + "x"}) {
        auto key = parse_signing_key(cosign_key(plaintext, "pw"), "odd.key", password_is("pw"));
        ASSERT_FALSE(key);
        EXPECT_EQ(key.error().message, "odd.key decrypted, but what it holds is not a PKCS#8 private key");
    }
}

TEST(SigningKeyFormats, KdfParametersOutsideCosignsAreRefusedBeforeDeriving) {
    for (const auto& params :
         {R"({"N":1073741824,"r":8,"p":1})", R"({"N":65536,"r":64,"p":1})", R"({"N":65536,"r":8,"p":16})",
          R"({"N":16384,"r":8,"p":1})", R"({"N":65536,"r":8,"p":4294967297})"}) {
        const auto text = sealed_p256([&](nlohmann::json& j) { j["kdf"]["params"] = nlohmann::json::parse(params); });
        auto key = parse_signing_key(text, "big.key", never_asked());
        ASSERT_FALSE(key) << params;
        EXPECT_NE(key.error().message.find("scrypt parameters N="), std::string::npos) << key.error().message;
        EXPECT_NE(key.error().message.find("not among those cosign uses"), std::string::npos);
    }
    for (const auto& params : {R"({"N":-1,"r":8,"p":1})", R"({"N":65536.5,"r":8,"p":1})",
                               R"({"N":"65536","r":8,"p":1})", R"({"r":8,"p":1})", R"([65536,8,1])"}) {
        const auto text = sealed_p256([&](nlohmann::json& j) { j["kdf"]["params"] = nlohmann::json::parse(params); });
        auto key = parse_signing_key(text, "odd.key", never_asked());
        ASSERT_FALSE(key) << params;
        EXPECT_NE(key.error().message.find("not a complete cosign encrypted key"), std::string::npos)
            << key.error().message;
    }
}

TEST(SigningKeyFormats, UnknownKdfOrCipherIsNamed) {
    auto kdf = parse_signing_key(sealed_p256([](nlohmann::json& j) { j["kdf"]["name"] = "argon2id"; }), "a.key",
                                 never_asked());
    ASSERT_FALSE(kdf);
    EXPECT_NE(kdf.error().message.find("key derivation 'argon2id'"), std::string::npos) << kdf.error().message;
    auto cipher = parse_signing_key(sealed_p256([](nlohmann::json& j) { j["cipher"]["name"] = "aes-256-gcm"; }),
                                    "c.key", never_asked());
    ASSERT_FALSE(cipher);
    EXPECT_NE(cipher.error().message.find("cipher 'aes-256-gcm'"), std::string::npos) << cipher.error().message;
}

TEST(SigningKeyFormats, GarbledEnvelopesAreRefusedWithWhatIsWrong) {
    using Edit = std::function<void(nlohmann::json&)>;
    const std::vector<std::pair<Edit, std::string>> cases = {
        {[](nlohmann::json& j) { j.erase("ciphertext"); }, "ciphertext is missing"},
        {[](nlohmann::json& j) { j["ciphertext"] = "!!!!"; }, "ciphertext is not base64"},
        {[](nlohmann::json& j) { j["ciphertext"] = util::base64_encode(std::string(16, 'x')); },
         "ciphertext is 16 bytes"},
        {[](nlohmann::json& j) { j["ciphertext"] = std::string(24000, 'A'); }, "ciphertext is longer than"},
        {[](nlohmann::json& j) { j["cipher"]["nonce"] = util::base64_encode(std::string(23, 'n')); },
         "cipher.nonce is 23 bytes, not 24"},
        {[](nlohmann::json& j) { j["kdf"]["salt"] = util::base64_encode(std::string(8, 's')); },
         "kdf.salt is 8 bytes, not 16 to 64"},
        {[](nlohmann::json& j) { j["kdf"]["salt"] = 5; }, "kdf.salt is missing or not a string"},
        {[](nlohmann::json& j) { j.erase("kdf"); }, "the kdf or cipher section is missing"},
        {[](nlohmann::json& j) { j = nlohmann::json::array(); }, "not a JSON object"},
    };
    for (const auto& [edit, expected] : cases) {
        auto key = parse_signing_key(sealed_p256(edit), "g.key", never_asked());
        ASSERT_FALSE(key) << expected;
        EXPECT_NE(key.error().message.find("g.key is not a complete cosign encrypted key"), std::string::npos)
            << key.error().message;
        EXPECT_NE(key.error().message.find(expected), std::string::npos) << key.error().message;
    }
    auto not_json = parse_signing_key(pem_encode(sigstore_label, "{\"kdf\":"), "g.key", never_asked());
    ASSERT_FALSE(not_json);
    EXPECT_NE(not_json.error().message.find("not a JSON object"), std::string::npos);
}

// Known answers published with go-securesystemslib's "encrypted" package (the code cosign uses),
// one per parameter set it accepts, under the password "supersecret". Its Marshal JSON-encodes
// the value first, so the plaintext is the JSON string of base64("reallyimportant"). They prove
// the scrypt and secretbox steps match the Go implementation bit for bit.
TEST(EncryptedEnvelope, OpensTheGoPackagesKnownAnswers) {
    const char* vectors[] = {
        R"({"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"WO3mVvyTwJ9vwT5/Tk5OW5WPIBUofMjcpEfrLnfY4uA="},"cipher":{"name":"nacl/secretbox","nonce":"tCy7HcTFr4uxv4Nrg/DWmncuZ148U1MX"},"ciphertext":"08n43p5G5yviPEZpO7tPPF4aZQkWiWjkv4taFdhDBA0tamKH4nw="})",
        R"({"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"FhzPOt9/bJG4PTq6lQ6ecG6GzaOuOy/ynG5+yRiFlNs="},"cipher":{"name":"nacl/secretbox","nonce":"aw1ng1jHaDz/tQ7V2gR9O2+IGQ8xJEuE"},"ciphertext":"HycvuLZL4sYH0BrYTh4E/H20VtAW6u5zL5Pr+IBjYLYnCPzDkq8="})",
        R"({"kdf":{"name":"scrypt","params":{"N":131072,"r":8,"p":1},"salt":"m38E3kouJTtiheLQN22NQ8DTito5hrjpUIskqcd375k="},"cipher":{"name":"nacl/secretbox","nonce":"Y6PM13yA+o44pE/W1ZBwczeGnTV/m9Zc"},"ciphertext":"6H8sqj1K6B6yDjtH5AQ6lbFigg/C2yDDJc4rYJ79w9aVPImFIPI="})",
    };
    for (const char* vector : vectors) {
        auto plaintext = open_with_password(vector, "supersecret", "vector");
        ASSERT_TRUE(plaintext) << plaintext.error().message;
        EXPECT_EQ(plaintext->view(), "\"" + util::base64_encode("reallyimportant") + "\"");
        EXPECT_FALSE(open_with_password(vector, "supersecreT", "vector"));
    }
}

TEST(EncryptedEnvelope, SealedTextOpensAndIsCompactInTheGoPackagesFieldOrder) {
    auto sealed = seal_with_password("some bytes", "pw");
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->rfind(R"({"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":")", 0), 0u) << *sealed;
    EXPECT_NE(sealed->find(R"("cipher":{"name":"nacl/secretbox","nonce":")"), std::string::npos);
    auto opened = open_with_password(*sealed, "pw", "s");
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->view(), "some bytes");
}

// Found by key_envelope_fuzz: a field of the wrong JSON type is a clear error, not an exception
// that ends the program.
TEST(SigningKeyEnvelope, FieldsOfTheWrongTypeAreRefusedNotThrown) {
    for (const char* text : {R"({"kdf":{"name":{}},"cipher":{"name":"nacl/secretbox"}})",
                             R"({"kdf":{"name":"scrypt"},"cipher":{"name":["nacl/secretbox"]}})",
                             R"({"kdf":{"name":7,"params":{"N":65536,"r":8,"p":1}},"cipher":{"name":null}})"}) {
        auto envelope = parse_password_envelope(text, "odd.key");
        ASSERT_FALSE(envelope) << text;
        EXPECT_NE(envelope.error().message.find("odd.key"), std::string::npos) << envelope.error().message;
    }
}

}  // namespace
}  // namespace karmor::signing
