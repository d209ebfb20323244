// libsodium, opened on first use (src/util/shared_library.hpp): only cosign's encrypted keys
// need it (`key generate`, `sign --key`), and Ed25519ph signatures (signature_schemes.cpp), so
// other commands do not load it.
//
// To call a libsodium function, write libsodium().crypto_secretbox_easy(...) instead of
// crypto_secretbox_easy(...); a function not yet in the list below is added to it (one
// line). A direct call does not link: karmor has no -lsodium.
#pragma once

#include <sodium.h>

#include "karmor/result.hpp"

namespace karmor::signing {

#define KARMOR_LIBSODIUM_FUNCTIONS(X)                                                                                  \
    X(sodium_init)                                                                                                     \
    X(randombytes_buf)                                                                                                 \
    X(crypto_secretbox_easy)                                                                                           \
    X(crypto_secretbox_open_easy)                                                                                      \
    X(crypto_sign_ed25519ph_init)                                                                                      \
    X(crypto_sign_ed25519ph_update)                                                                                    \
    X(crypto_sign_ed25519ph_final_verify)

struct LibSodium {
#define KARMOR_LIBSODIUM_MEMBER(name) decltype(&::name) name = nullptr;
    KARMOR_LIBSODIUM_FUNCTIONS(KARMOR_LIBSODIUM_MEMBER)
#undef KARMOR_LIBSODIUM_MEMBER
};

// Opens libsodium.so.23 and runs sodium_init, once per process (thread-safe); the error says
// which file is missing and which package installs it.
Result<void> load_libsodium();

// The table; only after load_libsodium() succeeded.
const LibSodium& libsodium();

}  // namespace karmor::signing
