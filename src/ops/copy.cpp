// copy, save and load (SPEC §11): a CopyGraph between two targets; save and load put an OCI
// image layout in between and turn it into a tar and back.
#include <stdlib.h>

#include <filesystem>
#include <ostream>

#include "karmor/moving.hpp"
#include "layout/image_layout.hpp"
#include "moving/layout_archive.hpp"
#include "ops/copy_graph.hpp"
#include "ops/open_target.hpp"

namespace karmor {
namespace fs = std::filesystem;
namespace {

// A directory next to `near` that is removed when this goes away.
class ScratchDirectory {
public:
    static Result<ScratchDirectory> make(const fs::path& near) {
        auto parent = near.parent_path();
        if (parent.empty()) parent = ".";
        std::string pattern = (parent / ".karmor-layout-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            return unexpected(Error(ErrorKind::io, "cannot create a temporary directory in " + parent.string(),
                                    "check that the directory exists and is writable"));
        ScratchDirectory scratch;
        scratch.path_ = pattern;
        return scratch;
    }
    ScratchDirectory() = default;
    ScratchDirectory(ScratchDirectory&& other) noexcept : path_(std::exchange(other.path_, {})) {}
    ScratchDirectory& operator=(ScratchDirectory&&) = delete;
    ~ScratchDirectory() {
        std::error_code ec;
        if (!path_.empty()) fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string endpoint_name(const CopyEndpoint& e) {
    return e.layout ? e.layout->str() : e.reference.str();
}

}  // namespace

Result<CopyResult> copy_artifact(const CopyOptions& options) {
    auto source =
        ops::open_target(options.source.reference, options.source.layout, options.source.remote, ops::Access::pull);
    if (!source) return unexpected(std::move(source).error());
    auto destination = ops::open_target(options.destination.reference, options.destination.layout,
                                        options.destination.remote, ops::Access::push);
    if (!destination) return unexpected(std::move(destination).error());

    const std::string tag = options.destination_tag.value_or(destination->tag.empty() ? source->tag : destination->tag);
    ops::CopyGraph graph(*source->target, *destination->target, options.recursive, options.force);
    auto copied = graph.copy(source->manifest_reference(), tag);
    if (!copied) return unexpected(std::move(copied).error());
    if (destination->digest && *destination->digest != copied->digest)
        return unexpected(
            Error(ErrorKind::usage,
                  "the destination names " + destination->digest->str() + " but the source is " + copied->digest.str(),
                  "a copy keeps the digest: name the destination by tag, or by the source's digest"));
    CopyResult result;
    result.manifest = *copied;
    result.source = endpoint_name(options.source);
    result.destination = destination->target->describe(copied->digest.str());
    if (!tag.empty()) result.destination_tag = destination->target->describe(tag);
    if (const auto moved = graph.replaced().find(tag); moved != graph.replaced().end()) result.replaced = moved->second;
    result.stats = graph.stats();
    return result;
}

Result<SaveResult> save_archive(const SaveOptions& options) {
    if (options.references.empty()) return unexpected(Error(ErrorKind::usage, "save: name at least one REF"));
    std::error_code ec;
    // Before anything is read: an existing file is not replaced without --force.
    if (!options.output_stream && !options.force && fs::exists(fs::symlink_status(options.output, ec)))
        return unexpected(Error(ErrorKind::io, options.output.string() + " already exists; not replaced",
                                "pass --force to replace it, or name another file"));
    auto scratch =
        ScratchDirectory::make(options.output_stream ? fs::temp_directory_path() / "x" : fs::absolute(options.output));
    if (!scratch) return unexpected(std::move(scratch).error());
    auto layout = layout::ImageLayout::open(scratch->path(), true);
    if (!layout) return unexpected(std::move(layout).error());

    SaveResult result;
    std::map<std::string, std::string> tag_owner;
    for (const auto& reference : options.references) {
        const auto& tag = reference.tag();
        if (!tag.empty()) {
            const auto [it, fresh] = tag_owner.emplace(tag, reference.str());
            if (!fresh && it->second != reference.str())
                return unexpected(Error(ErrorKind::usage,
                                        "save: " + it->second + " and " + reference.str() + " both have the tag " + tag,
                                        "an archive names each manifest by its tag alone; save them into two files"));
        }
        auto source = ops::open_target(reference, std::nullopt, options.remote, ops::Access::pull);
        if (!source) return unexpected(std::move(source).error());
        ops::CopyGraph graph(*source->target, **layout, options.recursive);
        auto copied = graph.copy(source->manifest_reference(), tag);
        if (!copied) return unexpected(std::move(copied).error());
        result.saved.emplace_back(tag, copied->digest);
        const auto& s = graph.stats();
        result.stats.manifests_copied += s.manifests_copied;
        result.stats.manifests_present += s.manifests_present;
        result.stats.blobs_copied += s.blobs_copied;
        result.stats.blobs_present += s.blobs_present;
        result.stats.bytes_copied += s.bytes_copied;
        result.stats.referrers += s.referrers;
        result.stats.signature_tags += s.signature_tags;
        result.stats.missing.insert(result.stats.missing.end(), s.missing.begin(), s.missing.end());
    }
    if (options.output_stream) {
        auto tar = moving::layout_archive(scratch->path());
        if (!tar) return unexpected(std::move(tar).error());
        options.output_stream->write(tar->data(), static_cast<std::streamsize>(tar->size()));
        options.output_stream->flush();
        if (!*options.output_stream)
            return unexpected(Error(ErrorKind::io, "cannot write the archive to standard output"));
        result.archive_bytes = static_cast<std::int64_t>(tar->size());
        return result;
    }
    auto written = moving::write_layout_archive(scratch->path(), options.output, options.force);
    if (!written) return unexpected(std::move(written).error());
    result.archive_bytes = *written;
    return result;
}

Result<LoadResult> load_archive(const ArchiveLoadOptions& options) {
    auto scratch = ScratchDirectory::make(fs::temp_directory_path() / "x");
    if (!scratch) return unexpected(std::move(scratch).error());
    if (auto read = moving::read_layout_archive(options.input, scratch->path()); !read)
        return unexpected(std::move(read).error());
    auto layout = layout::ImageLayout::open(scratch->path(), false);
    if (!layout) return unexpected(std::move(layout).error());
    auto entries = (*layout)->entries();
    if (!entries) return unexpected(std::move(entries).error());

    // With --to REPO:TAG, the one manifest the archive names gets that tag (issue 22).
    std::optional<Digest> retagged;
    if (!options.tag.empty()) {
        std::vector<const Descriptor*> tagged;
        for (const auto& entry : *entries) {
            const auto name = entry.annotations.find(annotation::ref_name);
            if (name != entry.annotations.end() && !name->second.empty()) tagged.push_back(&entry);
        }
        if (tagged.size() == 1)
            retagged = tagged.front()->digest;
        else if (tagged.empty() && entries->size() == 1)
            retagged = entries->front().digest;
        else
            return unexpected(Error(ErrorKind::usage,
                                    options.input.string() + " holds " + std::to_string(tagged.size()) +
                                        " tagged manifests (and " + std::to_string(entries->size()) +
                                        " in all): --to REPO:" + options.tag + " needs an archive of one",
                                    "load without a tag to keep the archive's tags, then move one with "
                                    "`karmor oci tag REPO:OLD " +
                                        options.tag + "`"));
    }

    auto destination = ops::open_target(options.repository, std::nullopt, options.remote, ops::Access::push);
    if (!destination) return unexpected(std::move(destination).error());
    ops::CopyGraph graph(**layout, *destination->target, true, options.force);
    LoadResult result;
    // Tagged manifests first, so that their referrers are found from them; then whatever
    // else the archive lists (saved by digest, or attached to something not in it).
    for (const bool tagged : {true, false}) {
        for (const auto& entry : *entries) {
            const auto name = entry.annotations.find(annotation::ref_name);
            const std::string archive_tag =
                name != entry.annotations.end() && !name->second.empty() ? name->second : "";
            const bool is_retagged = retagged && entry.digest == *retagged;
            const std::string tag = is_retagged ? options.tag : archive_tag;
            if (!tag.empty() != tagged) continue;
            auto copied = graph.copy(archive_tag.empty() ? entry.digest.str() : archive_tag, tag);
            if (!copied) return unexpected(std::move(copied).error());
            result.loaded.emplace_back(tag, copied->digest);
        }
    }
    result.replaced = graph.replaced();
    result.stats = graph.stats();
    return result;
}

}  // namespace karmor
