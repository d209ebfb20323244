// An OCI image layout as one tar file (SPEC §11 save/load; what skopeo calls oci-archive:):
// `oci-layout`, `index.json` and `blobs/<alg>/<hex>` at the top of the archive. Reading is
// bounded and refuses the unsafe entries bundle/archive refuses (absolute names, `..`, links,
// devices, repeats), and anything that is not part of a layout.
#pragma once

#include <filesystem>
#include <string>

#include "bundle/archive.hpp"
#include "karmor/result.hpp"

namespace karmor::moving {

struct LayoutArchiveLimits {
    std::uint64_t max_entries = 1'000'000;
    std::uint64_t max_entry_bytes = 1ull << 30;
    std::uint64_t max_total_bytes = 4ull << 30;
};

// The layout in `directory` as a tar: entries sorted by name, mtime 0, so the same layout
// gives the same bytes.
Result<std::string> layout_archive(const std::filesystem::path& directory);

// Writes that tar to `archive`, atomically. An existing file is an error unless `replace`.
// Returns the archive's size.
Result<std::int64_t> write_layout_archive(const std::filesystem::path& directory, const std::filesystem::path& archive,
                                          bool replace);

// Unpacks `archive` into the empty directory `directory`.
Result<void> read_layout_archive(const std::filesystem::path& archive, const std::filesystem::path& directory,
                                 const LayoutArchiveLimits& limits = {});

}  // namespace karmor::moving
