// Where manifests and blobs live: a repository of a registry, or a local OCI image layout.
// Push, pull and inspect work against this interface, so that `--oci-layout` is the same code
// path as a registry (SPEC §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/result.hpp"
#include "oci/registry_client.hpp"

namespace karmor::oci {

class Target {
public:
    virtual ~Target() = default;

    // For messages: registry/repository, or the layout's directory.
    virtual std::string where() const = 0;
    // `reference` + this separator + tag or digest: ":" for a tag, "@" for a digest.
    std::string describe(const std::string& reference) const {
        return where() + (Digest::parse(reference) ? "@" : ":") + reference;
    }

    // The manifest at a tag or digest, verified against the digest when the reference is
    // one. Not found is std::nullopt.
    virtual Result<std::optional<FetchedManifest>> fetch_manifest(const std::string& reference) = 0;
    // Only the digest of the manifest at a tag or digest; a registry answers it from a HEAD.
    virtual Result<std::optional<Digest>> resolve_manifest(const std::string& reference) {
        auto fetched = fetch_manifest(reference);
        if (!fetched) return unexpected(std::move(fetched).error());
        if (!*fetched) return std::optional<Digest>();
        return std::optional<Digest>((*fetched)->digest);
    }
    // Stores a manifest under a tag, or untagged when `reference` is its digest.
    virtual Result<StoredManifest> put_manifest(const std::string& reference, const std::string& media_type,
                                                std::string_view bytes) = 0;

    virtual Result<bool> blob_exists(const Descriptor& blob) = 0;
    // `observer` (may be empty) sees the bytes moved so far while they travel over a network;
    // a target that only copies local files need not call it.
    virtual Result<void> put_blob(const Descriptor& blob, std::string_view bytes, const TransferObserver& observer) = 0;
    // The blob's bytes, checked against the descriptor's size and digest.
    virtual Result<std::string> fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                           const TransferObserver& observer) = 0;

    // The manifests whose subject is `subject`, as descriptors with artifactType and the
    // manifest's annotations, when the target indexes referrers itself (a registry with the
    // referrers API, an image layout); std::nullopt when it does not (then the referrers
    // tag schema applies). Only `artifact_type` is kept when it is not empty.
    virtual Result<std::optional<std::vector<Descriptor>>> list_referrers(const Digest& subject,
                                                                          const std::string& artifact_type) = 0;
    // True when a manifest stored with a subject is found by list_referrers without help.
    virtual bool indexes_referrers_itself(const StoredManifest& stored) const = 0;
};

}  // namespace karmor::oci
