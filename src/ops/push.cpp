// SPEC §2 push, §4 the artifact, §6 no clobbering and --attach.

#include "bundle/artifact.hpp"
#include "karmor/oci.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"
#include "ops/referrers_index.hpp"
#include "ops/remote.hpp"
#include "ops/tag_guard.hpp"
#include "ops/transfer_tally.hpp"

namespace karmor {
namespace {

bool holds_same_policies(const Manifest& existing, const bundle::BuiltArtifact& ours) {
    if (!bundle::is_kubearmor_artifact(existing) || !existing.config) return false;
    if (existing.config->digest != ours.config.descriptor.digest) return false;
    if (existing.layers.size() != ours.layers.size()) return false;
    for (std::size_t i = 0; i < ours.layers.size(); ++i) {
        if (existing.layers[i].digest != ours.layers[i].descriptor.digest ||
            existing.layers[i].media_type != ours.layers[i].descriptor.media_type)
            return false;
    }
    // The user's annotations are part of what they asked for; `created` is not.
    auto theirs = existing.annotations;
    auto mine = ours.manifest.annotations;
    theirs.erase(annotation::created);
    mine.erase(annotation::created);
    return theirs == mine && existing.subject == ours.manifest.subject;
}

// Asks for every blob first, so that the bytes to send are known before the first is sent.
Result<void> upload_blobs(oci::Target& target, const bundle::BuiltArtifact& artifact, ProgressSink* progress,
                          PushResult& result) {
    std::vector<const bundle::Blob*> missing;
    std::uint64_t missing_bytes = 0;
    std::vector<const bundle::Blob*> blobs{&artifact.config};
    for (const auto& layer : artifact.layers) blobs.push_back(&layer);
    for (const auto* blob : blobs) {
        auto exists = target.blob_exists(blob->descriptor);
        if (!exists) return unexpected(std::move(exists).error());
        if (*exists) {
            ++result.blobs_skipped;
            continue;
        }
        missing.push_back(blob);
        missing_bytes += blob->bytes.size();
    }
    ops::TransferTally tally(progress, TransferDirection::upload, missing_bytes);
    for (const auto* blob : missing) {
        if (auto uploaded = target.put_blob(blob->descriptor, blob->bytes, tally.observe(blob->bytes.size()));
            !uploaded)
            return unexpected(std::move(uploaded).error());
        tally.finished(blob->bytes.size());
        ++result.blobs_uploaded;
    }
    return {};
}

// The image to attach to, as the descriptor that goes in `subject`.
Result<Descriptor> resolve_subject(oci::Target& target, const std::string& reference) {
    auto image = target.fetch_manifest(reference);
    if (!image) return unexpected(std::move(image).error());
    if (!*image)
        return unexpected(Error(ErrorKind::not_found, "cannot attach to " + target.describe(reference) + ": not found",
                                "push the image first, or check the repository and tag"));
    Descriptor subject;
    subject.media_type = (*image)->manifest.media_type;
    subject.digest = (*image)->digest;
    subject.size = static_cast<std::int64_t>((*image)->bytes.size());
    return subject;
}

// SPEC §6: the artifact goes in untagged with `subject` set; the target indexes it, or we
// add it to the fallback tag.
Result<void> attach(oci::Target& target, const bundle::BuiltArtifact& artifact, bool is_layout, ProgressSink* progress,
                    PushResult& result) {
    const auto& subject = *artifact.manifest.subject;
    auto listing = ops::find_referrers(target, subject.digest, media_type::kubearmor_config);
    if (!listing) return unexpected(std::move(listing).error());
    // The newest attached artifact already holds these policies: pulling from the image
    // already gives them, so nothing is pushed (an older identical one does not count: a
    // newer one would still win).
    if (!listing->referrers.empty()) {
        const auto& newest = listing->referrers.front();
        auto current = target.fetch_manifest(newest.digest.str());
        if (!current) return unexpected(std::move(current).error());
        if (*current && holds_same_policies((*current)->manifest, artifact)) {
            result.already_attached = true;
            result.manifest = (*current)->manifest;
            result.manifest_digest = (*current)->digest;
            result.indexing = is_layout                 ? ReferrersIndexing::layout
                              : listing->target_indexes ? ReferrersIndexing::registry
                                                        : ReferrersIndexing::fallback_tag;
            if (result.indexing == ReferrersIndexing::fallback_tag)
                result.referrers_tag = ops::referrers_tag(subject.digest);
            return {};
        }
    }

    if (auto uploaded = upload_blobs(target, artifact, progress, result); !uploaded) return uploaded;
    auto stored =
        target.put_manifest(artifact.manifest_digest.str(), media_type::oci_manifest, artifact.manifest_bytes);
    if (!stored) return unexpected(std::move(stored).error());
    if (is_layout) {
        result.indexing = ReferrersIndexing::layout;
    } else if (target.indexes_referrers_itself(*stored) || listing->target_indexes) {
        result.indexing = ReferrersIndexing::registry;
    } else {
        auto tag = ops::add_to_fallback_tag(
            target, subject.digest,
            ops::referrer_descriptor(artifact.manifest, artifact.manifest_digest,
                                     static_cast<std::int64_t>(artifact.manifest_bytes.size())));
        if (!tag) return unexpected(std::move(tag).error());
        result.indexing = ReferrersIndexing::fallback_tag;
        result.referrers_tag = *tag;
    }
    return {};
}

// Push refuses what pull would (SPEC §8): each policy file in the artifact, all of them
// together and the archive layer stay within the limits pull enforces with the same flags.
Result<void> check_pull_limits(const std::vector<Policy>& policies, const bundle::BuiltArtifact& artifact,
                               PolicyFormat format, const InputLimits& limits) {
    std::vector<std::string> over;
    std::uint64_t total = 0;
    for (const auto& policy : policies) {
        const auto* text = serialized_text(policy, format);
        const std::uint64_t size = text ? text->size() : serialize_policy(policy, format).size();
        total += size;
        if (size > limits.max_file_bytes)
            over.push_back(policy.origin.str() + ": " + policy.identity.str() + " is " + std::to_string(size) +
                           " bytes in the artifact, over the limit of " + std::to_string(limits.max_file_bytes) +
                           " bytes (raise --max-file-size)");
    }
    if (total > limits.max_total_bytes)
        over.push_back("the policies take " + std::to_string(total) + " bytes, over the limit of " +
                       std::to_string(limits.max_total_bytes) + " bytes (raise --max-total-size)");
    for (const auto& layer : artifact.layers)
        if (layer.bytes.size() > limits.max_total_bytes)
            over.push_back("the layer takes " + std::to_string(layer.bytes.size()) + " bytes, over the limit of " +
                           std::to_string(limits.max_total_bytes) + " bytes (raise --max-total-size)");
    if (artifact.config.bytes.size() > bundle::max_config_bytes)
        over.push_back("the config (the policy index) takes " + std::to_string(artifact.config.bytes.size()) +
                       " bytes, over the limit of " + std::to_string(bundle::max_config_bytes) +
                       " bytes that pull reads: push the policies in parts");
    if (over.empty()) return {};
    Error error(ErrorKind::validation, "the artifact would be over the limits that pull enforces; nothing was pushed",
                "raise the limit named above with the same flag for push and pull, or split the policies");
    error.details = std::move(over);
    return unexpected(std::move(error));
}

Error interrupted() {
    return Error(ErrorKind::cancelled, "interrupted; nothing was pushed");
}

// SPEC §6: a tag that holds anything but a KubeArmor artifact is not replaced without --force.
Result<void> push_to_tag(oci::Target& target, const std::string& tag, const bundle::BuiltArtifact& artifact, bool force,
                         ProgressSink* progress, PushResult& result) {
    auto existing = target.fetch_manifest(tag);
    if (!existing) return unexpected(std::move(existing).error());
    if (*existing) {
        const auto& current = (*existing)->manifest;
        if (holds_same_policies(current, artifact)) {
            result.tag_unchanged = true;
            result.manifest = current;
            result.manifest_digest = (*existing)->digest;
            return {};
        }
        if (auto allowed = ops::allow_tag_replacement(
                target, tag, **existing, force,
                "use --attach to store the policies beside it, or --force to replace the tag");
            !allowed)
            return unexpected(std::move(allowed).error());
    }
    if (auto uploaded = upload_blobs(target, artifact, progress, result); !uploaded) return uploaded;
    auto stored = target.put_manifest(tag, media_type::oci_manifest, artifact.manifest_bytes);
    if (!stored) return unexpected(std::move(stored).error());
    return {};
}

}  // namespace

Result<PushResult> push_policies(const PushOptions& options) {
    const bool by_digest = options.layout ? options.layout->digest.has_value() : options.reference.digest().has_value();
    if (by_digest && !options.attach)
        return unexpected(Error(ErrorKind::usage, "cannot push to a digest reference (" + options.reference.str() + ")",
                                "push to a tag, for example " + options.reference.registry() + "/" +
                                    options.reference.repository() + ":v1; or pass --attach to attach to it"));
    // `created` decides which attached artifact a pull takes (SPEC §6): a value that is not a
    // date-time would sort as the oldest, or, in other tools, not at all.
    // A date in the future would rank it above everything attached later, for as long as the
    // date lasts: refused beyond the clock skew that ranking allows (ops::max_clock_skew_seconds).
    const auto now = ops::now_seconds();
    if (const auto created = options.annotations.find(annotation::created); created != options.annotations.end()) {
        const auto time = ops::parse_rfc3339(created->second);
        if (!time)
            return unexpected(Error(ErrorKind::usage,
                                    "annotation " + std::string(annotation::created) + "=\"" + created->second +
                                        "\" is not an RFC 3339 date-time",
                                    "give a time such as 2026-11-27T17:00:00Z, or drop it: push sets it to the "
                                    "current time (or to $SOURCE_DATE_EPOCH)"));
        if (time->seconds > now + ops::max_clock_skew_seconds)
            return unexpected(Error(ErrorKind::usage,
                                    "annotation " + std::string(annotation::created) + "=\"" + created->second +
                                        "\" lies in the future (this machine's clock says " + ops::rfc3339(now) + ")",
                                    "drop it: push sets it to the current time; a later date would outrank every "
                                    "artifact attached after it"));
    }
    if (options.source_date_epoch && *options.source_date_epoch > now + ops::max_clock_skew_seconds)
        return unexpected(Error(ErrorKind::usage,
                                "SOURCE_DATE_EPOCH=" + std::to_string(*options.source_date_epoch) + " (" +
                                    ops::rfc3339(*options.source_date_epoch) + ") lies in the future",
                                "set it to a past time such as $(git log -1 --format=%ct), or unset it"));
    // Each policy becomes the text that is pushed as soon as it is validated (see
    // LoadOptions::serialize_as): parsed documents are not kept.
    LoadOptions load = options.load;
    load.serialize_as = options.format;
    load.cancel = options.remote.cancel;
    const auto is_cancelled = [&] { return options.remote.cancel && options.remote.cancel->load(); };
    if (options.progress) options.progress->stage_started(ProgressStage::loading_policies);
    auto policies = load_policy_files(options.inputs, load);
    if (!policies) return unexpected(std::move(policies).error());
    if (options.progress) options.progress->policies_loaded(policies->size());

    std::optional<ops::OpenedTarget> opened;
    bundle::BuildOptions build;
    if (options.attach) {
        // The image is resolved even for --dry-run: the subject is part of the manifest. A
        // layout must already hold the image, so it is not created (pull access).
        const bool read_only = options.dry_run || options.layout.has_value();
        auto target = ops::open_target(options.reference, options.layout, options.remote,
                                       read_only ? ops::Access::pull : ops::Access::push);
        if (!target) return unexpected(std::move(target).error());
        opened = std::move(*target);
        auto subject = resolve_subject(*opened->target, opened->manifest_reference());
        if (!subject) return unexpected(std::move(subject).error());
        build.subject = *subject;
    }
    build.format = options.format;
    build.tar_layer = options.tar_layer;
    build.annotations = options.annotations;
    build.created = ops::rfc3339(options.source_date_epoch.value_or(now));
    build.archive_mtime = options.source_date_epoch.value_or(0);
    build.cancel = options.remote.cancel;
    if (is_cancelled()) return unexpected(interrupted());
    auto artifact = bundle::build_artifact(*policies, build);
    if (!artifact) return unexpected(std::move(artifact).error());
    if (is_cancelled()) return unexpected(interrupted());
    if (auto within = check_pull_limits(*policies, *artifact, options.format, options.load.limits); !within)
        return unexpected(std::move(within).error());

    PushResult result;
    result.manifest = artifact->manifest;
    result.manifest_digest = artifact->manifest_digest;
    result.subject = artifact->manifest.subject;
    // Moved, not copied: neither the policies nor the names are read again (140,000 of each).
    auto& names = artifact->file_names;
    result.policies.reserve(policies->size());
    for (std::size_t i = 0; i < policies->size(); ++i)
        result.policies.push_back({std::move((*policies)[i].identity), std::move(names[i])});
    const auto finish = [&](const std::string& shown) {
        result.reference = options.reference.with_digest(result.manifest_digest);
        if (options.attach) result.reference = options.reference.with_tag("").with_digest(result.manifest_digest);
        result.location = shown + "@" + result.manifest_digest.str();
    };
    if (options.dry_run) {
        finish(options.layout ? options.layout->str() : options.reference.str());
        return result;
    }

    if (options.attach) {
        if (auto attached = attach(*opened->target, *artifact, options.layout.has_value(), options.progress, result);
            !attached)
            return unexpected(std::move(attached).error());
        finish(opened->target->where());
        return result;
    }
    auto target = ops::open_target(options.reference, options.layout, options.remote, ops::Access::push);
    if (!target) return unexpected(std::move(target).error());
    const std::string tag = target->tag.empty() ? "latest" : target->tag;
    if (auto pushed = push_to_tag(*target->target, tag, *artifact, options.force, options.progress, result); !pushed)
        return unexpected(std::move(pushed).error());
    finish(target->target->describe(tag));
    return result;
}

}  // namespace karmor
