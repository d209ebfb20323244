// A local OCI image layout (image-spec "OCI Image Layout"): `oci-layout`, `index.json` and
// `blobs/<alg>/<hex>`, with tags as org.opencontainers.image.ref.name annotations of
// index.json entries, as skopeo, umoci and ORAS read and write it.
//
// Writes are safe for readers and for other karmor processes: blobs are written to a
// temporary file and renamed into place before index.json refers to them, and index.json is
// replaced atomically (rename) while holding an flock on the layout directory. Untagged
// manifests (attached artifacts) get an index.json entry without ref.name, as ORAS does, so
// that list_referrers finds them by their subject.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "oci/target.hpp"

namespace karmor::layout {

class ImageLayout final : public oci::Target {
public:
    // Opens `directory` as a layout. With `create`, a missing or empty directory is made one.
    static Result<std::unique_ptr<ImageLayout>> open(const std::filesystem::path& directory, bool create);

    std::string where() const override { return directory_.string(); }
    // An empty reference is the "latest" tag, else the layout's only manifest.
    Result<std::optional<oci::FetchedManifest>> fetch_manifest(const std::string& reference) override;
    Result<oci::StoredManifest> put_manifest(const std::string& reference, const std::string& media_type,
                                             std::string_view bytes) override;
    Result<bool> blob_exists(const Descriptor& blob) override;
    Result<void> put_blob(const Descriptor& blob, std::string_view bytes, const oci::TransferObserver&) override;
    Result<std::string> fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                   const oci::TransferObserver&) override;
    Result<std::optional<std::vector<Descriptor>>> list_referrers(const Digest& subject,
                                                                  const std::string& artifact_type) override;
    bool indexes_referrers_itself(const oci::StoredManifest&) const override { return true; }
    // The ref.name annotations of index.json, in its order.
    Result<std::vector<std::string>> list_tags() override;
    // Every manifest index.json lists, tagged or not.
    Result<std::vector<Descriptor>> entries() const { return read_index(); }

private:
    explicit ImageLayout(std::filesystem::path directory) : directory_(std::move(directory)) {}
    std::filesystem::path blob_path(const Digest& digest) const;
    Result<std::vector<Descriptor>> read_index() const;
    Result<nlohmann::ordered_json> read_index_json() const;
    Result<void> write_index_json(const nlohmann::ordered_json& index) const;
    Result<std::optional<Descriptor>> resolve(const std::string& reference) const;
    Result<oci::FetchedManifest> read_manifest(const Descriptor& descriptor) const;
    // The blob's bytes, checked against the size and the digest.
    Result<std::string> read_blob(const Digest& digest, std::int64_t expected_size, std::uint64_t max_bytes) const;

    std::filesystem::path directory_;
};

}  // namespace karmor::layout
