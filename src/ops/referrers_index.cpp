#include "ops/referrers_index.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "oci/manifest_json.hpp"

namespace karmor::ops {

std::string referrers_tag(const Digest& subject) {
    return subject.algorithm().substr(0, 32) + "-" + subject.hex().substr(0, 64);
}

std::optional<Digest> referrers_tag_subject(const std::string& tag) {
    const auto dash = tag.find('-');
    if (dash == std::string::npos) return std::nullopt;
    auto digest = Digest::parse(tag.substr(0, dash) + ":" + tag.substr(dash + 1));
    if (!digest) return std::nullopt;
    return *digest;
}

std::optional<Digest> signed_subject(const Manifest& manifest, const std::string& tag) {
    if (manifest.subject) return manifest.subject->digest;
    for (const std::string_view suffix : {".sig", ".att", ".sbom"}) {
        if (tag.size() > suffix.size() && tag.compare(tag.size() - suffix.size(), suffix.size(), suffix) == 0)
            return referrers_tag_subject(tag.substr(0, tag.size() - suffix.size()));
    }
    return std::nullopt;
}

bool is_referrers_index(const Manifest& manifest, const std::string& tag) {
    if (!manifest.is_index()) return false;
    if (referrers_tag_subject(tag)) return true;
    if (manifest.manifests.empty()) return false;
    return std::all_of(manifest.manifests.begin(), manifest.manifests.end(),
                       [](const Descriptor& d) { return !d.artifact_type.empty() && !d.platform_json; });
}

Descriptor referrer_descriptor(const Manifest& manifest, const Digest& digest, std::int64_t size) {
    Descriptor d;
    d.media_type = manifest.media_type;
    d.digest = digest;
    d.size = size;
    d.artifact_type = manifest.artifact_type;
    if (d.artifact_type.empty() && manifest.config) d.artifact_type = manifest.config->media_type;
    d.annotations = manifest.annotations;
    return d;
}

Result<std::optional<std::string>> add_to_referrers_index(const std::optional<std::string>& existing,
                                                          const Descriptor& referrer, const std::string& where) {
    // Edited as JSON, not through Manifest, so that fields this tool does not model (urls,
    // data, the index's own annotations, …) survive untouched.
    nlohmann::ordered_json index;
    if (existing) {
        index = nlohmann::ordered_json::parse(*existing, nullptr, false);
        if (index.is_discarded() || !index.is_object() || !index.contains("manifests") ||
            !index["manifests"].is_array())
            return unexpected(Error(ErrorKind::validation,
                                    where + " is not an image index, so it cannot list referrers",
                                    "the referrers tag holds something else; delete or fix it, then attach again"));
        for (const auto& entry : index["manifests"])
            if (entry.is_object() && entry.value("digest", "") == referrer.digest.str())
                return std::optional<std::string>();
    } else {
        index = nlohmann::ordered_json::object();
        index["schemaVersion"] = 2;
        index["mediaType"] = media_type::oci_index;
        index["manifests"] = nlohmann::ordered_json::array();
    }
    index["manifests"].push_back(oci::descriptor_to_json(referrer));
    return std::optional<std::string>(index.dump());
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_digits(const std::string& text, std::size_t& at, std::size_t count, int& out) {
    if (at + count > text.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[at + i];
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        out = out * 10 + (c - '0');
    }
    at += count;
    return true;
}

bool expect(const std::string& text, std::size_t& at, const char* choices) {
    if (at >= text.size() || std::string_view(choices).find(text[at]) == std::string_view::npos) return false;
    ++at;
    return true;
}

std::string created_of(const Descriptor& d) {
    const auto it = d.annotations.find(annotation::created);
    return it == d.annotations.end() ? std::string() : it->second;
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(const std::string& text) {
    std::size_t at = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, at, 4, year) || !expect(text, at, "-") || !read_digits(text, at, 2, month) ||
        !expect(text, at, "-") || !read_digits(text, at, 2, day) || !expect(text, at, "Tt ") ||
        !read_digits(text, at, 2, hour) || !expect(text, at, ":") || !read_digits(text, at, 2, minute) ||
        !expect(text, at, ":") || !read_digits(text, at, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    Timestamp t;
    if (at < text.size() && text[at] == '.') {
        ++at;
        std::int64_t scale = 100'000'000;
        const std::size_t first = at;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
            t.nanoseconds += (text[at] - '0') * scale;
            scale /= 10;
            ++at;
        }
        if (at == first) return std::nullopt;
    }
    std::int64_t offset_seconds = 0;
    if (expect(text, at, "Zz")) {
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const int sign = text[at] == '-' ? -1 : 1;
        ++at;
        int oh = 0, om = 0;
        if (!read_digits(text, at, 2, oh) || !expect(text, at, ":") || !read_digits(text, at, 2, om) || oh > 23 ||
            om > 59)
            return std::nullopt;
        offset_seconds = sign * (oh * 3600 + om * 60);
    } else {
        return std::nullopt;
    }
    if (at != text.size()) return std::nullopt;
    t.seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
                minute * 60 + second - offset_seconds;
    return t;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool is_future_dated(const Descriptor& referrer, std::int64_t now) {
    const auto created = parse_rfc3339(created_of(referrer));
    return created && created->seconds > now + max_clock_skew_seconds;
}

void sort_newest_first(std::vector<Descriptor>& referrers, std::int64_t now) {
    // A missing or unreadable time sorts as the oldest possible; a future one after all of them.
    const auto key = [now](const Descriptor& d) {
        const auto time = parse_rfc3339(created_of(d)).value_or(Timestamp{INT64_MIN, 0});
        return std::pair{time.seconds <= now + max_clock_skew_seconds, time};
    };
    std::stable_sort(referrers.begin(), referrers.end(), [&](const Descriptor& a, const Descriptor& b) {
        const auto ka = key(a), kb = key(b);
        if (ka != kb) return ka > kb;
        return a.digest.str() > b.digest.str();
    });
}

}  // namespace karmor::ops
