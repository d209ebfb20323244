// The library's entry points: push policies as an OCI artifact, pull them back, inspect what a
// reference holds (SPEC §2, §6).
// The library never prints and never exits; the CLI turns results into text and exit codes.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "karmor/layout.hpp"
#include "karmor/oci_types.hpp"
#include "karmor/options.hpp"
#include "karmor/policy.hpp"
#include "karmor/progress.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "karmor/signing.hpp"

namespace karmor {

struct PushOptions {
    Reference reference;
    // --oci-layout: push into this image layout instead of the registry of `reference`.
    std::optional<LayoutReference> layout;
    std::vector<std::filesystem::path> inputs;
    LoadOptions load;
    PolicyFormat format = PolicyFormat::yaml;
    std::map<std::string, std::string> annotations;
    bool force = false;    // replace a tag that holds something other than a KubeArmor artifact
    bool dry_run = false;  // build everything, send nothing
    // --layer-format tar: one tar+gzip layer even for a single policy (SPEC §11, for Flux).
    bool tar_layer = false;
    // --attach: `reference` names an image; the artifact gets it as `subject` and no tag
    // (SPEC §6, image-spec "Refers" and distribution-spec "Listing Referrers").
    bool attach = false;
    // Seconds since the epoch for org.opencontainers.image.created and tar mtimes
    // (SOURCE_DATE_EPOCH); the current time for `created` when unset.
    std::optional<std::int64_t> source_date_epoch;
    RemoteOptions remote;
    ProgressSink* progress = nullptr;  // not owned; null: no progress reports
};

struct PolicySummary {
    PolicyIdentity identity;
    std::string file;  // name in the artifact, or the file written by pull
};

// How an attached artifact can be found from its image.
enum class ReferrersIndexing {
    none,          // not attached
    registry,      // the registry indexes referrers itself (OCI-Subject, referrers API)
    fallback_tag,  // we maintain the sha256-<hex> tag (image-spec "Referrers Tag Schema")
    layout,        // an image layout: an untagged index.json entry, as ORAS writes it
};

struct PushResult {
    Reference reference;   // what was pushed to, with the manifest digest
    std::string location;  // for messages: REF@DIGEST or DIR@DIGEST
    Digest manifest_digest;
    Manifest manifest;
    std::vector<PolicySummary> policies;
    bool tag_unchanged = false;  // the tag already held exactly these policies
    // --attach: the image, how the artifact is indexed, and whether the newest KubeArmor
    // artifact attached to the image already held exactly these policies (nothing pushed).
    std::optional<Descriptor> subject;
    ReferrersIndexing indexing = ReferrersIndexing::none;
    std::string referrers_tag;  // the fallback tag, when indexing == fallback_tag
    bool already_attached = false;
    int blobs_uploaded = 0;
    int blobs_skipped = 0;
};

Result<PushResult> push_policies(const PushOptions& options);

struct PullOptions {
    // A KubeArmor artifact, or an image (or index) whose newest attached KubeArmor artifact
    // is pulled (SPEC §6).
    Reference reference;
    std::optional<LayoutReference> layout;  // --oci-layout
    // Where policy files go; ignored when `stream` is set.
    std::filesystem::path output_directory;
    std::ostream* stream = nullptr;  // -o -: one multi-document YAML stream
    bool force = false;              // replace files that exist with other content
    // Remove the files an earlier pull wrote into the directory that this artifact no longer
    // has (SPEC §10); without it they are reported in PullResult::stale_files. Files karmor
    // did not write are never touched; one a person changed since is removed only with `force`.
    bool prune = false;
    // --verify-key: the artifact is pulled only when one of its signatures passes every check
    // of SPEC §9, checked before anything is written; its blobs are read from the manifest
    // whose digest was verified.
    std::optional<SignatureRequirements> verify;
    LoadOptions load;
    RemoteOptions remote;
    ProgressSink* progress = nullptr;  // not owned; null: no progress reports
};

struct PullResult {
    Reference reference;
    std::string location;  // for messages: REF@DIGEST or DIR@DIGEST of the artifact pulled
    Digest manifest_digest;
    std::optional<Descriptor> subject;  // the image, when the artifact was found attached to it
    std::vector<PolicySummary> policies;
    std::vector<std::filesystem::path> files_written;    // new or replaced
    std::vector<std::filesystem::path> files_unchanged;  // already there with the same content
    std::vector<SignatureReport> signatures;             // with --verify-key: every signature checked
    // Files an earlier pull wrote that this artifact no longer has (SPEC §10):
    std::vector<std::filesystem::path> stale_files;     // left in place (no --prune)
    std::vector<std::filesystem::path> pruned_files;    // removed (--prune)
    std::vector<std::filesystem::path> modified_stale;  // changed since karmor wrote them: kept
};

Result<PullResult> pull_policies(const PullOptions& options);

struct InspectOptions {
    Reference reference;
    std::optional<LayoutReference> layout;  // --oci-layout
    // --key: report which of the signatures found verify under these keys.
    SignatureRequirements signature_keys;
    RemoteOptions remote;
};

// referrers_index: an index that lists what is attached to an image (the OCI 1.1 fallback tag
// sha256-<hex>), not a multi-platform image.
enum class ReferenceKind { kubearmor_artifact, image, index, other, referrers_index, signature };
const char* to_string(ReferenceKind kind);

// One entry of the policy index in a KubeArmor artifact's config.
struct PolicyInfo {
    std::string api_version;
    std::string kind;
    std::string namespace_name;  // empty for cluster-scoped kinds
    std::string name;
    std::string file;
    std::string action;  // empty when the policy has none
    std::optional<int> severity;
};

struct ArtifactInfo {
    Digest digest;
    std::int64_t size = 0;
    std::string media_type;
    std::string artifact_type;      // empty when absent
    std::string config_media_type;  // empty for an index
    std::string created;            // org.opencontainers.image.created, empty when absent
    // `created` lies in the future (beyond a 5-minute clock skew): among attached artifacts,
    // this one ranks after all others (docs/user-guide.md).
    bool future_dated = false;
    std::map<std::string, std::string> annotations;
    std::optional<Descriptor> subject;
    std::vector<Descriptor> layers;     // an image manifest's
    std::vector<Descriptor> manifests;  // an index's
    // Read from the config (KubeArmor artifacts); empty when its config has no index.
    std::vector<PolicyInfo> policies;
    // The config holds karmor's policy index. Other tools (ORAS) push a {} config: then only
    // the layers' titles say what the artifact holds.
    bool has_policy_index = false;
};

struct InspectResult {
    std::string location;  // REF@DIGEST or DIR@DIGEST
    ReferenceKind kind = ReferenceKind::other;
    std::string description;  // "a KubeArmor policy artifact", "a container image", …
    ArtifactInfo artifact;
    // For an image or index: the KubeArmor artifacts attached to it, newest first.
    std::vector<ArtifactInfo> attached;
    std::string referrers_source;  // where `attached` came from, for people
    // The signatures of the reference's digest (SPEC §9), checked against the --key keys
    // (without keys none is verified), and the signature stores that could not be read.
    std::vector<SignatureReport> signatures;
    std::vector<std::string> signature_problems;
};

Result<InspectResult> inspect_reference(const InspectOptions& options);

}  // namespace karmor
