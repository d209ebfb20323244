// References into a local OCI image layout (image-spec "OCI Image Layout"): the directory
// that `--oci-layout` names instead of a registry, as skopeo, umoci and ORAS write it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "karmor/digest.hpp"
#include "karmor/result.hpp"

namespace karmor {

struct LayoutReference {
    std::filesystem::path directory;
    // The org.opencontainers.image.ref.name of an index.json entry; empty when by digest or
    // when none was given (pull then takes "latest", or the layout's only manifest).
    std::string tag;
    std::optional<Digest> digest;

    // DIR[:TAG|@DIGEST]. A digest is what follows the last '@' when it parses as one; a tag is
    // what follows the last ':' after the last '/', so DIR may hold ':' only in a parent
    // directory's name (use ./a:b/ or pass a tag).
    static Result<LayoutReference> parse(std::string_view text);

    std::string str() const;
};

}  // namespace karmor
