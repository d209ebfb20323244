#include "moving/tag_filter.hpp"

#include <algorithm>
#include <cctype>

namespace karmor::moving {

bool is_bookkeeping_tag(std::string_view tag) {
    for (const std::string_view suffix : {".sig", ".att", ".sbom"}) {
        if (tag.size() > suffix.size() && tag.substr(tag.size() - suffix.size()) == suffix) {
            tag.remove_suffix(suffix.size());
            break;
        }
    }
    std::string_view hex;
    if (tag.substr(0, 7) == "sha256-" || tag.substr(0, 7) == "sha512-") hex = tag.substr(7);
    return hex.size() == 64 && std::all_of(hex.begin(), hex.end(),
                                           [](unsigned char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> select_versions(const std::vector<std::string>& tags, const Range& range) {
    std::vector<std::pair<Version, std::string>> found;
    for (const auto& tag : tags)
        if (auto version = Version::parse(tag); version && range.matches(*version))
            found.emplace_back(std::move(*version), tag);
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return compare(a.first, b.first) < 0; });
    std::vector<std::string> out;
    out.reserve(found.size());
    for (auto& [version, tag] : found) out.push_back(std::move(tag));
    return out;
}

}  // namespace karmor::moving
