// Reading a whole configuration file that has a size bound: a file larger than the bound is
// refused before it is read, and a missing file is a value, not an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "karmor/result.hpp"

namespace karmor::util {

// The file's bytes; std::nullopt when nothing is at `path`. A directory, an unreadable file or
// one over `max_bytes` is an error of kind io that names `what` (e.g. "registries.conf").
Result<std::optional<std::string>> read_small_file(const std::filesystem::path& path, std::uint64_t max_bytes,
                                                   const std::string& what);

}  // namespace karmor::util
