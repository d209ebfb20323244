#include "signing/keys.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "karmor/digest.hpp"
#include "signing/encrypted_key.hpp"
#include "signing/signature_schemes.hpp"

namespace karmor::signing {

namespace {

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct MdCtxFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Bounds what is read as a key file: a PEM key is a few hundred bytes.
constexpr std::uintmax_t max_key_file_bytes = 64 * 1024;

Result<std::string> read_key_file(const std::filesystem::path& file, const char* what) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (error)
        return unexpected(
            Error(ErrorKind::io, std::string("cannot read ") + what + " " + file.string() + ": " + error.message()));
    if (size > max_key_file_bytes)
        return unexpected(Error(ErrorKind::usage,
                                file.string() + " is " + std::to_string(size) + " bytes, too large for a " + what,
                                "give the PEM file of an ECDSA P-256 key"));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof())
        return unexpected(Error(ErrorKind::io, std::string("cannot read ") + what + " " + file.string()));
    return text.str();
}

// ECDSA over P-256 only: what cosign makes and what the payload formats name.
Result<void> require_p256(EVP_PKEY* key, const std::string& source) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        const char* type = EVP_PKEY_get0_type_name(key);
        return unexpected(Error(
            ErrorKind::usage, source + " is a key of type " + (type ? type : "(unknown)") + ", not an ECDSA P-256 key",
            "use a key from `karmor oci key generate` or `cosign generate-key-pair`"));
    }
    char curve[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &length) != 1 ||
        OBJ_sn2nid(curve) != NID_X9_62_prime256v1)
        return unexpected(
            Error(ErrorKind::usage,
                  source + " is an ECDSA key on curve " + (length ? curve : "(unknown)") + ", not P-256 (prime256v1)",
                  "use a key from `karmor oci key generate` or `cosign generate-key-pair`"));
    return {};
}

}  // namespace

PublicKey::PublicKey(EvpPkeyPtr key) : key_(std::move(key)) {}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
    return verify_message_signature(key_.get(), message, signature);
}

std::string PublicKey::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string PublicKey::hint() const {
    unsigned char* der = nullptr;
    const int size = i2d_PUBKEY(key_.get(), &der);
    if (size <= 0) return {};
    const std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
    OPENSSL_free(der);
    return Digest::sha256_of(bytes).str().substr(0, 7 + 16);
}

SigningKey::SigningKey(EvpPkeyPtr key) : key_(std::move(key)) {}

Result<std::string> SigningKey::sign(std::string_view message) const {
    MdCtxPtr context(EVP_MD_CTX_new());
    size_t size = 0;
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1)
        return unexpected(Error(ErrorKind::io, "cannot sign: OpenSSL refused the key"));
    std::string signature(size, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
        return unexpected(Error(ErrorKind::io, "cannot sign: OpenSSL failed"));
    signature.resize(size);
    return signature;
}

PublicKey SigningKey::public_key() const {
    EVP_PKEY_up_ref(key_.get());
    return PublicKey(EvpPkeyPtr(key_.get()));
}

namespace {

constexpr const char* sigstore_label = "ENCRYPTED SIGSTORE PRIVATE KEY";
constexpr const char* cosign_label = "ENCRYPTED COSIGN PRIVATE KEY";

struct Pkcs8Free {
    void operator()(PKCS8_PRIV_KEY_INFO* info) const { PKCS8_PRIV_KEY_INFO_free(info); }
};

// The first PEM block of `pem`, if it is one of cosign's encrypted labels: its body (the JSON
// envelope). An empty optional for any other PEM; an error for a cosign block that does not decode.
Result<std::optional<std::string>> cosign_envelope(std::string_view pem, const std::string& source) {
    const bool mentions_cosign = pem.find(std::string("-----BEGIN ") + sigstore_label + "-----") != pem.npos ||
                                 pem.find(std::string("-----BEGIN ") + cosign_label + "-----") != pem.npos;
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    const bool read = bio && PEM_read_bio(bio.get(), &name, &header, &data, &length) == 1;
    ERR_clear_error();
    std::optional<std::string> envelope;
    const bool is_cosign = read && (std::string_view(name) == sigstore_label || std::string_view(name) == cosign_label);
    if (is_cosign) envelope.emplace(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!is_cosign && mentions_cosign)
        return unexpected(Error(ErrorKind::usage,
                                source + " is not a complete cosign encrypted key: the PEM block is truncated or "
                                         "not base64",
                                "the file is damaged: restore it, or generate a new key pair with `karmor oci key "
                                "generate`"));
    return envelope;
}

// The DER PKCS#8 private key inside cosign's envelope; every byte must belong to it.
Result<EvpPkeyPtr> parse_pkcs8_der(const SecretBytes& der, const std::string& source) {
    const unsigned char* cursor = der.data();
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, Pkcs8Free> info(
        d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(der.size())));
    EvpPkeyPtr key(info && cursor == der.data() + der.size() ? EVP_PKCS82PKEY(info.get()) : nullptr);
    ERR_clear_error();
    if (!key)
        return unexpected(Error(ErrorKind::usage, source + " decrypted, but what it holds is not a PKCS#8 private key",
                                "generate a new key pair with `karmor oci key generate`"));
    return key;
}

Result<EvpPkeyPtr> decrypt_cosign_key(std::string_view envelope, const std::string& source,
                                      const PasswordSource& password) {
    // A damaged file is reported before anyone is asked for a password.
    auto parsed = parse_password_envelope(envelope, source);
    if (!parsed) return unexpected(std::move(parsed).error());
    if (!password)
        return unexpected(Error(ErrorKind::usage, source + " is encrypted and no password was given",
                                "set KARMOR_PASSWORD (or COSIGN_PASSWORD), or run on a terminal to be asked"));
    auto secret = password(false);
    if (!secret) return unexpected(std::move(secret).error());
    auto der = open_password_envelope(*parsed, *secret, source);
    wipe_secret(*secret);
    if (!der) return unexpected(std::move(der).error());
    return parse_pkcs8_der(*der, source);
}

// A PEM block of `label` around `der`, in 64-column base64 lines.
std::string pem_encode(const char* label, std::string_view der) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio(bio.get(), label, "", reinterpret_cast<const unsigned char*>(der.data()),
                              static_cast<long>(der.size())) <= 0)
        return {};
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

Result<SecretBytes> pkcs8_der_of(EVP_PKEY* key) {
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, Pkcs8Free> info(EVP_PKEY2PKCS8(key));
    unsigned char* der = nullptr;
    const int size = info ? i2d_PKCS8_PRIV_KEY_INFO(info.get(), &der) : -1;
    if (size <= 0) {
        ERR_clear_error();
        return unexpected(Error(ErrorKind::io, "cannot encode the new private key as PKCS#8"));
    }
    SecretBytes bytes(static_cast<std::size_t>(size));
    std::memcpy(bytes.data(), der, bytes.size());
    OPENSSL_clear_free(der, static_cast<std::size_t>(size));
    return bytes;
}

}  // namespace

Result<SigningKey> parse_signing_key(std::string_view pem, const std::string& source, const PasswordSource& password) {
    if (pem.size() > max_key_file_bytes)
        return unexpected(Error(ErrorKind::usage,
                                source + " is " + std::to_string(pem.size()) + " bytes, too large for a private key",
                                "give the PEM file of an ECDSA P-256 key"));
    auto envelope = cosign_envelope(pem, source);
    if (!envelope) return unexpected(std::move(envelope).error());
    EvpPkeyPtr key;
    if (*envelope) {
        auto decrypted = decrypt_cosign_key(**envelope, source, password);
        if (!decrypted) return unexpected(std::move(decrypted).error());
        key = std::move(*decrypted);
    } else {
        BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        // No password callback: an OpenSSL-encrypted PEM must not prompt on the terminal.
        key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")) : nullptr);
        ERR_clear_error();
    }
    if (!key)
        return unexpected(Error(ErrorKind::usage, source + " is not a private key in a format karmor reads",
                                "give cosign's encrypted key (NAME.key), or a PKCS#8 or SEC1 PEM ECDSA P-256 key"));
    if (auto checked = require_p256(key.get(), source); !checked) return unexpected(std::move(checked).error());
    return SigningKey(std::move(key));
}

Result<GeneratedKeyPair> generate_key_pair(std::string_view password) {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) {
        ERR_clear_error();
        return unexpected(Error(ErrorKind::io, "cannot generate an ECDSA P-256 key: OpenSSL failed"));
    }
    auto der = pkcs8_der_of(key.get());
    if (!der) return unexpected(std::move(der).error());
    auto envelope = seal_with_password(der->view(), password);
    if (!envelope) return unexpected(std::move(envelope).error());
    GeneratedKeyPair pair;
    pair.private_pem = pem_encode(sigstore_label, *envelope);
    pair.public_pem = SigningKey(std::move(key)).public_key().pem();
    if (pair.private_pem.empty() || pair.public_pem.empty())
        return unexpected(Error(ErrorKind::io, "cannot write the new key pair as PEM: OpenSSL failed"));
    return pair;
}

Result<SigningKey> load_signing_key(const std::filesystem::path& file, const PasswordSource& password) {
    auto text = read_key_file(file, "private key");
    if (!text) return unexpected(std::move(text).error());
    return parse_signing_key(*text, file.string(), password);
}

Result<PublicKey> parse_public_key(std::string_view pem, const std::string& source) {
    if (pem.size() > max_key_file_bytes)
        return unexpected(Error(ErrorKind::usage,
                                source + " is " + std::to_string(pem.size()) + " bytes, too large for a public key",
                                "give the PEM file of a public key"));
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!key)
        return unexpected(Error(ErrorKind::usage, source + " is not a PEM public key (SubjectPublicKeyInfo)",
                                "give NAME.pub from `karmor oci key generate` or `cosign generate-key-pair`"));
    if (auto checked = supported_key_type(key.get(), source); !checked) return unexpected(std::move(checked).error());
    PublicKey result(std::move(key));
    result.source = source;
    return result;
}

Result<PublicKey> load_public_key(const std::filesystem::path& file) {
    auto text = read_key_file(file, "public key");
    if (!text) return unexpected(std::move(text).error());
    return parse_public_key(*text, file.string());
}

}  // namespace karmor::signing
