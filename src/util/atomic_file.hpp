// Writing a whole file so that readers see the old content or the new, never a part.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::util {

// Writes `bytes` to a temporary file in the same directory (created mode 0600, so a secret is
// never readable by others, not even briefly), sets `mode`, fsyncs and renames it over `path`.
// A symlink at `path` is replaced, not followed.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view bytes, mode_t mode);

// What to do about a failed file-system call, by its errno: a full disk wants space, not a
// permission check.
std::string io_error_hint(int error_number, const std::filesystem::path& where);

}  // namespace karmor::util
