// Deterministic tar.gz bundles of policy files, and a bounded, hostile-input-safe reader
// (SPEC §4 "Determinism", §8 "Archives").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::bundle {

struct ArchiveEntry {
    std::string name;
    std::string content;
};

// A file to write: views, so that building an archive of 100,000 policies does not copy them.
// `directory`: a directory entry (mode 0755, no content) instead of a file.
struct ArchiveFile {
    std::string_view name;
    std::string_view content;
    bool directory = false;
};

// The defaults are InputLimits' (karmor/policy.hpp): the bounds of push and pull.
struct ArchiveLimits {
    std::uint64_t max_entries = 200'000;         // 100,000 policies with room to spare
    std::uint64_t max_entry_bytes = 4ull << 20;  // one policy file
    std::uint64_t max_total_bytes = 1ull << 30;  // all files, decompressed
};

// Entries in the given order, mode 0644 (directories 0755), uid/gid 0, no user or group
// names, the given mtime; gzip without file name or timestamp. Same entries → same bytes.
// A set `cancel` stops it between files (ErrorKind::cancelled).
Result<std::string> write_tar_gz(const std::vector<ArchiveFile>& files, std::int64_t mtime, int compression_level = 6,
                                 const std::atomic<bool>* cancel = nullptr);

// write_tar_gz (compression_level >= 0) or write_tar (< 0) done by libarchive's tar writer for
// every entry. write_tar_gz writes the headers itself when every entry fits a plain ustar
// header, and gives the same bytes: this is what tests compare it with.
Result<std::string> write_archive_with_libarchive(const std::vector<ArchiveFile>& files, std::int64_t mtime,
                                                  int compression_level, const std::atomic<bool>* cancel = nullptr);

// The same, as a plain tar (an OCI image layout for `save`, SPEC §11).
Result<std::string> write_tar(const std::vector<ArchiveFile>& files, std::int64_t mtime);

// How refusals read: what the archive is, what to do about a refused one, and whether the
// limit flags of push and pull (--max-file-size, …) can lift a limit.
struct ArchiveContext {
    std::string what = "policy archive";
    std::string refusal_hint = "the artifact was not made by a trustworthy tool; nothing was written";
    bool limit_flags = true;
};

// Regular files only (of a tar.gz or a plain tar): absolute names, `..`, links, devices, FIFOs and repeated names are
// refused, as are archives over `limits`. Directory entries are skipped.
Result<std::vector<ArchiveEntry>> read_tar_gz(std::string_view bytes, const std::string& where,
                                              const ArchiveLimits& limits = {}, const ArchiveContext& context = {});

// The same reading and checks, handing each file to `on_entry` as soon as it is read, so that a
// caller can work on the first files while the rest are decompressed. On a refusal the files
// handed over before it stay handed over: the caller drops what it made of them.
Result<void> read_tar_gz_each(std::string_view bytes, const std::string& where, const ArchiveLimits& limits,
                              const std::function<void(ArchiveEntry&&)>& on_entry, const ArchiveContext& context = {});

}  // namespace karmor::bundle
