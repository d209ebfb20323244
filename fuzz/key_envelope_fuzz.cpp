// Invariant: whatever the bytes, a cosign key envelope that is accepted has only the scrypt
// parameters cosign uses and fields within their bounds, so that no key file can make karmor
// spend more than the accepted parameters cost (SPEC §9 "Keys").
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signing/encrypted_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto envelope = karmor::signing::parse_password_envelope(bytes, "fuzz.key");
    if (!envelope) {
        if (envelope.error().message.empty()) std::abort();
        return 0;
    }
    if (!karmor::signing::is_accepted_scrypt_params(envelope->params)) std::abort();
    if (envelope->nonce.size() != 24) std::abort();
    if (envelope->salt.size() < 16 || envelope->salt.size() > 64) std::abort();
    if (envelope->ciphertext.size() <= 16 || envelope->ciphertext.size() > 16 * 1024) std::abort();
    return 0;
}
