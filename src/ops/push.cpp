// SPEC §2 push, §4 the artifact, §6 no clobbering.
#include <chrono>

#include "bundle/artifact.hpp"
#include "karmor/oci.hpp"
#include "ops/remote.hpp"

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

}  // namespace

Result<PushResult> push_policies(const PushOptions& options) {
    if (options.reference.digest())
        return unexpected(Error(ErrorKind::usage, "cannot push to a digest reference (" + options.reference.str() + ")",
                                "push to a tag, for example " + options.reference.registry() + "/" +
                                    options.reference.repository() + ":v1"));
    auto policies = load_policy_files(options.inputs, options.load);
    if (!policies) return unexpected(std::move(policies).error());

    bundle::BuildOptions build;
    build.format = options.format;
    build.annotations = options.annotations;
    const std::int64_t now = options.source_date_epoch.value_or(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    build.created = ops::rfc3339(now);
    build.archive_mtime = options.source_date_epoch.value_or(0);
    auto artifact = bundle::build_artifact(*policies, build);
    if (!artifact) return unexpected(std::move(artifact).error());

    PushResult result;
    result.manifest = artifact->manifest;
    result.manifest_digest = artifact->manifest_digest;
    result.reference = options.reference.with_digest(artifact->manifest_digest);
    const auto names = policy_file_names(*policies, options.format);
    for (std::size_t i = 0; i < policies->size(); ++i) result.policies.push_back({(*policies)[i].identity, names[i]});
    if (options.dry_run) return result;

    auto remote = ops::connect(options.reference, options.remote, true);
    auto& client = *remote.client;
    const auto& tag = options.reference.tag();

    auto existing = client.fetch_manifest(tag);
    if (!existing) return unexpected(std::move(existing).error());
    if (*existing) {
        const auto& current = (*existing)->manifest;
        if (holds_same_policies(current, *artifact)) {
            result.tag_unchanged = true;
            result.manifest = current;
            result.manifest_digest = (*existing)->digest;
            result.reference = options.reference.with_digest(result.manifest_digest);
            return result;
        }
        if (!bundle::is_kubearmor_artifact(current) && !options.force)
            return unexpected(Error(ErrorKind::usage,
                                    options.reference.str() + " holds " + bundle::describe_artifact(current) + " (" +
                                        (*existing)->digest.str() + "); pushing would replace it",
                                    "use --attach to store the policies beside it, or --force to replace the tag"));
    }

    std::vector<const bundle::Blob*> blobs{&artifact->config};
    for (const auto& layer : artifact->layers) blobs.push_back(&layer);
    for (const auto* blob : blobs) {
        auto exists = client.blob_exists(blob->descriptor);
        if (!exists) return unexpected(std::move(exists).error());
        if (*exists) {
            ++result.blobs_skipped;
            continue;
        }
        if (auto uploaded = client.upload_blob(blob->descriptor, blob->bytes); !uploaded)
            return unexpected(std::move(uploaded).error());
        ++result.blobs_uploaded;
    }
    auto digest = client.put_manifest(tag, media_type::oci_manifest, artifact->manifest_bytes);
    if (!digest) return unexpected(std::move(digest).error());
    return result;
}

}  // namespace karmor
