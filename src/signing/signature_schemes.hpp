// The public keys karmor verifies with, as cosign accepts them, and the signature schemes each
// one is checked under (SPEC §9): ECDSA P-256, P-384 and P-521, Ed25519, RSA of 2048 to 4096 bits
// with PKCS#1 v1.5 or PSS. Verification only: karmor signs with P-256 (keys.hpp).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::signing {

enum class KeyType { ecdsa_p256, ecdsa_p384, ecdsa_p521, ed25519, rsa };

// The kind of a key, or an error (kind usage) naming what it is and what is accepted; `source`
// names the key in the message.
Result<KeyType> supported_key_type(EVP_PKEY* key, const std::string& source);
// "ECDSA P-256", "Ed25519", "RSA 3072", for messages.
std::string describe_key(EVP_PKEY* key);

// True when `signature` is a signature of `message` by `key` under one of the schemes cosign
// verifies with for that key: ECDSA with SHA-256 (cosign's default whatever the curve) or the
// curve's own hash (SHA-384 for P-384, SHA-512 for P-521); pure Ed25519; RSA PKCS#1 v1.5 or PSS
// with SHA-256.
bool verify_message_signature(EVP_PKEY* key, std::string_view message, std::string_view signature);

// A hashedrekord signature (Sigstore's message signatures, Rekor v2 entries), where the signer
// hashed first: `digest` is the `hash_name` ("sha256", "sha384", "sha512") digest of the message.
// ECDSA and RSA verify the digest itself; Ed25519 signs hashedrekord content as Ed25519ph
// (RFC 8032), which needs `message` (empty when only the digest is known: refused).
bool verify_prehashed_signature(EVP_PKEY* key, std::string_view hash_name, std::string_view digest,
                                std::string_view message, std::string_view signature);

// Whether `details` (protobuf-specs PublicKeyDetails, as a Rekor v2 verifier names its key) fits
// `key`, and the hash a hashedrekord entry of that key records ("sha256", "sha384", "sha512"):
// PKIX_ECDSA_P256_SHA_256, PKIX_ECDSA_P384_SHA_384, PKIX_ECDSA_P521_SHA_512, PKIX_ED25519_PH
// (SHA-512), PKIX_RSA_PKCS1V15_<bits>_SHA256 and PKIX_RSA_PSS_<bits>_SHA256. Empty when it does not.
std::string hashedrekord_hash_for(EVP_PKEY* key, std::string_view details);

}  // namespace karmor::signing
