// SPEC §10: one round of `follow`: HEAD the reference; on a new digest pull it into a new
// version directory, then switch DIR to it as a whole.
#include <unistd.h>

#include <map>
#include <random>
#include <utility>

#include "follow/lock.hpp"
#include "follow/pull_state.hpp"
#include "follow/versions.hpp"
#include "karmor/follow.hpp"
#include "karmor/oci.hpp"
#include "moving/semver.hpp"
#include "moving/tag_filter.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"

namespace karmor {
namespace {

namespace fs = std::filesystem;

// Identity → content hash, from what pull recorded in a version directory.
std::map<PolicyIdentity, std::string> recorded_policies(const std::optional<fs::path>& version) {
    std::map<PolicyIdentity, std::string> out;
    if (!version) return out;
    auto state = follow::read_pull_state(*version);
    if (!state || !*state) return out;
    for (const auto& f : (*state)->files)
        if (!f.leftover) out[f.identity] = f.sha256;
    return out;
}

PolicyChanges compare(const std::map<PolicyIdentity, std::string>& before,
                      const std::map<PolicyIdentity, std::string>& after) {
    PolicyChanges changes;
    for (const auto& [identity, hash] : after) {
        const auto old = before.find(identity);
        if (old == before.end())
            changes.added.push_back(identity);
        else if (old->second != hash)
            changes.changed.push_back(identity);
    }
    for (const auto& [identity, hash] : before)
        if (!after.contains(identity)) changes.removed.push_back(identity);
    return changes;
}

std::string random_suffix() {
    std::random_device device;
    return std::to_string(::getpid()) + "-" + std::to_string(device());
}

// The highest version among the repository's tags that `range` admits (SPEC §10 --semver).
Result<std::string> highest_tag_in_range(oci::Target& target, const std::string& range_text) {
    auto range = moving::Range::parse(range_text);
    if (!range) return unexpected(std::move(range).error());
    auto tags = target.list_tags();
    if (!tags) return unexpected(std::move(tags).error());
    const auto versions = moving::select_versions(*tags, *range);
    if (versions.empty())
        return unexpected(
            Error(ErrorKind::not_found, target.where() + ": no tag is a version in the range " + range_text,
                  "`karmor oci tags -i REPO --semver RANGE` lists what matches; the directory is unchanged"));
    return versions.back();
}

}  // namespace

fs::path follow_versions_directory(const fs::path& directory) {
    auto normal = directory.lexically_normal();
    if (normal.has_filename() == false) normal = normal.parent_path();
    return normal.parent_path() / (normal.filename().string() + ".versions");
}

FollowLock::FollowLock(FollowLock&& other) noexcept
    : versions_(std::move(other.versions_)), descriptors_(std::exchange(other.descriptors_, {})) {}

FollowLock& FollowLock::operator=(FollowLock&& other) noexcept {
    if (this != &other) {
        release();
        versions_ = std::move(other.versions_);
        descriptors_ = std::exchange(other.descriptors_, {});
    }
    return *this;
}

FollowLock::~FollowLock() {
    release();
}

void FollowLock::release() {
    for (const int fd : descriptors_) ::close(fd);
    descriptors_.clear();
}

Result<FollowLock> lock_follow_directory(const FollowOptions& options) {
    auto directory = options.directory.lexically_normal();
    if (!directory.has_filename()) directory = directory.parent_path();
    FollowLock lock;
    lock.versions_ = follow_versions_directory(directory);
    // A state directory elsewhere is locked too (first: it is the one more likely to exist, and a
    // refused follower then creates nothing): two followers sharing one would overwrite each
    // other's state.
    std::vector<fs::path> locked;
    if (!options.state_directory.empty() &&
        options.state_directory.lexically_normal() != lock.versions_.lexically_normal())
        locked.push_back(options.state_directory);
    locked.push_back(lock.versions_);
    std::error_code ec;
    auto holder = follow::this_process_as_holder();
    holder.reference = options.reference.str();
    holder.semver = options.semver;
    for (const auto& where : locked) {
        fs::create_directories(where, ec);
        if (ec)
            return unexpected(Error(ErrorKind::io, "cannot create " + where.string() + ": " + ec.message(),
                                    "check that the directory holding " + where.filename().string() + " is writable"));
        auto fd = follow::take_lock(where, holder, directory);
        if (!fd) return unexpected(std::move(fd).error());  // the destructor releases what was taken
        lock.descriptors_.push_back(*fd);
    }
    return lock;
}

Result<FollowRound> follow_once(const FollowOptions& options, const FollowLock& lock) {
    const auto cancelled = [&] { return options.remote.cancel && options.remote.cancel->load(); };
    const auto interrupted = [] {
        return unexpected(Error(ErrorKind::cancelled, "interrupted; the directory is unchanged"));
    };
    auto directory = options.directory.lexically_normal();
    if (!directory.has_filename()) directory = directory.parent_path();
    const auto versions = follow_versions_directory(directory);
    if (lock.versions_directory() != versions)
        return unexpected(Error(ErrorKind::io, "follow of " + directory.string() + " without its lock",
                                "take it with lock_follow_directory first"));
    const auto state_directory = options.state_directory.empty() ? versions : options.state_directory;
    std::error_code ec;

    auto current = follow::current_version(directory, versions);
    if (!current) return unexpected(std::move(current).error());
    auto state = follow::read_follow_state(state_directory);
    if (!state) return unexpected(std::move(state).error());
    const bool current_is_whole = *current && fs::is_directory(**current, ec);

    // The one request of an idle round (two when following an image's attachments).
    auto opened = ops::open_target(options.reference, std::nullopt, options.remote, ops::Access::pull);
    if (!opened) return unexpected(std::move(opened).error());
    auto& target = *opened->target;
    std::string where = options.reference.str();
    std::string manifest_reference = opened->manifest_reference();
    // What the reports name: the tag followed, with the digest of the artifact DIR holds.
    Reference followed = options.reference;
    if (!options.semver.empty()) {
        // One more request a round: the tag list (every page of it).
        auto chosen = highest_tag_in_range(target, options.semver);
        if (!chosen) return unexpected(std::move(chosen).error());
        manifest_reference = *chosen;
        where = target.describe(manifest_reference);
        followed = options.reference.with_tag(*chosen);
    }
    auto resolved = target.resolve_manifest(manifest_reference);
    if (!resolved) return unexpected(std::move(resolved).error());
    if (!*resolved)
        return unexpected(Error(ErrorKind::not_found, where + ": not found",
                                "check the repository and tag; the directory is unchanged"));
    const Digest head = (*resolved)->digest;

    const auto applied = *state ? Digest::parse((*state)->applied) : Result<Digest>(unexpected(Error()));
    if (*state && current_is_whole && applied && (*state)->resolved == head.str() &&
        (**current).filename() == applied->hex()) {
        bool idle = true;
        // An image's digest stays when a newer artifact is attached to it.
        if (head.str() != (*state)->applied) {
            auto listing = ops::find_referrers(target, head, media_type::kubearmor_config);
            if (!listing) return unexpected(std::move(listing).error());
            idle = !listing->referrers.empty() && listing->referrers.front().digest.str() == (*state)->applied;
        }
        if (idle) {
            FollowRound round;
            round.digest = *applied;
            round.location = followed.with_digest(round.digest).str();
            round.version_directory = **current;
            return round;
        }
    }
    if (cancelled()) return interrupted();

    // Pull by digest into a temporary directory beside the versions: a failure (registry,
    // signature, invalid policy, full disk) leaves DIR as it is.
    const auto temp = versions / (".round-" + random_suffix());
    struct RemoveTemp {
        fs::path path;
        ~RemoveTemp() {
            std::error_code ignored;
            if (!path.empty()) fs::remove_all(path, ignored);
        }
    } remove_temp{temp};
    PullOptions pull;
    pull.reference = options.reference.with_digest(head);
    pull.output_directory = temp;
    pull.verify = options.verify;
    pull.load = options.load;
    pull.remote = options.remote;
    auto pulled = pull_policies(pull);
    if (!pulled) {
        auto error = std::move(pulled).error();
        if (error.kind != ErrorKind::cancelled) error.message += "; " + directory.string() + " is unchanged";
        return unexpected(std::move(error));
    }
    if (cancelled()) return interrupted();

    const auto hex = pulled->manifest_digest.hex();
    const auto version = versions / hex;
    FollowRound round;
    round.digest = pulled->manifest_digest;
    round.location = followed.with_digest(round.digest).str();
    round.signatures = std::move(pulled->signatures);
    round.version_directory = version;
    const bool already_there = current_is_whole && (**current).filename() == hex;
    if (!already_there) {
        round.changed = true;
        round.changes = compare(recorded_policies(current_is_whole ? *current : std::nullopt), recorded_policies(temp));
        // A version kept from before (a rollback to it) is replaced by the fresh, verified copy.
        fs::remove_all(version, ec);
        fs::rename(temp, version, ec);
        if (ec)
            return unexpected(Error(ErrorKind::io, "cannot move the new version into " + version.string() + ": " +
                                                       ec.message() + "; " + directory.string() + " is unchanged"));
        remove_temp.path.clear();
        if (auto switched = follow::switch_to(directory, version); !switched)
            return unexpected(std::move(switched).error());
    }

    follow::FollowState next;
    next.reference = where;
    next.resolved = head.str();
    next.applied = round.digest.str();
    next.history.push_back(hex);
    if (*state)
        for (const auto& h : (*state)->history)
            if (h != hex) next.history.push_back(h);
    if (auto saved = follow::write_follow_state(state_directory, next); !saved)
        return unexpected(std::move(saved).error());
    follow::remove_old_versions(versions, next.history, options.keep, version);
    return round;
}

}  // namespace karmor
