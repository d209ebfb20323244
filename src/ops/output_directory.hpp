// Writes pulled policy files so that a failure leaves the output directory as it was
// (SPEC §8): everything goes to a temporary directory first, and is moved in at the end.
#pragma once

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
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

// A directory that does not exist yet, filled file by file while a pull still parses and
// validates the rest (issue 26: the file system's work overlaps the parsing, as it cannot when
// every file waits for the last policy). It is made beside the target and appears under the
// target's name, complete, only at commit(); until then, and on every way out without
// commit(), the target is left as it was (SPEC §8).
class StagedDirectory {
public:
    // Fails when `target` exists (even as a dangling link): write_output_files handles those.
    static Result<StagedDirectory> create_for(const std::filesystem::path& target);
    StagedDirectory(StagedDirectory&& other) noexcept;
    StagedDirectory(const StagedDirectory&) = delete;
    StagedDirectory& operator=(const StagedDirectory&) = delete;
    StagedDirectory& operator=(StagedDirectory&&) = delete;
    ~StagedDirectory();

    // Writes a new file (from any thread). False, without an error, when `name` exists already.
    Result<bool> write(const std::string& name, std::string_view content);
    // Renames a file written here; the new name must not exist.
    Result<void> rename(const std::string& from, const std::string& to);
    // Moves the directory into place under the target's name; the files are reported written.
    Result<void> commit();
    const std::filesystem::path& target() const { return target_; }

private:
    StagedDirectory(std::filesystem::path target, std::filesystem::path path, int fd);
    std::filesystem::path target_;
    std::filesystem::path path_;  // empty once committed or moved from
    int fd_ = -1;                 // the directory, for openat
};

}  // namespace karmor::ops
