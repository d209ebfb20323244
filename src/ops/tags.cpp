// tags, resolve and tag (SPEC §11): thin compositions of a target with the tag filters.
#include "karmor/moving.hpp"
#include "moving/tag_filter.hpp"
#include "ops/open_target.hpp"
#include "ops/tag_guard.hpp"

namespace karmor {

Result<TagsResult> list_tags(const TagsOptions& options) {
    std::optional<moving::Range> range;
    if (!options.semver.empty()) {
        auto parsed = moving::Range::parse(options.semver);
        if (!parsed) return unexpected(std::move(parsed).error());
        range = std::move(*parsed);
    }
    auto opened = ops::open_target(options.repository, options.layout, options.remote, ops::Access::pull);
    if (!opened) return unexpected(std::move(opened).error());
    auto tags = opened->target->list_tags();
    if (!tags) return unexpected(std::move(tags).error());
    TagsResult result;
    for (auto& tag : *tags) {
        if (!options.all && moving::is_bookkeeping_tag(tag)) {
            ++result.hidden;
            continue;
        }
        result.tags.push_back(std::move(tag));
    }
    if (range) result.tags = moving::select_versions(result.tags, *range);
    return result;
}

Result<Descriptor> resolve_reference(const ResolveOptions& options) {
    auto opened = ops::open_target(options.reference, options.layout, options.remote, ops::Access::pull);
    if (!opened) return unexpected(std::move(opened).error());
    const auto reference = opened->manifest_reference();
    auto resolved = opened->target->resolve_manifest(reference);
    if (!resolved) return unexpected(std::move(resolved).error());
    if (!*resolved)
        return unexpected(Error(ErrorKind::not_found, opened->target->describe(reference) + ": not found",
                                "check the tag or digest; `karmor oci tags -i REPO` lists the tags"));
    return std::move(**resolved);
}

Result<TagResult> tag_reference(const TagOptions& options) {
    if (options.new_tags.empty()) return unexpected(Error(ErrorKind::usage, "tag: name at least one new tag"));
    for (const auto& tag : options.new_tags)
        if (!Reference::parse("localhost/x:" + tag))
            return unexpected(Error(ErrorKind::usage, "'" + tag + "' is not a valid tag",
                                    "a tag is [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"));
    auto opened = ops::open_target(options.reference, options.layout, options.remote, ops::Access::push);
    if (!opened) return unexpected(std::move(opened).error());
    auto& target = *opened->target;
    const auto source = opened->manifest_reference();
    auto resolved = target.resolve_manifest(source);
    if (!resolved) return unexpected(std::move(resolved).error());
    if (!*resolved)
        return unexpected(Error(ErrorKind::not_found, target.describe(source) + ": not found",
                                "check the tag or digest; `karmor oci tags -i REPO` lists the tags"));
    TagResult result;
    result.manifest = **resolved;
    result.where = target.where();
    // Every tag is checked before the first is moved: one that may not be moved leaves them all.
    std::vector<std::string> to_move;
    for (const auto& tag : options.new_tags) {
        auto move = ops::check_tag_move(target, tag, result.manifest.digest, options.force);
        if (!move) return unexpected(std::move(move).error());
        if (move->replaced) result.replaced.emplace(tag, *move->replaced);
        (move->unchanged ? result.unchanged : to_move).push_back(tag);
    }
    std::optional<oci::FetchedManifest> manifest;  // read once, when a tag needs it
    for (const auto& tag : to_move) {
        if (!manifest) {
            // By digest, so that the bytes are checked and a tag moved meanwhile is not followed.
            auto fetched = target.fetch_manifest(result.manifest.digest.str());
            if (!fetched) return unexpected(std::move(fetched).error());
            if (!*fetched)
                return unexpected(Error(ErrorKind::not_found,
                                        target.describe(result.manifest.digest.str()) + ": vanished while tagging"));
            manifest = std::move(**fetched);
        }
        const auto type =
            manifest->manifest.media_type.empty() ? manifest->content_type : manifest->manifest.media_type;
        auto stored = target.put_manifest(tag, type, manifest->bytes);
        if (!stored) return unexpected(std::move(stored).error());
        result.tagged.push_back(tag);
    }
    return result;
}

}  // namespace karmor
