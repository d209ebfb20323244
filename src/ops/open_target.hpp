// Opens what an operation works on: the repository of a registry reference, or the OCI image
// layout of --oci-layout.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "karmor/layout.hpp"
#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "oci/target.hpp"

namespace karmor::ops {

struct OpenedTarget {
    std::unique_ptr<oci::Target> target;
    std::string tag;  // empty when by digest (or, in a layout, when none was named)
    std::optional<Digest> digest;

    // What to fetch: the digest wins over the tag.
    std::string manifest_reference() const { return digest ? digest->str() : tag; }
};

enum class Access { pull, push };

Result<OpenedTarget> open_target(const Reference& reference, const std::optional<LayoutReference>& layout,
                                 const RemoteOptions& remote, Access access);

// What pull and inspect start from: the target, opened for reading, and the manifest its
// reference names.
struct RequiredManifest {
    OpenedTarget opened;
    std::string where;  // the reference as given (layout or registry), for messages
    oci::FetchedManifest manifest;
};

// A manifest that is not there is an error of kind not_found, "WHERE: not found", with
// `not_found_hint`.
Result<RequiredManifest> fetch_required_manifest(const Reference& reference,
                                                 const std::optional<LayoutReference>& layout,
                                                 const RemoteOptions& remote, const std::string& not_found_hint);

}  // namespace karmor::ops
