#include "moving/layout_archive.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace karmor::moving {
namespace fs = std::filesystem;
namespace {

Result<std::string> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return unexpected(Error(ErrorKind::io, "cannot read " + path.string()));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) return unexpected(Error(ErrorKind::io, "cannot read " + path.string()));
    return std::move(buffer).str();
}

Result<void> write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out)
        return unexpected(Error(ErrorKind::io, "cannot write " + path.string(), "check free space and permissions"));
    return {};
}

// `oci-layout`, `index.json`, `blobs/<alg>/<hex>` with a plain algorithm and hex name.
bool is_layout_entry(const std::string& name) {
    if (name == "oci-layout" || name == "index.json") return true;
    if (name.rfind("blobs/", 0) != 0) return false;
    const auto rest = name.substr(6);
    const auto slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size()) return false;
    const auto alg = rest.substr(0, slash);
    const auto hex = rest.substr(slash + 1);
    const auto plain = [](const std::string& s, const char* allowed) {
        return std::all_of(s.begin(), s.end(), [&](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   std::string_view(allowed).find(c) != std::string_view::npos;
        });
    };
    return plain(alg, "+._-") && plain(hex, "") && hex.size() <= 128;
}

}  // namespace

Result<std::string> layout_archive(const fs::path& directory) {
    std::vector<std::pair<std::string, std::string>> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const auto name = fs::relative(it->path(), directory).generic_string();
        if (!is_layout_entry(name)) continue;  // the layout's lock file and temporary files
        auto content = read_file(it->path());
        if (!content) return unexpected(std::move(content).error());
        files.emplace_back(name, std::move(*content));
    }
    if (ec) return unexpected(Error(ErrorKind::io, "cannot list " + directory.string() + ": " + ec.message()));
    std::sort(files.begin(), files.end());
    std::vector<bundle::ArchiveFile> entries;
    for (const auto& [name, content] : files) entries.push_back({name, content});
    return bundle::write_tar(entries, 0);
}

Result<std::int64_t> write_layout_archive(const fs::path& directory, const fs::path& archive, bool replace) {
    std::error_code ec;
    if (!replace && fs::exists(fs::symlink_status(archive, ec)))
        return unexpected(Error(ErrorKind::io, archive.string() + " already exists; not replaced",
                                "pass --force to replace it, or name another file"));
    auto tar = layout_archive(directory);
    if (!tar) return unexpected(std::move(tar).error());
    auto temporary = archive;
    temporary += ".partial";
    if (auto w = write_file(temporary, *tar); !w) return unexpected(std::move(w).error());
    fs::rename(temporary, archive, ec);
    if (ec) {
        fs::remove(temporary, ec);
        return unexpected(Error(ErrorKind::io, "cannot write " + archive.string() + ": " + ec.message()));
    }
    return static_cast<std::int64_t>(tar->size());
}

Result<void> read_layout_archive(const fs::path& archive, const fs::path& directory,
                                 const LayoutArchiveLimits& limits) {
    std::error_code ec;
    const auto size = fs::file_size(archive, ec);
    if (ec) return unexpected(Error(ErrorKind::not_found, "cannot read " + archive.string() + ": " + ec.message()));
    if (size > limits.max_total_bytes + (limits.max_total_bytes / 8))
        return unexpected(Error(ErrorKind::validation, archive.string() + " is larger than the limit of " +
                                                           std::to_string(limits.max_total_bytes) + " bytes"));
    auto bytes = read_file(archive);
    if (!bytes) return unexpected(std::move(bytes).error());
    bundle::ArchiveLimits archive_limits;
    archive_limits.max_entries = limits.max_entries;
    archive_limits.max_entry_bytes = limits.max_entry_bytes;
    archive_limits.max_total_bytes = limits.max_total_bytes;
    // read_tar_gz reads plain tars too (libarchive detects the compression).
    bundle::ArchiveContext context;
    context.what = "OCI layout archive";
    context.refusal_hint = "pass a tar written by `karmor oci save` or `skopeo copy … oci-archive:FILE`";
    context.limit_flags = false;
    auto entries = bundle::read_tar_gz(*bytes, archive.string(), archive_limits, context);
    if (!entries) return unexpected(std::move(entries).error());
    bool has_index = false;
    for (const auto& entry : *entries) {
        if (!is_layout_entry(entry.name))
            return unexpected(
                Error(ErrorKind::validation,
                      archive.string() + ": entry \"" + entry.name + "\" is not part of an OCI image layout",
                      "pass a tar written by `karmor oci save` or `skopeo copy … oci-archive:FILE`"));
        has_index = has_index || entry.name == "index.json";
        const auto path = directory / entry.name;
        fs::create_directories(path.parent_path(), ec);
        if (ec)
            return unexpected(
                Error(ErrorKind::io, "cannot create " + path.parent_path().string() + ": " + ec.message()));
        if (auto w = write_file(path, entry.content); !w) return unexpected(std::move(w).error());
    }
    if (!has_index)
        return unexpected(Error(ErrorKind::validation, archive.string() + " holds no index.json",
                                "pass a tar of an OCI image layout (karmor oci save, skopeo oci-archive:)"));
    return {};
}

}  // namespace karmor::moving
