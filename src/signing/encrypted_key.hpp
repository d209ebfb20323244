// The password-encrypted envelope inside cosign's private key files (SPEC §9 "Keys"): the JSON
// format of secure-systems-lab's "encrypted" package, a scrypt key derivation and a NaCl
// secretbox (XSalsa20-Poly1305) over the DER PKCS#8 private key.
//   {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64>"},
//    "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},"ciphertext":"<base64>"}
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::signing {

// Bytes that are wiped when they go away: a decrypted private key, a derived key.
class SecretBytes {
public:
    explicit SecretBytes(std::size_t size) : bytes_(size) {}
    ~SecretBytes() { wipe(); }
    SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    unsigned char* data() { return bytes_.data(); }
    const unsigned char* data() const { return bytes_.data(); }
    std::size_t size() const { return bytes_.size(); }
    std::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()}; }

private:
    void wipe();
    std::vector<unsigned char> bytes_;  // never resized: the one buffer is the one wiped
};

// Overwrites a password (or any secret text) and empties it.
void wipe_secret(std::string& text);

struct ScryptParams {
    std::uint64_t n = 0;
    std::uint32_t r = 0;
    std::uint32_t p = 0;
    friend bool operator==(const ScryptParams&, const ScryptParams&) = default;
};

// What cosign writes (go-securesystemslib's "standard" strength).
inline constexpr ScryptParams cosign_scrypt_params{65536, 8, 1};
// The only parameter sets read, the three the Go package itself accepts ("legacy", "standard",
// "OWASP"): a key file cannot make karmor spend more than 128 MiB and a second or so on scrypt.
bool is_accepted_scrypt_params(const ScryptParams& params);

// Encrypts `plaintext` under `password` with a fresh random 32-byte salt and 24-byte nonce;
// returns the JSON envelope (compact, fields in the order the Go package writes them).
Result<std::string> seal_with_password(std::string_view plaintext, std::string_view password,
                                       const ScryptParams& params = cosign_scrypt_params);

// An envelope read and checked, not yet opened: every field is bounded here, before a password
// is asked for and before scrypt runs. `source` names the key in messages.
struct PasswordEnvelope {
    ScryptParams params;
    std::string salt;
    std::string nonce;
    std::string ciphertext;  // Poly1305 tag, then the encrypted bytes (NaCl's layout)
};
Result<PasswordEnvelope> parse_password_envelope(std::string_view json, const std::string& source);

// Decrypts an envelope. A failed secretbox open is reported as a wrong password (a wrong
// password and a damaged ciphertext cannot be told apart, by design of the MAC).
Result<SecretBytes> open_password_envelope(const PasswordEnvelope& envelope, std::string_view password,
                                           const std::string& source);
// Both steps.
Result<SecretBytes> open_with_password(std::string_view json, std::string_view password, const std::string& source);

}  // namespace karmor::signing
