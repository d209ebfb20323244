// Writes pulled policy files so that a failure leaves the output directory as it was
// (SPEC §8): everything goes to a temporary directory first, and is moved in at the end.
#pragma once

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "karmor/result.hpp"

namespace karmor::ops {

struct OutputFile {
    std::string name;  // a plain file name, no directory part
    std::string content;
};

struct WriteReport {
    std::vector<std::filesystem::path> written;
    std::vector<std::filesystem::path> unchanged;
};

// Refuses, before writing anything, when a file exists with other content and !force, unless
// its name is in `replaceable` (a file an earlier pull wrote and nobody changed since).
// Stops before moving anything in when `cancel` is set, leaving the directory as it was.
Result<WriteReport> write_output_files(const std::filesystem::path& directory, const std::vector<OutputFile>& files,
                                       bool force, const std::atomic<bool>* cancel = nullptr,
                                       const std::set<std::string>& replaceable = {});

}  // namespace karmor::ops
