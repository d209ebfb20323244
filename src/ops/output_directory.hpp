// Writes pulled policy files so that a failure leaves the output directory as it was
// (SPEC §8): everything goes to a temporary directory first, and is moved in at the end.
#pragma once

#include <filesystem>
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

// Refuses, before writing anything, when a file exists with other content and !force.
Result<WriteReport> write_output_files(const std::filesystem::path& directory, const std::vector<OutputFile>& files,
                                       bool force);

}  // namespace karmor::ops
