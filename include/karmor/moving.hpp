// Moving artifacts between places (SPEC §11): listing, resolving and adding tags, copying
// with everything attached, saving to and loading from a tar of an OCI image layout, and
// comparing two sets of policies.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "karmor/layout.hpp"
#include "karmor/oci_types.hpp"
#include "karmor/options.hpp"
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
    RemoteOptions remote;
};

struct TagResult {
    Descriptor manifest;
    std::vector<std::string> tagged;     // a PUT was sent
    std::vector<std::string> unchanged;  // already held this digest: nothing sent
};

// Puts the exact manifest bytes of REF under each new tag; a tag that already holds that
// digest gets no PUT, so registries with immutable tags do not refuse a repeated run.
Result<TagResult> tag_reference(const TagOptions& options);

}  // namespace karmor
