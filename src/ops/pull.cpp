// SPEC §2 pull, §4 reading artifacts of other tools, §5 file names, §6 pulling from an image,
// §8 verification.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "bundle/artifact.hpp"
#include "follow/pull_state.hpp"
#include "karmor/oci.hpp"
#include "ops/open_target.hpp"
#include "ops/output_directory.hpp"
#include "ops/referrers.hpp"
#include "ops/signatures.hpp"
#include "ops/referrers_index.hpp"
#include "ops/transfer_tally.hpp"

namespace karmor {
namespace {

// `skipping_helps`: the same layers read with --skip-validation have no problem, so the hint
// may offer it; safety refusals (unsafe archives, limits) and unreadable documents it cannot lift.
Error invalid_artifact(const std::string& where, std::vector<Diagnostic> problems, bool skipping_helps) {
    Error error(ErrorKind::validation,
                where + ": the artifact holds " + std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems") + "; nothing was written",
                skipping_helps ? "push a corrected policy set, or pass --skip-validation to pull it as it is"
                               : "push a corrected policy set");
    add_diagnostics(error, problems);
    return error;
}

// SPEC §6: the reference is an image (or anything but a KubeArmor artifact): the newest
// KubeArmor artifact attached to it, verified to name it as its subject.
// An attached artifact dated in the future ranks after the others (ops::sort_newest_first);
// passing one over, or taking one because nothing else is there, is said aloud.
void warn_about_future_dates(const std::vector<Descriptor>& referrers, const std::string& where,
                             const std::function<void(const std::string&)>& warn) {
    if (!warn || referrers.empty()) return;
    const auto now = ops::now_seconds();
    const auto created = [](const Descriptor& d) {
        const auto it = d.annotations.find(annotation::created);
        return it == d.annotations.end() ? std::string("no date") : "created " + it->second;
    };
    const auto& taken = referrers.front();
    for (const auto& d : referrers) {
        if (!ops::is_future_dated(d, now) || d.digest == taken.digest) continue;
        warn("the artifact " + d.digest.str() + " attached to " + where + " is dated in the future (" + created(d) +
             ", more than " + std::to_string(ops::max_clock_skew_seconds / 60) +
             " minutes ahead of this machine's clock), so it ranks after the others; took " + taken.digest.str() +
             " (" + created(taken) + ")");
    }
    if (ops::is_future_dated(taken, now))
        warn("every artifact attached to " + where + " is dated in the future; took the latest, " + taken.digest.str() +
             " (" + created(taken) + "): check the clocks of this machine and of the pusher");
}

Result<oci::FetchedManifest> newest_attached(oci::Target& target, const oci::FetchedManifest& image,
                                             const std::string& where,
                                             const std::function<void(const std::string&)>& warn) {
    auto listing = ops::find_referrers(target, image.digest, media_type::kubearmor_config);
    if (!listing) return unexpected(std::move(listing).error());
    const auto what = bundle::describe_artifact(image.manifest);
    if (listing->referrers.empty()) {
        // Nothing attached is "not found", whatever the reference itself is (an image, an index,
        // another tool's artifact): one situation, one exit code.
        return unexpected(Error(ErrorKind::not_found,
                                where + " is " + what + " (" + image.digest.str() +
                                    ") and no KubeArmor policy artifact is attached to it (looked in " +
                                    listing->source + ")",
                                "attach policies with `karmor oci push --attach -i " + where + " -p POLICIES`"));
    }
    warn_about_future_dates(listing->referrers, where, warn);
    const auto& newest = listing->referrers.front();
    auto fetched = target.fetch_manifest(newest.digest.str());
    if (!fetched) return unexpected(std::move(fetched).error());
    const std::string artifact_where = target.where() + "@" + newest.digest.str();
    if (!*fetched)
        return unexpected(Error(ErrorKind::not_found,
                                artifact_where + ", listed as attached to " + where + ", does not exist",
                                "the referrers list is stale; attach the policies again"));
    const auto& m = (*fetched)->manifest;
    if (!bundle::is_kubearmor_artifact(m) || !m.subject || m.subject->digest != image.digest)
        return unexpected(Error(ErrorKind::validation,
                                artifact_where + ", listed as attached to " + where +
                                    ", is not a KubeArmor policy artifact whose subject is " + image.digest.str(),
                                "the referrers list is wrong; attach the policies again"));
    return std::move(**fetched);
}

std::uint64_t blob_size(const Descriptor& blob) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(blob.size, 0));
}

// What read_policies downloads: the layers.
std::uint64_t blob_bytes(const Manifest& manifest) {
    std::uint64_t total = 0;
    for (const auto& layer : manifest.layers) total += blob_size(layer);
    return total;
}

Result<std::vector<Policy>> read_policies(oci::Target& target, const Manifest& manifest, const std::string& where,
                                          const LoadOptions& load, ProgressSink* progress,
                                          const std::function<void(Policy&)>& parsed = {}) {
    ops::TransferTally tally(progress, TransferDirection::download, blob_bytes(manifest));
    // The config is not read: it is an index for `inspect`, the layers are the truth
    // (docs/artifact-format.md), and the manifest's digest already pins it. A pull is one
    // request shorter, as `oras pull` is; `copy` and `inspect` still read and verify it.
    const auto limits = bundle::archive_limits(load.limits);
    std::vector<bundle::FetchedLayer> layers;
    for (const auto& layer : manifest.layers) {
        if (!bundle::is_policy_layer(layer.media_type))
            return unexpected(Error(ErrorKind::validation,
                                    where + ": layer " + layer.digest.str() + " has media type " + layer.media_type +
                                        ", which is not a KubeArmor policy layer",
                                    "pull with a tool that understands this artifact"));
        const bool archive = layer.media_type == media_type::kubearmor_layer_tar_gzip;
        const std::uint64_t max_bytes = archive ? limits.max_total_bytes : limits.max_entry_bytes;
        const auto size = blob_size(layer);
        // Refused before a byte is fetched, with the flag that lifts the limit (push checked
        // the same limits, so a karmor artifact is over them only if pushed with raised ones).
        if (size > max_bytes)
            return unexpected(Error(ErrorKind::validation,
                                    where + ": layer " + layer.digest.str() + " is " + std::to_string(size) +
                                        " bytes, over the limit of " + std::to_string(max_bytes) + " bytes",
                                    archive ? "raise --max-total-size if you trust the artifact"
                                            : "raise --max-file-size if you trust the artifact"));
        auto bytes = target.fetch_blob(layer, max_bytes, tally.observe(size));
        if (!bytes) return unexpected(std::move(bytes).error());
        tally.finished(size);
        layers.push_back({layer, std::move(*bytes)});
    }

    if (progress) progress->stage_started(ProgressStage::loading_policies);
    std::vector<Diagnostic> problems;
    auto policies = bundle::read_policy_layers(layers, load, limits, problems, parsed);
    if (load.cancel && load.cancel->load())
        return unexpected(Error(ErrorKind::cancelled, "interrupted while reading the policies; nothing was written"));
    if (!problems.empty()) {
        bool skipping_helps = false;
        if (!load.skip_validation) {
            LoadOptions identity_only = load;
            identity_only.skip_validation = true;
            std::vector<Diagnostic> remaining;
            bundle::read_policy_layers(layers, identity_only, limits, remaining);
            skipping_helps = remaining.empty();
        }
        return unexpected(invalid_artifact(where, std::move(problems), skipping_helps));
    }
    if (policies.empty()) return unexpected(Error(ErrorKind::validation, where + ": the artifact holds no policy"));
    if (progress) progress->policies_loaded(policies.size());
    return policies;
}

// SPEC §9: before anything is written, a signature of exactly `artifact` must pass every check.
Result<std::vector<SignatureReport>> verify_before_pull(oci::Target& target, const PullOptions& options,
                                                        const ops::Verifier& verifier, const Digest& artifact,
                                                        bool attached, const std::string& location) {
    // The tag names the image when the artifact was found attached to it, not the artifact.
    const std::string tag = attached ? "" : (options.layout ? options.layout->tag : options.reference.tag());
    auto expected = ops::expected_subject(options.reference, options.layout, *options.verify, artifact, tag);
    if (!expected) return unexpected(std::move(expected).error());
    auto verified = ops::verify_signatures(target, *expected, verifier, location);
    if (!verified) {
        auto error = std::move(verified).error();
        if (error.kind == ErrorKind::verification) error.message += "; nothing was written";
        return unexpected(std::move(error));
    }
    return std::move(verified->signatures);
}

// Pull into a directory that does not exist yet (the usual case in CI): each policy is written
// into the staged directory as soon as its text is read, so that creating the files overlaps
// parsing the rest; the directory appears under its name only once every policy is valid
// (SPEC §8). Written under the name it has alone; where two identities flatten to the same
// name, the later one goes under a private name until every name is known.
class StagedWriter {
public:
    explicit StagedWriter(ops::StagedDirectory directory) : directory_(std::move(directory)) {}

    void write(Policy& policy) {
        if (failed_) return;
        const auto name = policy_file_name(policy.identity, PolicyFormat::yaml);
        auto written = directory_.write(name, policy.serialized);
        if (written && !*written) {
            std::lock_guard lock(mutex_);
            const auto private_name = ".karmor-pull-" + std::to_string(written_as_.size());
            written = directory_.write(private_name, policy.serialized);
            written_as_[policy.identity.str()] = private_name;
        }
        if (!written) {
            std::lock_guard lock(mutex_);
            if (!error_) error_ = std::move(written).error();
            failed_ = true;
        }
    }

    const std::filesystem::path& target() const { return directory_.target(); }

    // Every file under its final name (`names`, in the order of `policies`), the directory
    // moved into place.
    Result<void> commit(const std::vector<Policy>& policies, const std::vector<std::string>& names) {
        if (error_) return unexpected(*error_);
        // Two steps, so that no rename lands on a file that still has to move.
        std::vector<std::pair<std::string, std::string>> moves;
        for (std::size_t i = 0; i < policies.size(); ++i) {
            const auto it = written_as_.find(policies[i].identity.str());
            auto written =
                it != written_as_.end() ? it->second : policy_file_name(policies[i].identity, PolicyFormat::yaml);
            if (written != names[i]) moves.emplace_back(std::move(written), names[i]);
        }
        for (std::size_t i = 0; i < moves.size(); ++i) {
            const auto between = ".karmor-move-" + std::to_string(i);
            if (auto renamed = directory_.rename(moves[i].first, between); !renamed) return renamed;
            moves[i].first = between;
        }
        for (const auto& [from, to] : moves)
            if (auto renamed = directory_.rename(from, to); !renamed) return renamed;
        return directory_.commit();
    }

private:
    ops::StagedDirectory directory_;
    std::mutex mutex_;
    std::map<std::string, std::string> written_as_;  // identity → private name
    std::atomic<bool> failed_{false};
    std::optional<Error> error_;
};

}  // namespace

Result<PullResult> pull_policies(const PullOptions& options) {
    ops::Verifier verifier;
    if (options.verify) {
        auto loaded = ops::load_verifier(*options.verify, "--verify-key");
        if (!loaded) return unexpected(std::move(loaded).error());
        verifier = std::move(*loaded);
    }
    auto required =
        ops::fetch_required_manifest(options.reference, options.layout, options.remote,
                                     "check the repository and tag; `karmor oci inspect` shows what a reference holds");
    if (!required) return unexpected(std::move(required).error());
    auto& target = *required->opened.target;
    const auto& where = required->where;

    PullResult result;
    oci::FetchedManifest artifact = std::move(required->manifest);
    if (!bundle::is_kubearmor_artifact(artifact.manifest) &&
        ops::is_referrers_index(artifact.manifest, required->opened.tag)) {
        const auto subject = ops::referrers_tag_subject(required->opened.tag);
        return unexpected(
            Error(ErrorKind::usage,
                  where + " is a referrers index (the OCI 1.1 fallback tag): it lists what is attached to an image and "
                          "holds no policies itself",
                  subject && !options.layout
                      ? "pull from the image it belongs to: karmor oci pull " +
                            options.reference.with_tag("").with_digest(*subject).str() + " -o DIR"
                      : "pull from the image it belongs to; `karmor oci inspect` lists what is attached"));
    }
    if (bundle::is_signature(artifact.manifest)) {
        // A `.sig` tag is no place to attach policies to: say what it signs instead (issue 22).
        const auto signed_digest = ops::signed_subject(artifact.manifest, required->opened.tag);
        return unexpected(Error(
            ErrorKind::usage,
            where + " is " + bundle::describe_artifact(artifact.manifest) +
                (signed_digest ? " of " + signed_digest->str() : std::string()) + ", not KubeArmor policies",
            signed_digest && !options.layout ? "pull what it signs: karmor oci pull " +
                                                   options.reference.with_tag("").with_digest(*signed_digest).str() +
                                                   " -o DIR; `karmor oci verify` checks signatures"
                                             : "pull what it signs; `karmor oci verify` checks signatures"));
    }
    if (!bundle::is_kubearmor_artifact(artifact.manifest)) {
        auto attached = newest_attached(target, artifact, where, options.remote.warn);
        if (!attached) return unexpected(std::move(attached).error());
        result.subject = attached->manifest.subject;
        artifact = std::move(*attached);
    }
    result.manifest_digest = artifact.digest;
    result.reference = options.reference.with_digest(result.manifest_digest);
    if (result.subject) result.reference = options.reference.with_tag("").with_digest(result.manifest_digest);
    result.location = target.where() + "@" + result.manifest_digest.str();
    if (options.verify) {
        auto verified =
            verify_before_pull(target, options, verifier, artifact.digest, result.subject.has_value(), result.location);
        if (!verified) return unexpected(std::move(verified).error());
        result.signatures = std::move(*verified);
    }

    // Pull writes YAML: each policy is serialized as it is validated, and its parsed document
    // dropped, so that 100,000 policies fit in little memory.
    LoadOptions load = options.load;
    load.serialize_as = PolicyFormat::yaml;
    load.cancel = options.remote.cancel;
    std::optional<StagedWriter> staged;
    if (!options.stream) {
        // Not found is what an error code says here too (ENOENT): only the type tells it apart
        // from a path that could not be looked at (EACCES), which is left to the other path.
        std::error_code ec;
        if (std::filesystem::symlink_status(options.output_directory, ec).type() ==
            std::filesystem::file_type::not_found) {
            auto directory = ops::StagedDirectory::create_for(options.output_directory);
            if (!directory) return unexpected(std::move(directory).error());
            staged.emplace(std::move(*directory));
        }
    }
    const auto write_staged = [&](Policy& policy) { staged->write(policy); };
    auto policies = read_policies(target, artifact.manifest, result.location, load, options.progress,
                                  staged ? std::function<void(Policy&)>(write_staged) : nullptr);
    if (!policies) return unexpected(std::move(policies).error());
    const auto names = policy_file_names(*policies, PolicyFormat::yaml);
    for (std::size_t i = 0; i < policies->size(); ++i) result.policies.push_back({(*policies)[i].identity, names[i]});

    if (options.progress) options.progress->stage_started(ProgressStage::writing_files);
    if (staged) {
        if (options.remote.cancel && options.remote.cancel->load())
            return unexpected(Error(ErrorKind::cancelled, "interrupted; the output directory is unchanged"));
        follow::PullState state{result.manifest_digest.str(), result.location,
                                follow::recorded_files(*policies, names)};
        if (auto committed = staged->commit(*policies, names); !committed)
            return unexpected(std::move(committed).error());
        for (const auto& name : names) result.files_written.push_back(staged->target() / name);
        if (auto saved = follow::write_pull_state(options.output_directory, state); !saved)
            return unexpected(std::move(saved).error());
        return result;
    }
    if (options.stream) {
        for (std::size_t i = 0; i < policies->size(); ++i) {
            if (i > 0) *options.stream << "---\n";
            *options.stream << (*policies)[i].serialized;
        }
        options.stream->flush();
        if (!*options.stream) return unexpected(Error(ErrorKind::io, "cannot write the policies to standard output"));
        return result;
    }

    const auto& directory = options.output_directory;
    auto earlier = follow::read_pull_state(directory);
    if (!earlier) {
        // --force replaces what it cannot read (issue 22): the state is karmor's bookkeeping, and
        // without it every file is treated as one karmor did not write (so --force is needed anyway).
        if (!options.force) {
            auto error = std::move(earlier).error();
            error.hint += std::string(error.hint.empty() ? "" : "; or ") + "pull with --force to replace it";
            return unexpected(std::move(error));
        }
        if (options.remote.warn)
            options.remote.warn(earlier.error().message + "; --force: replacing it, so the files of earlier pulls "
                                                          "are no longer known as karmor's");
        earlier = std::optional<follow::PullState>();
    }
    follow::PullState state{result.manifest_digest.str(), result.location, follow::recorded_files(*policies, names)};
    std::vector<ops::OutputFile> files;
    files.reserve(policies->size());
    std::set<std::string> new_names;
    for (std::size_t i = 0; i < policies->size(); ++i) {
        new_names.insert(names[i]);
        files.push_back({names[i], std::move((*policies)[i].serialized)});
    }
    // Files of an earlier pull that nobody changed since are karmor's to replace; the others
    // (edited by a person) need --force like any file karmor did not write.
    std::set<std::string> replaceable;
    std::vector<follow::RecordedFile> stale;
    if (*earlier) {
        for (const auto& recorded : (*earlier)->files) {
            const auto on_disk = follow::file_sha256(directory / recorded.name);
            if (new_names.contains(recorded.name)) {
                if (on_disk == recorded.sha256) replaceable.insert(recorded.name);
            } else if (on_disk) {
                stale.push_back(recorded);
            }
        }
    }
    auto written = ops::write_output_files(directory, files, options.force, options.remote.cancel, replaceable);
    if (!written) return unexpected(std::move(written).error());
    result.files_written = std::move(written->written);
    result.files_unchanged = std::move(written->unchanged);

    for (auto& recorded : stale) {
        const auto path = directory / recorded.name;
        const bool edited = follow::file_sha256(path) != recorded.sha256;
        if (options.prune && (!edited || options.force)) {
            std::error_code ec;
            if (!std::filesystem::remove(path, ec) && ec)
                return unexpected(Error(ErrorKind::io, "cannot remove " + path.string() + ": " + ec.message(),
                                        "check that the directory is writable"));
            result.pruned_files.push_back(path);
            continue;
        }
        (edited ? result.modified_stale : result.stale_files).push_back(path);
        recorded.leftover = true;
        state.files.push_back(std::move(recorded));
    }
    // A pull that changed nothing leaves the state file as it is: no write, fsync and rename
    // (about 1.5 ms, a tenth of pulling one policy) for the same bytes.
    if (*earlier && follow::pull_state_json(**earlier) == follow::pull_state_json(state)) return result;
    if (auto saved = follow::write_pull_state(directory, state); !saved) return unexpected(std::move(saved).error());
    return result;
}

}  // namespace karmor
