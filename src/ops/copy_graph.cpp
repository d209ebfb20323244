#include "ops/copy_graph.hpp"

#include "ops/referrers.hpp"
#include "ops/referrers_index.hpp"
#include "ops/tag_guard.hpp"

namespace karmor::ops {
namespace {

std::string media_type_of(const oci::FetchedManifest& fetched) {
    return fetched.manifest.media_type.empty() ? fetched.content_type : fetched.manifest.media_type;
}

}  // namespace

Result<Descriptor> CopyGraph::copy(const std::string& reference, const std::string& tag) {
    auto copied = copy_manifest(reference, tag, recursive_, /*guard=*/true);
    if (!copied) return unexpected(std::move(copied).error());
    if (!*copied)
        return unexpected(Error(ErrorKind::not_found, source_.describe(reference) + ": not found",
                                "check the tag or digest; `karmor oci tags -i REPO` lists the tags"));
    return std::move((*copied)->descriptor);
}

Result<std::optional<CopyGraph::Copied>> CopyGraph::copy_manifest(const std::string& reference, const std::string& tag,
                                                                  bool follow, bool guard) {
    auto fetched = source_.fetch_manifest(reference);
    if (!fetched) return unexpected(std::move(fetched).error());
    if (!*fetched) return std::optional<Copied>();
    const auto& manifest = **fetched;
    // Checked before anything is written, with what the tag holds read once.
    std::optional<TagMove> tag_move;
    if (guard && !tag.empty()) {
        auto move = check_tag_move(destination_, tag, manifest.digest, force_);
        if (!move) return unexpected(std::move(move).error());
        if (move->replaced) replaced_[tag] = *move->replaced;
        tag_move = *move;
    }
    Copied copied;
    copied.descriptor.digest = manifest.digest;
    copied.descriptor.media_type = media_type_of(manifest);
    copied.descriptor.size = static_cast<std::int64_t>(manifest.bytes.size());
    copied.manifest = manifest.manifest;
    const auto digest = manifest.digest.str();

    const bool first_visit = copied_.insert(manifest.digest).second;
    bool tag_done = false;
    if (first_visit) {
        // A manifest the destination has arrived with everything it refers to (registries
        // refuse a manifest whose blobs or children are missing; a layout writes them first).
        auto present = destination_.resolve_manifest(digest);
        if (!present) return unexpected(std::move(present).error());
        if (*present) {
            ++stats_.manifests_present;
        } else {
            for (const auto& child : manifest.manifest.manifests) {
                auto child_copied = copy_manifest(child.digest.str(), "", false);
                if (!child_copied) return unexpected(std::move(child_copied).error());
                if (!*child_copied)
                    return unexpected(Error(ErrorKind::not_found,
                                            source_.describe(digest) + " lists " + child.digest.str() +
                                                ", which the source does not have",
                                            "the index at the source is incomplete; copy its children first"));
            }
            if (manifest.manifest.config) {
                if (auto r = copy_blob(*manifest.manifest.config); !r) return unexpected(std::move(r).error());
            }
            for (const auto& layer : manifest.manifest.layers)
                if (auto r = copy_blob(layer); !r) return unexpected(std::move(r).error());
            auto stored =
                destination_.put_manifest(tag.empty() ? digest : tag, copied.descriptor.media_type, manifest.bytes);
            if (!stored) return unexpected(std::move(stored).error());
            if (stored->digest != manifest.digest)
                return unexpected(Error(ErrorKind::registry,
                                        destination_.where() + " stored " + digest + " as " + stored->digest.str()));
            ++stats_.manifests_copied;
            if (!tag.empty()) ++stats_.tags_set;
            tag_done = true;
        }
    }
    if (!tag.empty() && !tag_done) {
        bool holds_it = false;
        if (tag_move) {
            holds_it = tag_move->unchanged;
        } else {
            auto current = destination_.resolve_manifest(tag);
            if (!current) return unexpected(std::move(current).error());
            holds_it = *current && (*current)->digest == manifest.digest;
        }
        if (!holds_it) {
            auto stored = destination_.put_manifest(tag, copied.descriptor.media_type, manifest.bytes);
            if (!stored) return unexpected(std::move(stored).error());
            ++stats_.tags_set;
        }
    }
    if (first_visit && follow) {
        if (auto r = copy_referrers(copied); !r) return unexpected(std::move(r).error());
        if (auto r = copy_cosign_tags(manifest.digest); !r) return unexpected(std::move(r).error());
    }
    return std::optional<Copied>(std::move(copied));
}

Result<void> CopyGraph::copy_blob(const Descriptor& blob) {
    if (!blobs_done_.insert(blob.digest).second) return {};
    auto present = destination_.blob_exists(blob);
    if (!present) return unexpected(std::move(present).error());
    if (*present) {
        ++stats_.blobs_present;
        return {};
    }
    const auto from = source_.repository_name();
    const auto to = destination_.repository_name();
    if (from && to && from->registry == to->registry && from->repository != to->repository) {
        auto mounted = destination_.mount_blob(blob, from->repository);
        if (!mounted) return unexpected(std::move(mounted).error());
        if (*mounted) {
            ++stats_.blobs_mounted;
            return {};
        }
    }
    auto bytes = source_.fetch_blob(blob, max_copied_blob_bytes, {});
    if (!bytes) return unexpected(std::move(bytes).error());
    if (auto put = destination_.put_blob(blob, *bytes, {}); !put) return unexpected(std::move(put).error());
    ++stats_.blobs_copied;
    stats_.bytes_copied += blob.size;
    return {};
}

Result<bool> CopyGraph::destination_indexes_referrers(const Digest& subject) {
    // Whether a registry implements the referrers API does not change during a run: ask once.
    if (!destination_indexes_) {
        auto listed = destination_.list_referrers(subject, "");
        if (!listed) return unexpected(std::move(listed).error());
        destination_indexes_ = listed->has_value();
    }
    return *destination_indexes_;
}

Result<void> CopyGraph::copy_referrers(const Copied& subject) {
    auto listing = find_referrers(source_, subject.descriptor.digest, "");
    if (!listing) return unexpected(std::move(listing).error());
    for (const auto& referrer : listing->referrers) {
        auto copied = copy_manifest(referrer.digest.str(), "", true);
        if (!copied) return unexpected(std::move(copied).error());
        if (!*copied) {
            stats_.missing.push_back(source_.describe(referrer.digest.str()));
            continue;
        }
        ++stats_.referrers;
        auto indexes = destination_indexes_referrers(subject.descriptor.digest);
        if (!indexes) return unexpected(std::move(indexes).error());
        if (*indexes) continue;
        const auto entry =
            referrer_descriptor((*copied)->manifest, (*copied)->descriptor.digest, (*copied)->descriptor.size);
        auto tag = add_to_fallback_tag(destination_, subject.descriptor.digest, entry);
        if (!tag) return unexpected(std::move(tag).error());
        ++stats_.fallback_tag_entries;
    }
    return {};
}

Result<void> CopyGraph::copy_cosign_tags(const Digest& subject) {
    // cosign's legacy tags sit next to what they sign, in the same repository (SPEC §9).
    for (const char* suffix : {".sig", ".att", ".sbom"}) {
        const auto tag = referrers_tag(subject) + suffix;
        auto found = source_.resolve_manifest(tag);
        if (!found) return unexpected(std::move(found).error());
        if (!*found) continue;
        auto copied = copy_manifest(tag, tag, false);
        if (!copied) return unexpected(std::move(copied).error());
        if (*copied) ++stats_.signature_tags;
    }
    return {};
}

}  // namespace karmor::ops
