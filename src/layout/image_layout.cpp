#include "layout/image_layout.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "oci/manifest_json.hpp"

namespace karmor::layout {
namespace {

namespace fs = std::filesystem;

constexpr const char* layout_file = "oci-layout";
constexpr const char* index_file = "index.json";
constexpr const char* layout_version = "1.0.0";
constexpr std::uint64_t max_index_bytes = 64ull << 20;

Unexpected<Error> io_error(const std::string& what, const fs::path& path, const std::string& why) {
    return unexpected(Error(ErrorKind::io, what + " " + path.string() + ": " + why,
                            "check that the layout directory exists and is writable"));
}

Unexpected<Error> corrupt(const fs::path& path, const std::string& why) {
    return unexpected(Error(ErrorKind::validation, path.string() + ": " + why,
                            "the OCI image layout is damaged; copy it again from its source"));
}

// The file's bytes, std::nullopt when it does not exist.
Result<std::optional<std::string>> read_file(const fs::path& path, std::uint64_t max_bytes) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::optional<std::string>();
    const auto size = fs::file_size(path, ec);
    if (ec) return io_error("cannot read", path, ec.message());
    if (size > max_bytes)
        return corrupt(path, "is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes));
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) return io_error("cannot read", path, std::strerror(errno));
    return std::optional<std::string>(buffer.str());
}

// Writes to a temporary file in the same directory and renames it over `path`, so that a
// reader sees the old file or the new one, never a part.
Result<void> write_file_atomically(const fs::path& path, std::string_view bytes) {
    // Appended piece by piece: GCC 12 at -O3 reports `"." + std::string` as an overlapping
    // copy (-Wrestrict, a false positive).
    std::string name = ".";
    name.append(path.filename().string()).append(".karmor-tmp-XXXXXX");
    std::string temp = (path.parent_path() / name).string();
    const int fd = mkstemp(temp.data());
    if (fd < 0) return io_error("cannot create a temporary file for", path, std::strerror(errno));
    std::size_t written = 0;
    bool ok = true;
    while (written < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    const int saved = errno;
    ok = ok && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    ::close(fd);
    if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(ok ? errno : saved);
        ::unlink(temp.c_str());
        return io_error("cannot write", path, why);
    }
    return {};
}

// An exclusive flock on the layout directory for a read-modify-write of index.json.
class DirectoryLock {
public:
    explicit DirectoryLock(const fs::path& directory) : fd_(::open(directory.c_str(), O_RDONLY | O_DIRECTORY)) {
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~DirectoryLock() {
        if (fd_ >= 0) ::close(fd_);  // releases the lock
    }
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;
    bool locked() const { return fd_ >= 0; }

private:
    int fd_;
};

std::string ref_name_of(const Descriptor& d) {
    const auto it = d.annotations.find(annotation::ref_name);
    return it == d.annotations.end() ? std::string() : it->second;
}

bool is_image_manifest_type(const std::string& type) {
    return type == media_type::oci_manifest || type == media_type::docker_manifest;
}

Result<void> initialize(const fs::path& directory) {
    std::error_code ec;
    fs::create_directories(directory / "blobs" / "sha256", ec);
    if (ec) return io_error("cannot create the OCI image layout", directory, ec.message());
    nlohmann::ordered_json index = {
        {"schemaVersion", 2}, {"mediaType", media_type::oci_index}, {"manifests", nlohmann::ordered_json::array()}};
    if (auto w = write_file_atomically(directory / index_file, index.dump()); !w) return w;
    return write_file_atomically(directory / layout_file,
                                 nlohmann::ordered_json{{"imageLayoutVersion", layout_version}}.dump());
}

}  // namespace

Result<std::unique_ptr<ImageLayout>> ImageLayout::open(const fs::path& directory, bool create) {
    std::error_code ec;
    const bool exists = fs::exists(directory, ec);
    if (exists && !fs::is_directory(directory, ec))
        return unexpected(Error(ErrorKind::io, directory.string() + " exists and is not a directory",
                                "name a directory for the OCI image layout"));
    if (!exists || fs::is_empty(directory, ec)) {
        if (!create)
            return unexpected(Error(ErrorKind::not_found,
                                    directory.string() + " is not an OCI image layout (" +
                                        (exists ? "it is empty" : "it does not exist") + ")",
                                    "check the path; `karmor oci push --oci-layout DIR:TAG` creates one"));
        if (auto made = initialize(directory); !made) return unexpected(std::move(made).error());
    }
    auto marker = read_file(directory / layout_file, 1 << 16);
    if (!marker) return unexpected(std::move(marker).error());
    if (!*marker)
        return unexpected(Error(ErrorKind::validation,
                                directory.string() + " is not an OCI image layout: it has no oci-layout file",
                                "name an OCI image layout directory, or an empty or new one to create"));
    const auto version = nlohmann::json::parse(**marker, nullptr, false);
    if (!version.is_object() || !version.contains("imageLayoutVersion") || !version["imageLayoutVersion"].is_string() ||
        version["imageLayoutVersion"].get<std::string>().rfind("1.", 0) != 0)
        return corrupt(directory / layout_file, "imageLayoutVersion is not 1.x");
    return std::unique_ptr<ImageLayout>(new ImageLayout(directory));
}

fs::path ImageLayout::blob_path(const Digest& digest) const {
    return directory_ / "blobs" / digest.algorithm() / digest.hex();
}

Result<nlohmann::ordered_json> ImageLayout::read_index_json() const {
    const auto path = directory_ / index_file;
    auto bytes = read_file(path, max_index_bytes);
    if (!bytes) return unexpected(std::move(bytes).error());
    if (!*bytes) return corrupt(path, "is missing");
    auto index = nlohmann::ordered_json::parse(**bytes, nullptr, false);
    if (index.is_discarded() || !index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
        return corrupt(path, "is not an image index");
    return index;
}

Result<std::vector<Descriptor>> ImageLayout::read_index() const {
    auto index = read_index_json();
    if (!index) return unexpected(std::move(index).error());
    std::vector<Descriptor> entries;
    for (const auto& entry : (*index)["manifests"]) {
        auto d = oci::descriptor_from_json(entry, (directory_ / index_file).string());
        if (!d) return unexpected(std::move(d).error());
        entries.push_back(std::move(*d));
    }
    return entries;
}

Result<void> ImageLayout::write_index_json(const nlohmann::ordered_json& index) const {
    return write_file_atomically(directory_ / index_file, index.dump());
}

Result<std::optional<Descriptor>> ImageLayout::resolve(const std::string& reference) const {
    auto entries = read_index();
    if (!entries) return unexpected(std::move(entries).error());
    if (auto digest = Digest::parse(reference)) {
        for (const auto& d : *entries)
            if (d.digest == *digest) return std::optional<Descriptor>(d);
        // Not listed, but a manifest blob may still be there (a referrer another tool wrote).
        std::error_code ec;
        if (!fs::exists(blob_path(*digest), ec)) return std::optional<Descriptor>();
        Descriptor d;
        d.digest = *digest;
        d.size = static_cast<std::int64_t>(fs::file_size(blob_path(*digest), ec));
        return std::optional<Descriptor>(d);
    }
    const std::string tag = reference.empty() ? "latest" : reference;
    std::optional<Descriptor> found;
    for (const auto& d : *entries)
        if (ref_name_of(d) == tag) found = d;
    // No tag named and none is "latest": the only tagged manifest (untagged entries are
    // attached artifacts), or the only manifest of all.
    std::vector<Descriptor> candidates;
    for (const auto& d : *entries)
        if (!ref_name_of(d).empty()) candidates.push_back(d);
    if (candidates.empty()) candidates = *entries;
    if (!found && reference.empty() && candidates.size() == 1) found = candidates.front();
    if (!found && reference.empty() && candidates.size() > 1) {
        std::string tags;
        for (const auto& d : *entries)
            if (!ref_name_of(d).empty()) tags += (tags.empty() ? "" : ", ") + ref_name_of(d);
        return unexpected(Error(ErrorKind::usage,
                                directory_.string() + " holds " + std::to_string(entries->size()) +
                                    " manifests and none is tagged latest",
                                "name one as DIR:TAG or DIR@DIGEST" + (tags.empty() ? "" : " (tags: " + tags + ")")));
    }
    return found;
}

Result<std::string> ImageLayout::read_blob(const Digest& digest, std::int64_t expected_size,
                                           std::uint64_t max_bytes) const {
    const auto path = blob_path(digest);
    if (expected_size < 0 || static_cast<std::uint64_t>(expected_size) > max_bytes)
        return unexpected(Error(ErrorKind::validation, path.string() + ": blob of " + std::to_string(expected_size) +
                                                           " bytes is over the limit of " + std::to_string(max_bytes)));
    auto bytes = read_file(path, max_bytes);
    if (!bytes) return unexpected(std::move(bytes).error());
    if (!*bytes)
        return unexpected(Error(ErrorKind::not_found, directory_.string() + ": blob " + digest.str() + " is missing",
                                "the OCI image layout is incomplete; copy it again from its source"));
    if ((*bytes)->size() != static_cast<std::size_t>(expected_size))
        return corrupt(path, "holds " + std::to_string((*bytes)->size()) + " bytes, expected " +
                                 std::to_string(expected_size));
    if (!digest.matches(**bytes)) return corrupt(path, "does not match its digest");
    return std::move(**bytes);
}

Result<oci::FetchedManifest> ImageLayout::read_manifest(const Descriptor& descriptor) const {
    auto bytes = read_blob(descriptor.digest, descriptor.size, oci::max_manifest_bytes);
    if (!bytes) return unexpected(std::move(bytes).error());
    oci::FetchedManifest out;
    out.bytes = std::move(*bytes);
    out.content_type = descriptor.media_type;
    out.digest = descriptor.digest;
    auto manifest = oci::parse_manifest(out.bytes, out.content_type, directory_.string() + "@" + out.digest.str());
    if (!manifest) return unexpected(std::move(manifest).error());
    out.manifest = std::move(*manifest);
    return out;
}

Result<std::optional<oci::FetchedManifest>> ImageLayout::fetch_manifest(const std::string& reference) {
    auto descriptor = resolve(reference);
    if (!descriptor) return unexpected(std::move(descriptor).error());
    if (!*descriptor) return std::optional<oci::FetchedManifest>();
    auto manifest = read_manifest(**descriptor);
    if (!manifest) return unexpected(std::move(manifest).error());
    return std::optional<oci::FetchedManifest>(std::move(*manifest));
}

Result<oci::StoredManifest> ImageLayout::put_manifest(const std::string& reference, const std::string& media_type,
                                                      std::string_view bytes) {
    oci::StoredManifest stored;
    stored.digest = Digest::sha256_of(bytes);
    Descriptor entry;
    entry.media_type = media_type;
    entry.digest = stored.digest;
    entry.size = static_cast<std::int64_t>(bytes.size());
    auto parsed = oci::parse_manifest(bytes, media_type, directory_.string());
    if (!parsed) return unexpected(std::move(parsed).error());
    entry.artifact_type = parsed->artifact_type;
    // The blob first: index.json never names a blob that is not complete.
    if (auto blob = put_blob(entry, bytes, {}); !blob) return unexpected(std::move(blob).error());

    DirectoryLock lock(directory_);
    if (!lock.locked()) return io_error("cannot lock", directory_, std::strerror(errno));
    auto index = read_index_json();
    if (!index) return unexpected(std::move(index).error());
    auto& manifests = (*index)["manifests"];
    const bool by_digest = Digest::parse(reference).has_value();
    if (by_digest) {
        for (const auto& e : manifests)
            if (e.is_object() && e.value("digest", "") == stored.digest.str()) return stored;
    } else {
        // A tag names one manifest: the entry that had it is replaced, all others are kept.
        nlohmann::ordered_json kept = nlohmann::ordered_json::array();
        for (auto& e : manifests) {
            const bool tagged_so = e.is_object() && e.contains("annotations") && e["annotations"].is_object() &&
                                   e["annotations"].value(annotation::ref_name, "") == reference;
            if (!tagged_so) kept.push_back(std::move(e));
        }
        manifests = std::move(kept);
        entry.annotations[annotation::ref_name] = reference;
    }
    manifests.push_back(oci::descriptor_to_json(entry));
    if (auto written = write_index_json(*index); !written) return unexpected(std::move(written).error());
    return stored;
}

Result<bool> ImageLayout::blob_exists(const Descriptor& blob) {
    // Only an intact blob counts: a damaged one is written again by put_blob.
    if (blob.size < 0) return false;
    auto existing = read_file(blob_path(blob.digest), static_cast<std::uint64_t>(blob.size));
    return existing && *existing && blob.digest.matches(**existing);
}

Result<void> ImageLayout::put_blob(const Descriptor& blob, std::string_view bytes, const oci::TransferObserver&) {
    if (!blob.digest.matches(bytes) || static_cast<std::size_t>(blob.size) != bytes.size())
        return unexpected(Error(ErrorKind::validation, "blob " + blob.digest.str() + " does not match its bytes"));
    if (auto exists = blob_exists(blob); *exists) return {};
    std::error_code ec;
    fs::create_directories(blob_path(blob.digest).parent_path(), ec);
    if (ec) return io_error("cannot create", blob_path(blob.digest).parent_path(), ec.message());
    return write_file_atomically(blob_path(blob.digest), bytes);
}

Result<std::string> ImageLayout::fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                            const oci::TransferObserver&) {
    return read_blob(blob.digest, blob.size, max_bytes);
}

Result<std::optional<std::vector<Descriptor>>> ImageLayout::list_referrers(const Digest& subject,
                                                                           const std::string& artifact_type) {
    auto entries = read_index();
    if (!entries) return unexpected(std::move(entries).error());
    std::vector<Descriptor> referrers;
    for (const auto& entry : *entries) {
        if (!is_image_manifest_type(entry.media_type)) continue;
        if (!artifact_type.empty() && !entry.artifact_type.empty() && entry.artifact_type != artifact_type) continue;
        auto manifest = read_manifest(entry);
        if (!manifest) return unexpected(std::move(manifest).error());
        const auto& m = manifest->manifest;
        if (!m.subject || m.subject->digest != subject) continue;
        // The descriptor a referrers API would give (distribution-spec "Listing Referrers").
        Descriptor d;
        d.media_type = m.media_type;
        d.digest = entry.digest;
        d.size = entry.size;
        d.artifact_type = !m.artifact_type.empty() ? m.artifact_type : (m.config ? m.config->media_type : "");
        d.annotations = m.annotations;
        if (artifact_type.empty() || d.artifact_type == artifact_type) referrers.push_back(std::move(d));
    }
    return std::optional<std::vector<Descriptor>>(std::move(referrers));
}

Result<std::vector<std::string>> ImageLayout::list_tags() {
    auto entries = read_index();
    if (!entries) return unexpected(std::move(entries).error());
    std::vector<std::string> tags;
    for (const auto& d : *entries)
        if (const auto name = ref_name_of(d); !name.empty() && std::find(tags.begin(), tags.end(), name) == tags.end())
            tags.push_back(name);
    return tags;
}

}  // namespace karmor::layout
