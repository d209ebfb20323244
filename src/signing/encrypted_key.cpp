#include "signing/encrypted_key.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "signing/libsodium.hpp"
#include "util/encoding.hpp"

namespace karmor::signing {

namespace {

// A cosign key file is under 1 KiB; these bounds hold a PKCS#8 RSA-4096 key with room to spare,
// so that such a key is refused by name after decryption rather than as "garbled".
constexpr std::size_t max_envelope_bytes = 32 * 1024;
constexpr std::size_t max_ciphertext_bytes = 16 * 1024;
constexpr std::size_t min_salt_bytes = 16;
constexpr std::size_t max_salt_bytes = 64;
constexpr std::size_t generated_salt_bytes = 32;  // what cosign writes
constexpr std::size_t derived_key_bytes = crypto_secretbox_KEYBYTES;
static_assert(derived_key_bytes == 32 && crypto_secretbox_NONCEBYTES == 24 && crypto_secretbox_MACBYTES == 16);
// scrypt needs 128 * r * N bytes (128 MiB for N = 2^17, r = 8) plus small buffers; OpenSSL refuses
// to go past this, whatever the parameters say.
constexpr std::uint64_t scrypt_max_memory = 160ull * 1024 * 1024;

constexpr const char* kdf_name = "scrypt";
constexpr const char* cipher_name = "nacl/secretbox";

struct KdfFree {
    void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct KdfCtxFree {
    void operator()(EVP_KDF_CTX* context) const { EVP_KDF_CTX_free(context); }
};

// libsodium is opened, and initialised, by the first encrypted key (src/signing/libsodium.hpp).
Result<void> init_sodium() {
    return load_libsodium();
}

Error garbled(const std::string& source, const std::string& what) {
    return Error(ErrorKind::usage, source + " is not a complete cosign encrypted key: " + what,
                 "the file is truncated or damaged: restore it, or generate a new key pair with "
                 "`karmor oci key generate`");
}

Result<SecretBytes> derive_key(std::string_view password, std::string_view salt, const ScryptParams& params) {
    std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr));
    std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> context(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!context) {
        ERR_clear_error();
        return unexpected(Error(ErrorKind::io, "cannot derive the key: OpenSSL has no scrypt"));
    }
    // OSSL_PARAM wants non-const pointers; OpenSSL only reads them.
    static char empty[1] = {};
    std::uint64_t n = params.n;
    std::uint32_t r = params.r;
    std::uint32_t p = params.p;
    std::uint64_t max_memory = scrypt_max_memory;
    const OSSL_PARAM settings[] = {
        OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_PASSWORD, password.empty() ? empty : const_cast<char*>(password.data()), password.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &max_memory),
        OSSL_PARAM_construct_end(),
    };
    SecretBytes key(derived_key_bytes);
    if (EVP_KDF_derive(context.get(), key.data(), key.size(), settings) != 1) {
        ERR_clear_error();
        return unexpected(Error(ErrorKind::io, "cannot derive the key with scrypt (out of memory?)"));
    }
    return key;
}

// A base64 field of the envelope, its decoded size within [min, max].
Result<std::string> decode_field(const nlohmann::json& object, const char* name, std::size_t min, std::size_t max,
                                 const std::string& source, const std::string& where) {
    const auto field = object.find(name);
    if (field == object.end() || !field->is_string())
        return unexpected(garbled(source, where + name + " is missing or not a string"));
    const auto& text = field->get_ref<const std::string&>();
    if (text.size() > (max + 2) / 3 * 4)
        return unexpected(garbled(source, where + name + " is longer than " + std::to_string(max) + " bytes"));
    auto bytes = util::base64_decode(text);
    if (!bytes) return unexpected(garbled(source, where + name + " is not base64"));
    if (bytes->size() < min || bytes->size() > max)
        return unexpected(garbled(
            source, where + name + " is " + std::to_string(bytes->size()) + " bytes, not " +
                        (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max))));
    return std::move(*bytes);
}

// The string at `name`, or "" when it is absent or not a string: json::value() would throw on
// another type (found by key_envelope_fuzz: {"kdf":{"name":{}}}).
std::string string_field(const nlohmann::json& object, const char* name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const nlohmann::json* object_field(const nlohmann::json& object, const char* name) {
    const auto field = object.find(name);
    return field != object.end() && field->is_object() ? &*field : nullptr;
}

Result<ScryptParams> read_scrypt_params(const nlohmann::json& kdf, const std::string& source) {
    const auto* params = object_field(kdf, "params");
    if (!params) return unexpected(garbled(source, "kdf.params is missing"));
    const auto number = [&](const char* name) -> std::optional<std::uint64_t> {
        const auto field = params->find(name);
        if (field == params->end() || !field->is_number_unsigned()) return std::nullopt;
        return field->get<std::uint64_t>();
    };
    const auto n = number("N");
    const auto r = number("r");
    const auto p = number("p");
    if (!n || !r || !p) return unexpected(garbled(source, "kdf.params needs whole numbers N, r and p"));
    const auto shown = "N=" + std::to_string(*n) + ", r=" + std::to_string(*r) + ", p=" + std::to_string(*p);
    if (*r > UINT32_MAX || *p > UINT32_MAX ||
        !is_accepted_scrypt_params({*n, static_cast<std::uint32_t>(*r), static_cast<std::uint32_t>(*p)}))
        return unexpected(Error(ErrorKind::usage,
                                source + ": scrypt parameters " + shown + " are not among those cosign uses",
                                "karmor reads keys encrypted with N=32768, 65536 or 131072, r=8, p=1; re-encrypt "
                                "the key with `cosign import-key-pair` or generate a new one"));
    return ScryptParams{*n, static_cast<std::uint32_t>(*r), static_cast<std::uint32_t>(*p)};
}

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
        other.bytes_.clear();
    }
    return *this;
}

void SecretBytes::wipe() {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

void wipe_secret(std::string& text) {
    if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
    text.clear();
}

bool is_accepted_scrypt_params(const ScryptParams& params) {
    return params.r == 8 && params.p == 1 && (params.n == 32768 || params.n == 65536 || params.n == 131072);
}

Result<std::string> seal_with_password(std::string_view plaintext, std::string_view password,
                                       const ScryptParams& params) {
    if (auto ready = init_sodium(); !ready) return unexpected(std::move(ready).error());
    if (!is_accepted_scrypt_params(params))
        return unexpected(Error(ErrorKind::usage, "scrypt parameters outside those cosign reads"));
    std::string salt(generated_salt_bytes, '\0');
    std::string nonce(crypto_secretbox_NONCEBYTES, '\0');
    libsodium().randombytes_buf(salt.data(), salt.size());
    libsodium().randombytes_buf(nonce.data(), nonce.size());
    auto key = derive_key(password, salt, params);
    if (!key) return unexpected(std::move(key).error());
    std::string sealed(crypto_secretbox_MACBYTES + plaintext.size(), '\0');
    if (libsodium().crypto_secretbox_easy(reinterpret_cast<unsigned char*>(sealed.data()), bytes_of(plaintext),
                                          plaintext.size(), bytes_of(nonce), key->data()) != 0)
        return unexpected(Error(ErrorKind::io, "cannot encrypt the key: libsodium failed"));
    nlohmann::ordered_json envelope;
    envelope["kdf"]["name"] = kdf_name;
    envelope["kdf"]["params"]["N"] = params.n;
    envelope["kdf"]["params"]["r"] = params.r;
    envelope["kdf"]["params"]["p"] = params.p;
    envelope["kdf"]["salt"] = util::base64_encode(salt);
    envelope["cipher"]["name"] = cipher_name;
    envelope["cipher"]["nonce"] = util::base64_encode(nonce);
    envelope["ciphertext"] = util::base64_encode(sealed);
    return envelope.dump();
}

Result<PasswordEnvelope> parse_password_envelope(std::string_view json, const std::string& source) {
    if (json.size() > max_envelope_bytes)
        return unexpected(garbled(source, "the encrypted part is " + std::to_string(json.size()) + " bytes"));
    const auto document = nlohmann::json::parse(json, nullptr, false);
    if (!document.is_object()) return unexpected(garbled(source, "the encrypted part is not a JSON object"));
    const auto* kdf = object_field(document, "kdf");
    const auto* cipher = object_field(document, "cipher");
    if (!kdf || !cipher) return unexpected(garbled(source, "the kdf or cipher section is missing"));

    // One refusal for both algorithm names: only what cosign writes is read.
    const auto require_name = [&](const nlohmann::json& section, std::string_view expected,
                                  const std::string& what) -> Result<void> {
        const auto used = string_field(section, "name");
        if (used == expected) return {};
        return unexpected(
            Error(ErrorKind::usage,
                  source + " is encrypted with " + what + " '" + used.substr(0, 40) + "'; karmor reads only " +
                      std::string(expected) + ", what cosign writes",
                  "generate a new key pair with `karmor oci key generate` or `cosign generate-key-pair`"));
    };
    if (auto ok = require_name(*kdf, kdf_name, "key derivation"); !ok) return unexpected(std::move(ok).error());
    if (auto ok = require_name(*cipher, cipher_name, "cipher"); !ok) return unexpected(std::move(ok).error());

    PasswordEnvelope envelope;
    auto params = read_scrypt_params(*kdf, source);
    if (!params) return unexpected(std::move(params).error());
    envelope.params = *params;
    auto salt = decode_field(*kdf, "salt", min_salt_bytes, max_salt_bytes, source, "kdf.");
    if (!salt) return unexpected(std::move(salt).error());
    auto nonce =
        decode_field(*cipher, "nonce", crypto_secretbox_NONCEBYTES, crypto_secretbox_NONCEBYTES, source, "cipher.");
    if (!nonce) return unexpected(std::move(nonce).error());
    auto ciphertext =
        decode_field(document, "ciphertext", crypto_secretbox_MACBYTES + 1, max_ciphertext_bytes, source, "");
    if (!ciphertext) return unexpected(std::move(ciphertext).error());
    envelope.salt = std::move(*salt);
    envelope.nonce = std::move(*nonce);
    envelope.ciphertext = std::move(*ciphertext);
    return envelope;
}

Result<SecretBytes> open_password_envelope(const PasswordEnvelope& envelope, std::string_view password,
                                           const std::string& source) {
    if (auto ready = init_sodium(); !ready) return unexpected(std::move(ready).error());
    // Checked again: an envelope may have been built by hand rather than parsed.
    if (!is_accepted_scrypt_params(envelope.params) || envelope.salt.size() < min_salt_bytes ||
        envelope.salt.size() > max_salt_bytes || envelope.nonce.size() != crypto_secretbox_NONCEBYTES ||
        envelope.ciphertext.size() <= crypto_secretbox_MACBYTES || envelope.ciphertext.size() > max_ciphertext_bytes)
        return unexpected(garbled(source, "the envelope's fields are out of bounds"));
    auto key = derive_key(password, envelope.salt, envelope.params);
    if (!key) return unexpected(std::move(key).error());
    SecretBytes plaintext(envelope.ciphertext.size() - crypto_secretbox_MACBYTES);
    if (libsodium().crypto_secretbox_open_easy(plaintext.data(), bytes_of(envelope.ciphertext),
                                               envelope.ciphertext.size(), bytes_of(envelope.nonce), key->data()) != 0)
        return unexpected(Error(ErrorKind::usage, "wrong password for " + source + " (or a corrupt key)",
                                "give the password the key was made with (KARMOR_PASSWORD, COSIGN_PASSWORD or "
                                "the prompt)"));
    return plaintext;
}

Result<SecretBytes> open_with_password(std::string_view json, std::string_view password, const std::string& source) {
    auto envelope = parse_password_envelope(json, source);
    if (!envelope) return unexpected(std::move(envelope).error());
    return open_password_envelope(*envelope, password, source);
}

}  // namespace karmor::signing
