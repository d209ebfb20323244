// Moving artifacts between places (SPEC §11): listing, resolving and adding tags, copying
// with everything attached, saving to and loading from a tar of an OCI image layout, and
// comparing two sets of policies.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "karmor/layout.hpp"
#include "karmor/oci_types.hpp"
#include "karmor/options.hpp"
#include "karmor/policy.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"

namespace karmor {

struct TagsOptions {
    Reference repository;                   // its tag or digest is ignored
    std::optional<LayoutReference> layout;  // --oci-layout
    // Only tags that are semantic versions in this range, lowest first (empty: every tag, in
    // the registry's order).
    std::string semver;
    // Also the referrers fallback tags and cosign's .sig/.att/.sbom tags.
    bool all = false;
    RemoteOptions remote;
};

struct TagsResult {
    std::vector<std::string> tags;
    int hidden = 0;  // bookkeeping tags left out (without `all`)
};

Result<TagsResult> list_tags(const TagsOptions& options);

struct ResolveOptions {
    Reference reference;
    std::optional<LayoutReference> layout;
    RemoteOptions remote;
};

// The descriptor (digest, media type, size) of what REF names; a registry is asked with one
// manifest HEAD.
Result<Descriptor> resolve_reference(const ResolveOptions& options);

struct TagOptions {
    Reference reference;
    std::optional<LayoutReference> layout;
    std::vector<std::string> new_tags;  // in the same repository (or layout)
    // Move a tag that holds something other than KubeArmor policies (refused otherwise, as push
    // refuses it: SPEC §6).
    bool force = false;
    RemoteOptions remote;
};

struct TagResult {
    Descriptor manifest;
    std::string where;                       // the repository (or layout), for messages
    std::vector<std::string> tagged;         // a PUT was sent
    std::vector<std::string> unchanged;      // already held this digest: nothing sent
    std::map<std::string, Digest> replaced;  // tags that held another digest, and which
};

// Puts the exact manifest bytes of REF under each new tag; a tag that already holds that
// digest gets no PUT, so registries with immutable tags do not refuse a repeated run. A tag
// that holds anything but a KubeArmor artifact is moved only with `force`; every tag is checked
// before the first is moved.
Result<TagResult> tag_reference(const TagOptions& options);

// What a copy did, manifest by manifest and blob by blob.
struct CopyStats {
    int manifests_copied = 0;   // sent to the destination
    int manifests_present = 0;  // the destination had them
    int tags_set = 0;           // tag PUTs (a tag that already held the digest gets none)
    int blobs_copied = 0;       // read from the source and uploaded
    int blobs_mounted = 0;      // mounted from the source repository of the same registry
    int blobs_present = 0;      // the destination had them
    std::int64_t bytes_copied = 0;
    int referrers = 0;             // referrers copied (-r)
    int signature_tags = 0;        // cosign sha256-<hex>.sig/.att/.sbom tags copied (-r)
    int fallback_tag_entries = 0;  // referrers recorded in (or found in) the destination's fallback tag
    // Manifests that a referrers list named but the source no longer has (skipped).
    std::vector<std::string> missing;
};

// One side of a copy: a registry reference, or an OCI image layout.
struct CopyEndpoint {
    Reference reference;
    std::optional<LayoutReference> layout;
    RemoteOptions remote;
};

struct CopyOptions {
    CopyEndpoint source;
    CopyEndpoint destination;
    // The destination tag ("" for untagged). Unset: the destination's own tag when it names
    // one, else the source's tag, else untagged.
    std::optional<std::string> destination_tag;
    bool recursive = false;  // -r: referrers and cosign tags, recursively
    // Move a destination tag that holds something other than KubeArmor policies (SPEC §6).
    bool force = false;
};

struct CopyResult {
    Descriptor manifest;
    std::string source;              // for messages
    std::string destination;         // REF@DIGEST or DIR@DIGEST
    std::string destination_tag;     // REF:TAG or DIR:TAG that now names it; empty when untagged
    std::optional<Digest> replaced;  // what the destination tag held before, when it held another digest
    CopyStats stats;
};

// Copies the manifest (byte for byte, so the digest stays) and what it holds (SPEC §11).
Result<CopyResult> copy_artifact(const CopyOptions& options);

struct SaveOptions {
    std::vector<Reference> references;
    std::filesystem::path output;           // the tar file (replaced only with `force`) …
    std::ostream* output_stream = nullptr;  // … or this stream (save -o -)
    bool force = false;
    bool recursive = false;
    RemoteOptions remote;
};

struct SaveResult {
    std::vector<std::pair<std::string, Digest>> saved;  // tag in the archive (or "") and digest
    CopyStats stats;
    std::int64_t archive_bytes = 0;
};

// Writes one OCI image layout as a tar (skopeo's oci-archive:): each reference's tag becomes
// an org.opencontainers.image.ref.name; with `recursive` its referrers and cosign tags too.
Result<SaveResult> save_archive(const SaveOptions& options);

struct ArchiveLoadOptions {
    std::filesystem::path input;  // the tar file
    Reference repository;         // its tag and digest are not used: see `tag`
    // Not empty: the archive's one tagged manifest (or, without tags, its only manifest) goes
    // under this tag instead of the archive's (`load --to REPO:TAG`).
    std::string tag;
    // Move a tag that holds something other than KubeArmor policies (SPEC §6).
    bool force = false;
    RemoteOptions remote;
};

struct LoadResult {
    std::vector<std::pair<std::string, Digest>> loaded;  // tag (or "") and digest
    std::map<std::string, Digest> replaced;              // tags that held another digest, and which
    CopyStats stats;
};

// Pushes everything an archive written by save (or skopeo, or ORAS) holds into one
// repository: tagged manifests under their tags (or the tag of `repository`), the rest by
// digest, referrers indexed.
Result<LoadResult> load_archive(const ArchiveLoadOptions& options);

// One side of a diff: policy files and directories, or what a reference (or layout) holds.
struct PolicySetSource {
    std::vector<std::filesystem::path> files;  // when not empty, the side is these
    Reference reference;
    std::optional<LayoutReference> layout;
    RemoteOptions remote;
    std::string name;  // for the output: the path or reference as the user wrote it
};

struct DiffOptions {
    PolicySetSource before;
    PolicySetSource after;
    bool recursive = false;  // directories: descend into subdirectories
};

struct PolicyChange {
    PolicyIdentity identity;
    std::string before;  // canonical YAML
    std::string after;
    std::string diff;  // unified diff of the two
};

struct DiffResult {
    std::vector<PolicyIdentity> added;    // only in `after`
    std::vector<PolicyIdentity> removed;  // only in `before`
    std::vector<PolicyChange> changed;
    int unchanged = 0;
    bool equal() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Compares two sets of policies by identity (kind, namespace, name) and canonical form: the
// document with comments and nulls dropped, mapping keys sorted, printed as YAML by the one
// serializer — so comments, key order, quoting and whitespace do not count (SPEC §11).
Result<DiffResult> diff_policies(const DiffOptions& options);

// The canonical form diff compares: YAML with every mapping's keys sorted.
std::string canonical_policy_yaml(const Policy& policy);

}  // namespace karmor
