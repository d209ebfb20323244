#include "ops/open_target.hpp"

#include "layout/image_layout.hpp"
#include "mirrors/endpoints.hpp"
#include "ops/mirrored_target.hpp"
#include "ops/remote.hpp"

namespace karmor::ops {
namespace {

class RegistryTarget final : public oci::Target {
public:
    explicit RegistryTarget(Remote remote) : remote_(std::move(remote)) {}

    std::string where() const override { return client().where(); }
    Result<std::optional<oci::FetchedManifest>> fetch_manifest(const std::string& reference) override {
        return client().fetch_manifest(reference);
    }
    Result<oci::StoredManifest> put_manifest(const std::string& reference, const std::string& media_type,
                                             std::string_view bytes) override {
        return client().store_manifest(reference, media_type, bytes);
    }
    Result<bool> blob_exists(const Descriptor& blob) override { return client().blob_exists(blob); }
    Result<void> put_blob(const Descriptor& blob, std::string_view bytes,
                          const oci::TransferObserver& observer) override {
        return client().upload_blob(blob, bytes, observer);
    }
    Result<std::string> fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                   const oci::TransferObserver& observer) override {
        return client().fetch_blob(blob, max_bytes, observer);
    }
    Result<std::optional<std::vector<Descriptor>>> list_referrers(const Digest& subject,
                                                                  const std::string& artifact_type) override {
        return client().list_referrers(subject, artifact_type);
    }
    bool indexes_referrers_itself(const oci::StoredManifest& stored) const override {
        return !stored.oci_subject.empty();
    }
    Result<std::optional<Descriptor>> resolve_manifest(const std::string& reference) override {
        return client().head_manifest(reference);
    }
    Result<std::vector<std::string>> list_tags() override { return client().list_tags(); }
    std::optional<RepositoryName> repository_name() const override {
        return RepositoryName{client().registry(), client().repository()};
    }
    Result<bool> mount_blob(const Descriptor& blob, const std::string& from_repository) override {
        return client().mount_blob(blob, from_repository);
    }

private:
    oci::RegistryClient& client() const { return *remote_.client; }
    Remote remote_;
};

}  // namespace

Result<OpenedTarget> open_target(const Reference& reference, const std::optional<LayoutReference>& layout,
                                 const RemoteOptions& remote, Access access) {
    OpenedTarget opened;
    if (layout) {
        auto image_layout = layout::ImageLayout::open(layout->directory, access == Access::push);
        if (!image_layout) return unexpected(std::move(image_layout).error());
        opened.target = std::move(*image_layout);
        opened.tag = layout->tag;
        opened.digest = layout->digest;
        return opened;
    }
    // SPEC §15: reads go where the node's mirror configuration says; writes to the registry
    // itself, unless the configuration blocks it.
    if (access == Access::push) {
        if (auto allowed = mirrors::check_not_blocked(reference, remote.mirrors); !allowed)
            return unexpected(std::move(allowed).error());
    } else {
        auto plan = mirrors::plan_reads(reference, remote.mirrors);
        if (!plan) return unexpected(std::move(plan).error());
        if (plan->uses_configuration()) opened.target = make_mirrored_target(reference, std::move(*plan), remote);
    }
    if (!opened.target)
        opened.target = std::make_unique<RegistryTarget>(connect(reference, remote, access == Access::push));
    opened.tag = reference.tag();
    opened.digest = reference.digest();
    return opened;
}

Result<RequiredManifest> fetch_required_manifest(const Reference& reference,
                                                 const std::optional<LayoutReference>& layout,
                                                 const RemoteOptions& remote, const std::string& not_found_hint) {
    auto opened = open_target(reference, layout, remote, Access::pull);
    if (!opened) return unexpected(std::move(opened).error());
    const auto where = layout ? layout->str() : reference.str();
    auto fetched = opened->target->fetch_manifest(opened->manifest_reference());
    if (!fetched) return unexpected(std::move(fetched).error());
    if (!*fetched) return unexpected(Error(ErrorKind::not_found, where + ": not found", not_found_hint));
    return RequiredManifest{std::move(*opened), where, std::move(**fetched)};
}

}  // namespace karmor::ops
