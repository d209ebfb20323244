#include <regex>

#include "karmor/layout.hpp"

namespace karmor {
namespace {

constexpr const char* expected_form = "an OCI image layout reference has the form DIR[:TAG|@sha256:HEX], "
                                      "for example ./policies-layout:v1";

Unexpected<Error> invalid(std::string_view text, const std::string& why) {
    return unexpected(Error(ErrorKind::usage,
                            "invalid OCI image layout reference \"" + std::string(text) + "\": " + why, expected_form));
}

}  // namespace

Result<LayoutReference> LayoutReference::parse(std::string_view text) {
    LayoutReference ref;
    std::string_view rest = text;
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        if (auto digest = Digest::parse(rest.substr(at + 1))) {
            ref.digest = *digest;
            rest = rest.substr(0, at);
        }
    }
    const auto last_slash = rest.rfind('/');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
        ref.tag = std::string(rest.substr(colon + 1));
        rest = rest.substr(0, colon);
        static const std::regex tag_pattern("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
        if (!std::regex_match(ref.tag, tag_pattern))
            return invalid(text, "tag \"" + ref.tag + "\" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    }
    if (rest.empty()) return invalid(text, "the directory is missing");
    ref.directory = std::filesystem::path(std::string(rest));
    return ref;
}

std::string LayoutReference::str() const {
    // Appended piece by piece: GCC 12 at -O3 reports `"@" + std::string` as an overlapping
    // copy (-Wrestrict, a false positive).
    std::string out = directory.string();
    if (!tag.empty()) out.append(":").append(tag);
    if (digest) out.append("@").append(digest->str());
    return out;
}

}  // namespace karmor
