// The library's entry points: push policies as an OCI artifact, pull them back (SPEC §2).
// The library never prints and never exits; the CLI turns results into text and exit codes.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/options.hpp"
#include "karmor/policy.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"

namespace karmor {

struct PushOptions {
    Reference reference;
    std::vector<std::filesystem::path> inputs;
    LoadOptions load;
    PolicyFormat format = PolicyFormat::yaml;
    std::map<std::string, std::string> annotations;
    bool force = false;    // replace a tag that holds something other than a KubeArmor artifact
    bool dry_run = false;  // build everything, send nothing
    // Seconds since the epoch for org.opencontainers.image.created and tar mtimes
    // (SOURCE_DATE_EPOCH); the current time for `created` when unset.
    std::optional<std::int64_t> source_date_epoch;
    RemoteOptions remote;
};

struct PolicySummary {
    PolicyIdentity identity;
    std::string file;  // name in the artifact, or the file written by pull
};

struct PushResult {
    Reference reference;  // what was pushed to, with the manifest digest
    Digest manifest_digest;
    Manifest manifest;
    std::vector<PolicySummary> policies;
    bool tag_unchanged = false;  // the tag already held exactly these policies
    int blobs_uploaded = 0;
    int blobs_skipped = 0;
};

Result<PushResult> push_policies(const PushOptions& options);

struct PullOptions {
    Reference reference;
    // Where policy files go; ignored when `stream` is set.
    std::filesystem::path output_directory;
    std::ostream* stream = nullptr;  // -o -: one multi-document YAML stream
    bool force = false;              // replace files that exist with other content
    LoadOptions load;
    RemoteOptions remote;
};

struct PullResult {
    Reference reference;
    Digest manifest_digest;
    std::vector<PolicySummary> policies;
    std::vector<std::filesystem::path> files_written;    // new or replaced
    std::vector<std::filesystem::path> files_unchanged;  // already there with the same content
};

Result<PullResult> pull_policies(const PullOptions& options);

}  // namespace karmor
