// Image references (SPEC §3): [REGISTRY[:PORT]/]REPOSITORY[:TAG][@ALGO:HEX].
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "karmor/digest.hpp"
#include "karmor/result.hpp"

namespace karmor {

class Reference {
public:
    static Result<Reference> parse(std::string_view text);

    // The registry as the user named it (or docker.io), with its port.
    const std::string& registry() const { return registry_; }
    // The host that serves the distribution API: docker.io is registry-1.docker.io.
    std::string api_host() const;
    const std::string& repository() const { return repository_; }
    // Empty when the reference is by digest only.
    const std::string& tag() const { return tag_; }
    const std::optional<Digest>& digest() const { return digest_; }

    // The tag or digest to ask the registry for; the digest wins when both are set.
    std::string manifest_reference() const;
    // True for localhost, 127.0.0.0/8 and ::1: hosts that may be spoken to in plain HTTP
    // when they do not speak TLS (SPEC §2, Docker's rule).
    bool is_loopback() const;

    Reference with_digest(const Digest& digest) const;
    Reference with_tag(std::string tag) const;

    // Normalized form: registry/repository[:tag][@digest].
    std::string str() const;

private:
    std::string registry_;
    std::string repository_;
    std::string tag_;
    std::optional<Digest> digest_;
};

}  // namespace karmor
