// The pure parts of OCI 1.1 referrers: the fallback tag's name and content (image-spec
// "Referrers Tag Schema"), and choosing the newest KubeArmor artifact among referrers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/result.hpp"

namespace karmor::ops {

// <alg>-<hex>, e.g. sha256-0123…: the algorithm truncated to 32 characters and the hex to 64,
// as the referrers tag schema says.
std::string referrers_tag(const Digest& subject);

// The subject whose fallback tag `tag` is (sha256-<hex> → sha256:<hex>); std::nullopt when the
// tag does not have that form.
std::optional<Digest> referrers_tag_subject(const std::string& tag);

// What a signature (or attestation) found at `tag` signs: its subject, else the digest that
// cosign's tag sha256-<hex>.sig / .att / .sbom names; std::nullopt when neither says.
std::optional<Digest> signed_subject(const Manifest& manifest, const std::string& tag);

// `manifest` (found at `tag`) is a referrers index rather than a multi-platform image: it
// sits on a fallback tag, or every entry names an artifact type and none a platform.
bool is_referrers_index(const Manifest& manifest, const std::string& tag);

// The descriptor a referrers list holds for a manifest (distribution-spec "Listing
// Referrers"): artifactType is the manifest's, else its config's media type; annotations
// are the manifest's.
Descriptor referrer_descriptor(const Manifest& manifest, const Digest& digest, std::int64_t size);

// The referrers index with `referrer` added. `existing` is the index now at the fallback tag
// (std::nullopt when there is none): every other entry and field of it is kept as it is.
// std::nullopt when it already lists the referrer's digest (nothing to write).
Result<std::optional<std::string>> add_to_referrers_index(const std::optional<std::string>& existing,
                                                          const Descriptor& referrer, const std::string& where);

// Seconds and nanoseconds since the epoch of an RFC 3339 date-time (2026-11-27T17:00:00Z,
// fractions and offsets allowed); std::nullopt when it is not one.
struct Timestamp {
    std::int64_t seconds = 0;
    std::int64_t nanoseconds = 0;
    friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};
std::optional<Timestamp> parse_rfc3339(const std::string& text);

// A `created` more than this far ahead of the clock lies in the future (issue 22): push refuses
// it, and choosing among attached artifacts ranks it after all others, so that a date such as
// 2999-01-01 cannot pin the choice forever.
inline constexpr std::int64_t max_clock_skew_seconds = 5 * 60;

// The current time, in seconds since the epoch.
std::int64_t now_seconds();

// `referrer`'s org.opencontainers.image.created lies more than max_clock_skew_seconds after `now`.
bool is_future_dated(const Descriptor& referrer, std::int64_t now);

// Newest first by org.opencontainers.image.created; equal (or missing, which counts as
// oldest) times are ordered by descending digest, so the choice is the same on every run.
// Future-dated ones (is_future_dated) come after all others, the latest of them first.
void sort_newest_first(std::vector<Descriptor>& referrers, std::int64_t now);

}  // namespace karmor::ops
