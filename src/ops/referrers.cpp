#include "ops/referrers.hpp"

#include <algorithm>

#include "ops/referrers_index.hpp"

namespace karmor::ops {
namespace {

constexpr int max_fallback_attempts = 5;

bool lists(const std::optional<oci::FetchedManifest>& index, const Digest& digest) {
    if (!index || !index->manifest.is_index()) return false;
    const auto& entries = index->manifest.manifests;
    return std::any_of(entries.begin(), entries.end(), [&](const Descriptor& d) { return d.digest == digest; });
}

std::optional<Digest> digest_of(const std::optional<oci::FetchedManifest>& fetched) {
    if (!fetched) return std::nullopt;
    return fetched->digest;
}

}  // namespace

Result<ReferrersListing> find_referrers(oci::Target& target, const Digest& subject, const std::string& artifact_type) {
    ReferrersListing listing;
    auto indexed = target.list_referrers(subject, artifact_type);
    if (!indexed) return unexpected(std::move(indexed).error());
    if (*indexed) {
        listing.referrers = std::move(**indexed);
        listing.source = "the referrers of " + target.where();
        listing.target_indexes = true;
    } else {
        const auto tag = referrers_tag(subject);
        listing.source = "the fallback tag " + target.describe(tag);
        auto index = target.fetch_manifest(tag);
        if (!index) return unexpected(std::move(index).error());
        listing.fallback_index = *index;
        if (*index) {
            if (!(*index)->manifest.is_index())
                return unexpected(Error(ErrorKind::validation,
                                        target.describe(tag) + " is not an image index, so it lists no referrers",
                                        "the referrers tag holds something else; delete or fix it"));
            for (const auto& d : (*index)->manifest.manifests)
                if (artifact_type.empty() || d.artifact_type == artifact_type) listing.referrers.push_back(d);
        }
    }
    sort_newest_first(listing.referrers, now_seconds());
    return listing;
}

Result<std::string> add_to_fallback_tag(oci::Target& target, const Digest& subject, const Descriptor& referrer,
                                        const ReferrersListing* listing) {
    const auto tag = referrers_tag(subject);
    const auto where = target.describe(tag);
    for (int attempt = 1; attempt <= max_fallback_attempts; ++attempt) {
        Result<std::optional<oci::FetchedManifest>> current =
            attempt == 1 && listing && listing->fallback_index ? *listing->fallback_index : target.fetch_manifest(tag);
        if (!current) return unexpected(std::move(current).error());
        std::optional<std::string> bytes;
        if (*current) bytes = (*current)->bytes;
        auto merged = add_to_referrers_index(bytes, referrer, where);
        if (!merged) return unexpected(std::move(merged).error());
        if (!*merged) return tag;  // already listed

        // The registry has no conditional PUT: check that nobody wrote since we read …
        auto before_write = target.fetch_manifest(tag);
        if (!before_write) return unexpected(std::move(before_write).error());
        if (digest_of(*before_write) != digest_of(*current)) continue;
        auto stored = target.put_manifest(tag, media_type::oci_index, **merged);
        if (!stored) return unexpected(std::move(stored).error());
        // … and that a writer who read before our PUT did not drop our entry after it.
        auto after_write = target.fetch_manifest(tag);
        if (!after_write) return unexpected(std::move(after_write).error());
        if (lists(*after_write, referrer.digest)) return tag;
    }
    return unexpected(Error(ErrorKind::registry,
                            where + " kept changing while the artifact was being added to it (" +
                                std::to_string(max_fallback_attempts) + " attempts)",
                            "another client is rewriting the referrers tag; run the push again"));
}

}  // namespace karmor::ops
