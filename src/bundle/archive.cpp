#include "bundle/archive.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <thread>

#include "bundle/libarchive.hpp"
#include "bundle/libz.hpp"

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

constexpr std::size_t tar_block = 512;
constexpr std::uint64_t max_octal_11 = 077777777777;  // the largest size or mtime of a ustar header
const char zeros[2 * tar_block] = {};

Result<ArchiveWriter> start_writer(std::string& out, int compression_level, bool raw) {
    if (auto loaded = load_libarchive(); !loaded) return unexpected(std::move(loaded).error());
    ArchiveWriter writer(libarchive().archive_write_new());
    archive* a = writer.get();
    const bool gzip = compression_level >= 0;
    const int format =
        raw ? libarchive().archive_write_set_format_raw(a) : libarchive().archive_write_set_format_pax_restricted(a);
    if (format != ARCHIVE_OK ||
        (gzip && (libarchive().archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
                  libarchive().archive_write_set_filter_option(a, "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
                  libarchive().archive_write_set_filter_option(
                      a, "gzip", "compression-level", std::to_string(compression_level).c_str()) != ARCHIVE_OK)) ||
        libarchive().archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        libarchive().archive_write_open2(a, &out, nullptr, append_to_string, nullptr, nullptr) != ARCHIVE_OK)
        return archive_failure(a, "cannot start the policy archive");
    return writer;
}

Unexpected<Error> interrupted() {
    return unexpected(Error(ErrorKind::cancelled, "interrupted while building the policy archive"));
}

bool cancelled(const std::atomic<bool>* cancel) {
    return cancel && cancel->load(std::memory_order_relaxed);
}

// Whether the entry is one libarchive's pax_restricted writer gives a plain ustar header: a
// name of at most 100 printable ASCII characters, a size and an mtime of 11 octal digits.
// Every policy file karmor names is; the others take libarchive's tar writer.
bool fits_ustar(const ArchiveFile& file, std::int64_t mtime) {
    if (file.name.empty() || file.name.size() > 100) return false;
    for (const char c : file.name)
        if (c < 0x20 || c > 0x7E) return false;
    return mtime >= 0 && static_cast<std::uint64_t>(mtime) <= max_octal_11 && file.content.size() <= max_octal_11;
}

void put_octal(char* field, std::size_t digits, std::uint64_t value) {
    for (std::size_t i = digits; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
}

// The 512-byte header, byte for byte what libarchive writes for a regular file of mode 0644 or
// a directory of mode 0755, uid and gid 0 and no user or group names (tests/unit/archive_test.cpp
// compares them).
void ustar_header(char (&h)[tar_block], const ArchiveFile& file, std::int64_t mtime) {
    std::memset(h, 0, sizeof h);
    std::memcpy(h, file.name.data(), file.name.size());
    std::memcpy(h + 100, file.directory ? "000755 " : "000644 ", 7);  // mode
    std::memcpy(h + 108, "000000 ", 7);                               // uid
    std::memcpy(h + 116, "000000 ", 7);                               // gid
    put_octal(h + 124, 11, file.content.size());
    h[135] = ' ';
    put_octal(h + 136, 11, static_cast<std::uint64_t>(mtime));
    h[147] = ' ';
    std::memset(h + 148, ' ', 8);  // the checksum counts its own field as spaces
    h[156] = file.directory ? '5' : '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 329, "000000 ", 7);  // device major and minor
    std::memcpy(h + 337, "000000 ", 7);
    std::uint64_t sum = 0;
    for (const char c : h) sum += static_cast<unsigned char>(c);
    put_octal(h + 148, 6, sum);
    h[154] = '\0';
    h[155] = ' ';
}

// Every entry fits ustar: the tar stream is written here, in the same pieces libarchive's tar
// writer gives its output (header, data, padding; two zero blocks at the end), so that the
// gzip stream libarchive makes of it is the same byte for byte. libarchive's per-entry work
// (its entry objects, name conversions, header formatting) cost a quarter of building the
// archive of 10,000 policies.
template <typename Write>
Result<void> write_ustar(const std::vector<ArchiveFile>& files, std::int64_t mtime, const std::atomic<bool>* cancel,
                         Write&& write) {
    char header[tar_block];
    for (const auto& file : files) {
        if (cancelled(cancel)) return interrupted();
        ustar_header(header, file, mtime);
        if (!write(std::string_view(header, sizeof header)) || !write(file.content)) return Result<void>{};
        if (const auto rest = file.content.size() % tar_block; rest != 0)
            if (!write(std::string_view(zeros, tar_block - rest))) return Result<void>{};
    }
    write(std::string_view(zeros, sizeof zeros));
    return {};
}

// The gzip stream libarchive's gzip filter makes of the ustar stream, byte for byte (RFC 1952):
// a 10-byte header without name or time whose XFL marks levels 1 and 9, raw deflate (window
// bits 15, memLevel 8, the default strategy), then CRC-32 and size. deflate with Z_NO_FLUSH
// gives the same bytes however its input and output are split (not so at level 0, whose stored
// blocks follow the output buffer: that level stays with libarchive).
// The CRC-32 takes its own pass over the tar stream on a second thread: it was a fifth of
// zlib's time for 140,000 policies, all of it after the policies were loaded.
Result<std::string> gzip_ustar(const std::vector<ArchiveFile>& files, std::int64_t mtime, int level,
                               const std::atomic<bool>* cancel) {
    if (auto loaded = load_libz(); !loaded) return unexpected(std::move(loaded).error());
    const auto& z = libz();
    std::uint32_t crc = 0;
    std::uint64_t tar_bytes = 0;
    Result<void> crc_done;
    std::jthread crc_pass([&] {
        crc_done = write_ustar(files, mtime, cancel, [&](std::string_view bytes) {
            // crc32_z(crc, nullptr, 0) is zlib's "initial value" call, 0: a directory's or an
            // empty file's content would reset the sum.
            if (bytes.empty()) return true;
            crc = static_cast<std::uint32_t>(
                z.crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<z_size_t>(bytes.size())));
            tar_bytes += bytes.size();
            return true;
        });
    });

    z_stream stream{};
    if (z.deflateInit2_(&stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                        static_cast<int>(sizeof stream)) != Z_OK)
        return unexpected(Error(ErrorKind::io, "cannot start the policy archive: zlib refused compression level " +
                                                   std::to_string(level)));
    const std::unique_ptr<z_stream, decltype(z.deflateEnd)> stream_owner(&stream, z.deflateEnd);
    const char xfl = level == 9 ? 2 : level == 1 ? 4 : 0;
    std::string out{'\x1f', '\x8b', '\x08', 0, 0, 0, 0, 0, xfl, '\x03'};
    std::size_t used = out.size();
    // deflate until it has taken all input (Z_NO_FLUSH) or ended the stream (Z_FINISH).
    const auto pump = [&](int flush) {
        for (;;) {
            if (out.size() - used < 65536) out.resize(std::max<std::size_t>(2 * out.size(), 1 << 20));
            stream.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            stream.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - used, 1u << 30));
            const int status = z.deflate(&stream, flush);
            used = out.size() - stream.avail_out;
            if (flush == Z_FINISH ? status == Z_STREAM_END : stream.avail_in == 0) return true;
            if (status != Z_OK && status != Z_BUF_ERROR) return false;
        }
    };
    bool failed = false;
    auto written = write_ustar(files, mtime, cancel, [&](std::string_view bytes) {
        stream.next_in = reinterpret_cast<const Bytef*>(bytes.data());
        stream.avail_in = static_cast<uInt>(bytes.size());
        failed = !pump(Z_NO_FLUSH);
        return !failed;
    });
    if (!written) return unexpected(std::move(written).error());
    if (failed || !pump(Z_FINISH)) return unexpected(Error(ErrorKind::io, "cannot compress the policy archive"));
    crc_pass.join();
    if (!crc_done) return unexpected(std::move(crc_done).error());
    out.resize(used);
    for (const std::uint32_t word : {crc, static_cast<std::uint32_t>(tar_bytes)})
        for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((word >> shift) & 0xFF));
    return out;
}

// compression_level < 0: a plain tar. A set `cancel` stops it between files.
Result<std::string> write_archive(const std::vector<ArchiveFile>& files, std::int64_t mtime, int compression_level,
                                  const std::atomic<bool>* cancel) {
    std::string out;
    const bool plain_ustar =
        std::all_of(files.begin(), files.end(), [&](const ArchiveFile& f) { return fits_ustar(f, mtime); });
    if (plain_ustar && compression_level < 0) {
        std::uint64_t size = sizeof zeros;
        for (const auto& file : files)
            size += tar_block + (file.content.size() + tar_block - 1) / tar_block * tar_block;
        out.reserve(size);
        auto written = write_ustar(files, mtime, cancel, [&](std::string_view bytes) {
            out += bytes;
            return true;
        });
        if (!written) return unexpected(std::move(written).error());
        return out;
    }
    if (plain_ustar && compression_level >= 1 && compression_level <= 9)
        return gzip_ustar(files, mtime, compression_level, cancel);
    if (plain_ustar) {
        // One raw entry through libarchive: its gzip filter, unchanged, compresses the stream.
        auto writer = start_writer(out, compression_level, true);
        if (!writer) return unexpected(std::move(writer).error());
        archive* a = writer->get();
        ArchiveEntryPtr entry(libarchive().archive_entry_new());
        libarchive().archive_entry_set_filetype(entry.get(), AE_IFREG);
        if (libarchive().archive_write_header(a, entry.get()) != ARCHIVE_OK)
            return archive_failure(a, "cannot start the policy archive");
        bool failed = false;
        auto written = write_ustar(files, mtime, cancel, [&](std::string_view bytes) {
            failed =
                libarchive().archive_write_data(a, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size());
            return !failed;
        });
        if (!written) return unexpected(std::move(written).error());
        if (failed) return archive_failure(a, "cannot write the policy archive");
        if (libarchive().archive_write_close(a) != ARCHIVE_OK)
            return archive_failure(a, "cannot finish the policy archive");
        return out;
    }
    return write_archive_with_libarchive(files, mtime, compression_level, cancel);
}

}  // namespace

Result<std::string> write_archive_with_libarchive(const std::vector<ArchiveFile>& files, std::int64_t mtime,
                                                  int compression_level, const std::atomic<bool>* cancel) {
    std::string out;
    auto writer = start_writer(out, compression_level, false);
    if (!writer) return unexpected(std::move(writer).error());
    archive* a = writer->get();
    ArchiveEntryPtr entry(libarchive().archive_entry_new());
    for (const auto& file : files) {
        if (cancelled(cancel)) return interrupted();
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

Result<std::string> write_tar_gz(const std::vector<ArchiveFile>& files, std::int64_t mtime, int compression_level,
                                 const std::atomic<bool>* cancel) {
    return write_archive(files, mtime, std::max(compression_level, 0), cancel);
}

Result<std::string> write_tar(const std::vector<ArchiveFile>& files, std::int64_t mtime) {
    return write_archive(files, mtime, -1, nullptr);
}

Result<std::vector<ArchiveEntry>> read_tar_gz(std::string_view bytes, const std::string& where,
                                              const ArchiveLimits& limits, const ArchiveContext& context) {
    std::vector<ArchiveEntry> entries;
    auto read = read_tar_gz_each(
        bytes, where, limits, [&](ArchiveEntry&& entry) { entries.push_back(std::move(entry)); }, context);
    if (!read) return unexpected(std::move(read).error());
    return entries;
}

Result<void> read_tar_gz_each(std::string_view bytes, const std::string& where, const ArchiveLimits& limits,
                              const std::function<void(ArchiveEntry&&)>& on_entry, const ArchiveContext& context) {
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
        on_entry(std::move(entry));
    }
    return {};
}

}  // namespace karmor::bundle
