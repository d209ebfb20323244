#include "bundle/archive.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include "bundle/libarchive.hpp"

namespace karmor::bundle {
namespace {

struct ArchiveWriteDeleter {
    void operator()(archive* a) const { libarchive().archive_write_free(a); }
};
struct ArchiveReadDeleter {
    void operator()(archive* a) const { libarchive().archive_read_free(a); }
};
struct ArchiveEntryDeleter {
    void operator()(archive_entry* e) const { libarchive().archive_entry_free(e); }
};
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteDeleter>;
using ArchiveReader = std::unique_ptr<archive, ArchiveReadDeleter>;
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryDeleter>;

la_ssize_t append_to_string(archive*, void* client, const void* buffer, size_t length) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

Unexpected<Error> archive_failure(archive* a, const std::string& what) {
    const char* message = a ? libarchive().archive_error_string(a) : nullptr;
    return unexpected(Error(ErrorKind::io, what + ": " + (message ? message : "unknown libarchive error")));
}

Unexpected<Error> refused(const std::string& where, const std::string& why, const ArchiveContext& context) {
    return unexpected(
        Error(ErrorKind::validation, where + ": unsafe " + context.what + ": " + why, context.refusal_hint));
}

// " (raise --max-file-size)" where the flag can lift the limit.
std::string raise(const char* flag, const ArchiveContext& context) {
    return context.limit_flags ? std::string(" (raise ") + flag + ")" : std::string();
}

// Entry names as other tools write them ("./a.yaml", "dir/a.yaml") are fine; anything that
// could point outside the output directory is not.
bool is_safe_entry_name(const std::string& name) {
    if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos) return false;
    if (name.find('\0') != std::string::npos) return false;
    std::size_t start = 0;
    while (start <= name.size()) {
        const auto slash = name.find('/', start);
        const auto part = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part == "..") return false;
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return true;
}

std::string normalized_name(std::string name) {
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    while (!name.empty() && name.back() == '/') name.pop_back();
    return name;
}

}  // namespace

namespace {

// compression_level < 0: a plain tar. A set `cancel` stops it between files.
Result<std::string> write_archive(const std::vector<ArchiveFile>& files, std::int64_t mtime, int compression_level,
                                  const std::atomic<bool>* cancel) {
    if (auto loaded = load_libarchive(); !loaded) return unexpected(std::move(loaded).error());
    std::string out;
    ArchiveWriter writer(libarchive().archive_write_new());
    archive* a = writer.get();
    const bool gzip = compression_level >= 0;
    if (libarchive().archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        (gzip && (libarchive().archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
                  libarchive().archive_write_set_filter_option(a, "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
                  libarchive().archive_write_set_filter_option(
                      a, "gzip", "compression-level", std::to_string(compression_level).c_str()) != ARCHIVE_OK)) ||
        libarchive().archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        libarchive().archive_write_open2(a, &out, nullptr, append_to_string, nullptr, nullptr) != ARCHIVE_OK)
        return archive_failure(a, "cannot start the policy archive");

    ArchiveEntryPtr entry(libarchive().archive_entry_new());
    for (const auto& file : files) {
        if (cancel && cancel->load(std::memory_order_relaxed))
            return unexpected(Error(ErrorKind::cancelled, "interrupted while building the policy archive"));
        const std::string name(file.name);
        libarchive().archive_entry_clear(entry.get());
        libarchive().archive_entry_set_pathname(entry.get(), name.c_str());
        libarchive().archive_entry_set_filetype(entry.get(), file.directory ? AE_IFDIR : AE_IFREG);
        libarchive().archive_entry_set_perm(entry.get(), file.directory ? 0755 : 0644);
        libarchive().archive_entry_set_uid(entry.get(), 0);
        libarchive().archive_entry_set_gid(entry.get(), 0);
        libarchive().archive_entry_set_mtime(entry.get(), mtime, 0);
        libarchive().archive_entry_set_size(entry.get(), static_cast<la_int64_t>(file.content.size()));
        if (libarchive().archive_write_header(a, entry.get()) != ARCHIVE_OK)
            return archive_failure(a, "cannot add " + name + " to the policy archive");
        if (libarchive().archive_write_data(a, file.content.data(), file.content.size()) !=
            static_cast<la_ssize_t>(file.content.size()))
            return archive_failure(a, "cannot add " + name + " to the policy archive");
    }
    if (libarchive().archive_write_close(a) != ARCHIVE_OK)
        return archive_failure(a, "cannot finish the policy archive");
    return out;
}

}  // namespace

Result<std::string> write_tar_gz(const std::vector<ArchiveFile>& files, std::int64_t mtime, int compression_level,
                                 const std::atomic<bool>* cancel) {
    return write_archive(files, mtime, std::max(compression_level, 0), cancel);
}

Result<std::string> write_tar(const std::vector<ArchiveFile>& files, std::int64_t mtime) {
    return write_archive(files, mtime, -1, nullptr);
}

Result<std::vector<ArchiveEntry>> read_tar_gz(std::string_view bytes, const std::string& where,
                                              const ArchiveLimits& limits, const ArchiveContext& context) {
    if (auto loaded = load_libarchive(); !loaded) return unexpected(std::move(loaded).error());
    ArchiveReader reader(libarchive().archive_read_new());
    archive* a = reader.get();
    libarchive().archive_read_support_filter_gzip(a);
    libarchive().archive_read_support_format_tar(a);
    if (libarchive().archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK)
        return refused(where,
                       std::string("not a tar archive: ") +
                           (libarchive().archive_error_string(a) ? libarchive().archive_error_string(a) : ""),
                       context);

    std::vector<ArchiveEntry> entries;
    std::set<std::string> names;
    std::uint64_t total = 0;
    std::uint64_t count = 0;
    archive_entry* header = nullptr;
    while (true) {
        const int status = libarchive().archive_read_next_header(a, &header);
        if (status == ARCHIVE_EOF) break;
        if (status != ARCHIVE_OK && status != ARCHIVE_WARN)
            return refused(where,
                           std::string(count == 0 ? "not a tar archive: " : "corrupt archive: ") +
                               (libarchive().archive_error_string(a) ? libarchive().archive_error_string(a) : ""),
                           context);
        if (++count > limits.max_entries)
            return refused(where,
                           "more than " + std::to_string(limits.max_entries) + " entries" +
                               raise("--max-policies", context),
                           context);
        const char* raw_name = libarchive().archive_entry_pathname(header);
        const std::string name = normalized_name(raw_name ? raw_name : "");
        if (!is_safe_entry_name(raw_name ? raw_name : ""))
            return refused(where,
                           "entry \"" + std::string(raw_name ? raw_name : "") + "\" is absolute or contains \"..\"",
                           context);
        if (libarchive().archive_entry_hardlink(header) != nullptr)
            return refused(where, "entry \"" + name + "\" is a hard link", context);
        const auto type = libarchive().archive_entry_filetype(header);
        if (type == AE_IFDIR) continue;
        if (type != AE_IFREG) {
            const char* what = type == AE_IFLNK   ? "a symbolic link"
                               : type == AE_IFIFO ? "a FIFO"
                                                  : "a device or special file";
            return refused(where, "entry \"" + name + "\" is " + what, context);
        }
        if (name.empty()) return refused(where, "an entry has an empty name", context);
        if (!names.insert(name).second) return refused(where, "entry \"" + name + "\" appears twice", context);
        if (libarchive().archive_entry_size_is_set(header) &&
            static_cast<std::uint64_t>(libarchive().archive_entry_size(header)) > limits.max_entry_bytes)
            return refused(where,
                           "entry \"" + name + "\" is larger than " + std::to_string(limits.max_entry_bytes) +
                               " bytes" + raise("--max-file-size", context),
                           context);
        ArchiveEntry entry{name, {}};
        char buffer[65536];
        while (true) {
            const la_ssize_t n = libarchive().archive_read_data(a, buffer, sizeof buffer);
            if (n == 0) break;
            if (n < 0)
                return refused(where,
                               "corrupt entry \"" + name + "\": " +
                                   (libarchive().archive_error_string(a) ? libarchive().archive_error_string(a) : ""),
                               context);
            total += static_cast<std::uint64_t>(n);
            if (entry.content.size() + static_cast<std::size_t>(n) > limits.max_entry_bytes)
                return refused(where,
                               "entry \"" + name + "\" is larger than " + std::to_string(limits.max_entry_bytes) +
                                   " bytes" + raise("--max-file-size", context),
                               context);
            if (total > limits.max_total_bytes)
                return refused(where,
                               "the archive expands to more than " + std::to_string(limits.max_total_bytes) + " bytes" +
                                   raise("--max-total-size", context),
                               context);
            entry.content.append(buffer, static_cast<std::size_t>(n));
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

}  // namespace karmor::bundle
