#include "util/hashing.hpp"

#include <openssl/evp.h>

namespace karmor::util {

std::string digest_raw(std::string_view algorithm, std::string_view bytes) {
    const EVP_MD* md = algorithm == "sha256"   ? EVP_sha256()
                       : algorithm == "sha384" ? EVP_sha384()
                       : algorithm == "sha512" ? EVP_sha512()
                                               : nullptr;
    if (!md) return {};
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out, &length, md, nullptr) != 1) return {};
    return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sha256_raw(std::string_view bytes) {
    return digest_raw("sha256", bytes);
}

}  // namespace karmor::util
