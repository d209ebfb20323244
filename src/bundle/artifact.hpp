// The KubeArmor policy artifact (SPEC §4): building it from policies, and reading policies
// back from the layers of one (ours, or one made by another tool with our media types).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bundle/archive.hpp"
#include "karmor/oci_types.hpp"
#include "karmor/policy.hpp"

namespace karmor::bundle {

// Registries cap manifests at 4 MiB, but a config is a blob: the index of 100,000 policies
// takes about 18 MB. The bound still stops a hostile registry from filling memory.
inline constexpr std::uint64_t max_config_bytes = 64ull << 20;

struct Blob {
    Descriptor descriptor;
    std::string bytes;
};

struct BuildOptions {
    PolicyFormat format = PolicyFormat::yaml;
    std::map<std::string, std::string> annotations;  // the user's -a, on the manifest
    std::optional<Descriptor> subject;               // --attach
    std::string created;                             // RFC 3339
    std::int64_t archive_mtime = 0;                  // SOURCE_DATE_EPOCH, else 0
    int compression_level = 6;
    // The tar+gzip layer even for one policy (SPEC §11: Flux's OCIRepository extracts only
    // tar.gz layers).
    bool tar_layer = false;
    const std::atomic<bool>* cancel = nullptr;  // stops the archive between files
};

struct BuiltArtifact {
    std::vector<std::string> file_names;  // of each policy, in the order given (policy_file_names)
    Blob config;
    std::vector<Blob> layers;
    Manifest manifest;
    std::string manifest_bytes;
    Digest manifest_digest;
};

// `policies` must be sorted (sort_policies) and free of duplicates.
Result<BuiltArtifact> build_artifact(const std::vector<Policy>& policies, const BuildOptions& options);

// The config's policy index, canonical JSON (sorted keys, no spaces).
std::string build_config(const std::vector<Policy>& policies, const std::vector<std::string>& file_names);

bool is_policy_layer(const std::string& media_type);
bool is_kubearmor_artifact(const Manifest& manifest);
bool is_container_image(const Manifest& manifest);
// A cosign signature or attestation (a `.sig`/`.att` tag) or a Sigstore bundle.
bool is_signature(const Manifest& manifest);
// "a container image", "a Helm chart", … for messages about artifacts we refuse.
std::string describe_artifact(const Manifest& manifest);

// The archive bounds that InputLimits sets.
inline ArchiveLimits archive_limits(const InputLimits& limits) {
    return {limits.max_policies, limits.max_file_bytes, limits.max_total_bytes};
}

struct FetchedLayer {
    Descriptor descriptor;
    std::string bytes;  // verified against the descriptor
};

// Parses the policies of every policy layer; problems (of every layer) are appended.
// `parsed`, when given, is called with each policy as soon as its text is read, on the thread
// that read it (pull writes the file then), before the set is checked as a whole. A YAML
// layer that is its policy's serialized text is moved into the policy and left empty, unless a
// problem was found in a text (then the layers are as they were).
std::vector<Policy> read_policy_layers(std::vector<FetchedLayer>& layers, const LoadOptions& options,
                                       const ArchiveLimits& limits, std::vector<Diagnostic>& problems,
                                       const std::function<void(Policy&)>& parsed = {});

}  // namespace karmor::bundle
