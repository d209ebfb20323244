// Keys for cosign-compatible signatures (SPEC §9): loading private keys (ECDSA P-256: cosign's
// encrypted formats, unencrypted PKCS#8 and SEC1 PEM) and signing with them; public keys (PEM
// SubjectPublicKeyInfo of every type cosign verifies with, signature_schemes.hpp) and verifying.
#pragma once

#include <openssl/evp.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::signing {

struct EvpPkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

class PublicKey {
public:
    explicit PublicKey(EvpPkeyPtr key);
    // True when `signature` is a signature of `message` by this key under a scheme cosign accepts
    // for its type (ECDSA SHA-256, Ed25519, RSA PKCS#1 v1.5 or PSS, …: signature_schemes.hpp).
    bool verify(std::string_view message, std::string_view signature) const;
    EVP_PKEY* evp() const { return key_.get(); }
    // PEM SubjectPublicKeyInfo, as cosign writes NAME.pub.
    std::string pem() const;
    // A short, stable name for messages: "sha256:" + the first 16 hex digits of the SHA-256 of
    // the DER SubjectPublicKeyInfo.
    std::string hint() const;
    // Where it was read from, for messages; empty for a key made in memory.
    std::string source;

private:
    std::shared_ptr<EVP_PKEY> key_;
};

class SigningKey {
public:
    explicit SigningKey(EvpPkeyPtr key);
    // A DER-encoded ECDSA-SHA256 signature of `message`.
    Result<std::string> sign(std::string_view message) const;
    PublicKey public_key() const;

private:
    std::shared_ptr<EVP_PKEY> key_;
};

// Asks for the password of an encrypted key; `confirm` asks twice (when generating). Never
// from argv: the CLI reads KARMOR_PASSWORD, then COSIGN_PASSWORD, then a no-echo TTY prompt.
using PasswordSource = std::function<Result<std::string>(bool confirm)>;

// A private key file: cosign's "ENCRYPTED SIGSTORE PRIVATE KEY" or older "ENCRYPTED COSIGN
// PRIVATE KEY" (the password is asked only for these), or an unencrypted PKCS#8 ("PRIVATE
// KEY") or SEC1 ("EC PRIVATE KEY") PEM. Anything but ECDSA P-256 is refused by name.
Result<SigningKey> load_signing_key(const std::filesystem::path& file, const PasswordSource& password);
// The same from text already read; `source` names it in messages.
Result<SigningKey> parse_signing_key(std::string_view pem, const std::string& source, const PasswordSource& password);

struct GeneratedKeyPair {
    std::string private_pem;  // "ENCRYPTED SIGSTORE PRIVATE KEY", as cosign writes NAME.key
    std::string public_pem;   // PEM SubjectPublicKeyInfo, as cosign writes NAME.pub
};
// A new ECDSA P-256 key, encrypted under `password` the way cosign encrypts (scrypt N=65536 r=8
// p=1, random 32-byte salt, NaCl secretbox with a random 24-byte nonce). An empty password is
// allowed, as cosign allows it.
Result<GeneratedKeyPair> generate_key_pair(std::string_view password);

// A PEM SubjectPublicKeyInfo of a key cosign verifies with: ECDSA P-256, P-384 or P-521,
// Ed25519, RSA of 2048 to 4096 bits. Another type is refused by name.
Result<PublicKey> load_public_key(const std::filesystem::path& file);
Result<PublicKey> parse_public_key(std::string_view pem, const std::string& source);

}  // namespace karmor::signing
