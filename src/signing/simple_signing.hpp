// The payload of cosign's legacy signatures ("simple signing", SPEC §9): the exact bytes karmor
// signs, and a strict reader of the payloads it verifies.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "karmor/digest.hpp"
#include "karmor/result.hpp"

namespace karmor::signing {

inline constexpr const char* simple_signing_type = "cosign container image signature";
inline constexpr std::size_t max_payload_bytes = 64 * 1024;

// {"critical":{"identity":{"docker-reference":IDENTITY},"image":{"docker-manifest-digest":DIGEST},
// "type":"cosign container image signature"},"optional":ANNOTATIONS|null}: compact, keys in
// that order, as cosign writes it. `identity` is REGISTRY/REPOSITORY.
std::string make_simple_signing_payload(const std::string& identity, const Digest& digest,
                                        const std::map<std::string, std::string>& annotations);

struct SimpleSigningClaims {
    std::string identity;                            // critical.identity.docker-reference
    std::string digest;                              // critical.image.docker-manifest-digest, as written
    std::map<std::string, std::string> annotations;  // the string values of `optional`
    // Keys of `optional` whose value is not a string: they never satisfy -a KEY=VALUE.
    std::map<std::string, std::string> other_optional;
};

// Reads a payload strictly: exactly the fields above (no others at any level of `critical`),
// the exact type string, no key twice, at most max_payload_bytes. `optional` is free-form (an
// object or null), as in containers/image.
Result<SimpleSigningClaims> parse_simple_signing_payload(std::string_view bytes);

}  // namespace karmor::signing
