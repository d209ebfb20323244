// Content digests (OCI image spec, "Digests"): ALGORITHM:ENCODED. A digest is always
// computed over the exact bytes sent or received, never over re-serialized data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor {

class Digest {
public:
    Digest() = default;

    // Accepts sha256:<64 lowercase hex> and sha512:<128 lowercase hex>.
    static Result<Digest> parse(std::string_view text);
    static Digest sha256_of(std::string_view bytes);

    const std::string& algorithm() const { return algorithm_; }
    const std::string& hex() const { return hex_; }
    std::string str() const { return algorithm_ + ":" + hex_; }
    bool empty() const { return hex_.empty(); }

    // True when `bytes` hash to this digest with this digest's algorithm.
    bool matches(std::string_view bytes) const;

    friend bool operator==(const Digest&, const Digest&) = default;
    friend auto operator<=>(const Digest&, const Digest&) = default;

private:
    Digest(std::string algorithm, std::string hex) : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
    std::string algorithm_;
    std::string hex_;
    friend class DigestHasher;
};

// Incremental hashing for streamed bodies.
class DigestHasher {
public:
    explicit DigestHasher(std::string_view algorithm = "sha256");
    ~DigestHasher();
    DigestHasher(DigestHasher&&) noexcept;
    DigestHasher& operator=(DigestHasher&&) noexcept;
    DigestHasher(const DigestHasher&) = delete;
    DigestHasher& operator=(const DigestHasher&) = delete;

    void update(std::string_view bytes);
    Digest finish();
    std::uint64_t bytes_seen() const { return bytes_; }

private:
    struct State;
    std::unique_ptr<State> state_;
    std::string algorithm_;
    std::uint64_t bytes_ = 0;
};

}  // namespace karmor
