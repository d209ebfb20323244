// libarchive, opened on first use (src/util/shared_library.hpp): karmor does not link it, so
// `version`, `--help` and `completion` do not load it and the ~12 libraries it needs (libxml2
// with ICU, lzma, zstd, bz2, acl, nettle ...).
//
// To call a libarchive function, write libarchive().archive_write_new() instead of
// archive_write_new(); a function not yet in the list below is added to it (one line). A
// direct call does not link: karmor has no -larchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "karmor/result.hpp"

namespace karmor::bundle {

#define KARMOR_LIBARCHIVE_FUNCTIONS(X)                                                                                 \
    X(archive_entry_clear)                                                                                             \
    X(archive_entry_filetype)                                                                                          \
    X(archive_entry_free)                                                                                              \
    X(archive_entry_hardlink)                                                                                          \
    X(archive_entry_new)                                                                                               \
    X(archive_entry_pathname)                                                                                          \
    X(archive_entry_set_filetype)                                                                                      \
    X(archive_entry_set_gid)                                                                                           \
    X(archive_entry_set_mtime)                                                                                         \
    X(archive_entry_set_pathname)                                                                                      \
    X(archive_entry_set_perm)                                                                                          \
    X(archive_entry_set_size)                                                                                          \
    X(archive_entry_set_uid)                                                                                           \
    X(archive_entry_size)                                                                                              \
    X(archive_entry_size_is_set)                                                                                       \
    X(archive_error_string)                                                                                            \
    X(archive_read_data)                                                                                               \
    X(archive_read_free)                                                                                               \
    X(archive_read_new)                                                                                                \
    X(archive_read_next_header)                                                                                        \
    X(archive_read_open_memory)                                                                                        \
    X(archive_read_support_filter_gzip)                                                                                \
    X(archive_read_support_format_tar)                                                                                 \
    X(archive_write_add_filter_gzip)                                                                                   \
    X(archive_write_close)                                                                                             \
    X(archive_write_data)                                                                                              \
    X(archive_write_free)                                                                                              \
    X(archive_write_header)                                                                                            \
    X(archive_write_new)                                                                                               \
    X(archive_write_open2)                                                                                             \
    X(archive_write_set_bytes_in_last_block)                                                                           \
    X(archive_write_set_filter_option)                                                                                 \
    X(archive_write_set_format_pax_restricted)                                                                         \
    X(archive_write_set_format_raw)

struct LibArchive {
#define KARMOR_LIBARCHIVE_MEMBER(name) decltype(&::name) name = nullptr;
    KARMOR_LIBARCHIVE_FUNCTIONS(KARMOR_LIBARCHIVE_MEMBER)
#undef KARMOR_LIBARCHIVE_MEMBER
};

// Opens libarchive.so.13, once per process (thread-safe); the error says which file is
// missing and which package installs it.
Result<void> load_libarchive();

// The table; only after load_libarchive() succeeded.
const LibArchive& libarchive();

}  // namespace karmor::bundle
