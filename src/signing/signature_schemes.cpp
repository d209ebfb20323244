// Key types and signature schemes, through OpenSSL's EVP interface (Ed25519ph through libsodium:
// OpenSSL 3.0 has no prehashed Ed25519).
#include "signing/signature_schemes.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include <memory>

#include "signing/libsodium.hpp"

namespace karmor::signing {
namespace {

constexpr int min_rsa_bits = 2048;  // cosign (sigstore's ValidatePubKey) refuses smaller and larger keys
constexpr int max_rsa_bits = 4096;

struct MdCtxFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};

std::string curve_name(EVP_PKEY* key) {
    char name[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &length) != 1) return {};
    return std::string(name, length);
}

const EVP_MD* md_named(std::string_view name) {
    if (name == "sha256") return EVP_sha256();
    if (name == "sha384") return EVP_sha384();
    if (name == "sha512") return EVP_sha512();
    return nullptr;
}

enum class RsaPadding { pkcs1, pss };

// One scheme: the digest (null for pure Ed25519) and, for RSA, the padding.
bool verify_with(EVP_PKEY* key, const EVP_MD* md, RsaPadding padding, std::string_view message,
                 std::string_view signature) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* key_context = nullptr;
    bool ok = context && EVP_DigestVerifyInit(context.get(), &key_context, md, nullptr, key) == 1;
    if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && padding == RsaPadding::pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_AUTO) == 1;
    ok = ok &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    ERR_clear_error();
    return ok;
}

bool verify_digest_with(EVP_PKEY* key, const EVP_MD* md, RsaPadding padding, std::string_view digest,
                        std::string_view signature) {
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> context(EVP_PKEY_CTX_new(key, nullptr));
    bool ok =
        context && EVP_PKEY_verify_init(context.get()) == 1 && EVP_PKEY_CTX_set_signature_md(context.get(), md) == 1;
    if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
        ok = padding == RsaPadding::pss ? EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
                                              EVP_PKEY_CTX_set_rsa_pss_saltlen(context.get(), RSA_PSS_SALTLEN_AUTO) == 1
                                        : EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) == 1;
    ok =
        ok && EVP_PKEY_verify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                              reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
    ERR_clear_error();
    return ok;
}

// RFC 8032 Ed25519ph: libsodium hashes the message with SHA-512 itself.
bool verify_ed25519ph(EVP_PKEY* key, std::string_view message, std::string_view signature) {
    unsigned char raw[32];
    std::size_t length = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &length) != 1 || length != sizeof raw || signature.size() != 64) {
        ERR_clear_error();
        return false;
    }
    if (!load_libsodium()) return false;
    const auto& sodium = libsodium();
    crypto_sign_ed25519ph_state state;
    sodium.crypto_sign_ed25519ph_init(&state);
    sodium.crypto_sign_ed25519ph_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
    return sodium.crypto_sign_ed25519ph_final_verify(&state, reinterpret_cast<const unsigned char*>(signature.data()),
                                                     raw) == 0;
}

}  // namespace

Result<KeyType> supported_key_type(EVP_PKEY* key, const std::string& source) {
    const auto refuse = [&](const std::string& what) {
        return unexpected(Error(ErrorKind::usage, source + " is " + what + ", which cosign does not verify with",
                                "give an ECDSA P-256, P-384 or P-521, Ed25519, or RSA 2048-4096 public key"));
    };
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_EC: {
            const auto curve = curve_name(key);
            const int nid = OBJ_sn2nid(curve.c_str());
            if (nid == NID_X9_62_prime256v1) return KeyType::ecdsa_p256;
            if (nid == NID_secp384r1) return KeyType::ecdsa_p384;
            if (nid == NID_secp521r1) return KeyType::ecdsa_p521;
            return refuse("an ECDSA key on curve " + (curve.empty() ? std::string("(unknown)") : curve));
        }
        case EVP_PKEY_ED25519: return KeyType::ed25519;
        case EVP_PKEY_RSA: {
            const int bits = EVP_PKEY_get_bits(key);
            if (bits < min_rsa_bits || bits > max_rsa_bits)
                return refuse("an RSA key of " + std::to_string(bits) + " bits");
            return KeyType::rsa;
        }
        default: {
            const char* type = EVP_PKEY_get0_type_name(key);
            return refuse(std::string("a key of type ") + (type ? type : "(unknown)"));
        }
    }
}

std::string describe_key(EVP_PKEY* key) {
    auto type = supported_key_type(key, "");
    if (!type) {
        const char* name = EVP_PKEY_get0_type_name(key);
        return name ? name : "unknown key";
    }
    switch (*type) {
        case KeyType::ecdsa_p256: return "ECDSA P-256";
        case KeyType::ecdsa_p384: return "ECDSA P-384";
        case KeyType::ecdsa_p521: return "ECDSA P-521";
        case KeyType::ed25519: return "Ed25519";
        case KeyType::rsa: return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
    }
    return {};
}

bool verify_message_signature(EVP_PKEY* key, std::string_view message, std::string_view signature) {
    auto type = supported_key_type(key, "");
    if (!type) return false;
    switch (*type) {
        case KeyType::ecdsa_p256: return verify_with(key, EVP_sha256(), RsaPadding::pkcs1, message, signature);
        case KeyType::ecdsa_p384:
            return verify_with(key, EVP_sha384(), RsaPadding::pkcs1, message, signature) ||
                   verify_with(key, EVP_sha256(), RsaPadding::pkcs1, message, signature);
        case KeyType::ecdsa_p521:
            return verify_with(key, EVP_sha512(), RsaPadding::pkcs1, message, signature) ||
                   verify_with(key, EVP_sha256(), RsaPadding::pkcs1, message, signature);
        case KeyType::ed25519: return verify_with(key, nullptr, RsaPadding::pkcs1, message, signature);
        case KeyType::rsa:
            return verify_with(key, EVP_sha256(), RsaPadding::pkcs1, message, signature) ||
                   verify_with(key, EVP_sha256(), RsaPadding::pss, message, signature);
    }
    return false;
}

bool verify_prehashed_signature(EVP_PKEY* key, std::string_view hash_name, std::string_view digest,
                                std::string_view message, std::string_view signature) {
    auto type = supported_key_type(key, "");
    const EVP_MD* md = md_named(hash_name);
    if (!type || !md || static_cast<int>(digest.size()) != EVP_MD_get_size(md)) return false;
    switch (*type) {
        case KeyType::ed25519:
            return hash_name == "sha512" && !message.empty() && verify_ed25519ph(key, message, signature);
        case KeyType::rsa:
            return verify_digest_with(key, md, RsaPadding::pkcs1, digest, signature) ||
                   verify_digest_with(key, md, RsaPadding::pss, digest, signature);
        default: return verify_digest_with(key, md, RsaPadding::pkcs1, digest, signature);
    }
}

std::string hashedrekord_hash_for(EVP_PKEY* key, std::string_view details) {
    auto type = supported_key_type(key, "");
    if (!type) return {};
    switch (*type) {
        case KeyType::ecdsa_p256: return details == "PKIX_ECDSA_P256_SHA_256" ? "sha256" : "";
        case KeyType::ecdsa_p384: return details == "PKIX_ECDSA_P384_SHA_384" ? "sha384" : "";
        case KeyType::ecdsa_p521: return details == "PKIX_ECDSA_P521_SHA_512" ? "sha512" : "";
        case KeyType::ed25519: return details == "PKIX_ED25519_PH" ? "sha512" : "";
        case KeyType::rsa: {
            const auto bits = std::to_string(EVP_PKEY_get_bits(key));
            return details == "PKIX_RSA_PKCS1V15_" + bits + "_SHA256" || details == "PKIX_RSA_PSS_" + bits + "_SHA256"
                       ? "sha256"
                       : "";
        }
    }
    return {};
}

}  // namespace karmor::signing
