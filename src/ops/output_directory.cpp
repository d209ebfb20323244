#include "ops/output_directory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <atomic>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "util/atomic_file.hpp"
#include "util/parallel.hpp"

namespace karmor::ops {
namespace {

namespace fs = std::filesystem;

Unexpected<Error> io_error(const std::string& what, const fs::path& path, const std::string& why) {
    return unexpected(Error(ErrorKind::io, what + " " + path.string() + ": " + why,
                            "check that the directory exists and is writable"));
}

Unexpected<Error> io_error(const std::string& what, const fs::path& path, int error_number) {
    return unexpected(Error(ErrorKind::io, what + " " + path.string() + ": " + std::strerror(error_number),
                            util::io_error_hint(error_number, path.parent_path())));
}

bool same_content(const fs::path& path, const std::string& content) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str() == content;
}

// Removes the temporary directory on every path out.
class TemporaryDirectory {
public:
    static Result<TemporaryDirectory> create_beside(const fs::path& target) {
        std::string pattern = target.string() + ".karmor-tmp-XXXXXX";
        if (char* made = mkdtemp(pattern.data()); made == nullptr)
            return io_error("cannot create a temporary directory beside", target, errno);
        return TemporaryDirectory(pattern);
    }
    TemporaryDirectory(TemporaryDirectory&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(TemporaryDirectory&&) = delete;
    ~TemporaryDirectory() {
        if (!path_.empty()) {
            std::error_code ec;
            fs::remove_all(path_, ec);
        }
    }
    const fs::path& path() const { return path_; }
    void release() { path_.clear(); }

private:
    explicit TemporaryDirectory(fs::path path) : path_(std::move(path)) {}
    fs::path path_;
};

// Writes all of `content` to the open `fd` and closes it, also on failure; `path` names it in
// the error.
Result<void> write_and_close(int fd, std::string_view content, const fs::path& path) {
    std::size_t written = 0;
    while (written < content.size()) {
        const auto n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int saved = n < 0 ? errno : EIO;
            ::close(fd);
            return io_error("cannot write", path, saved);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) return io_error("cannot write", path, errno);
    return {};
}

// open, write, close and nothing else: a pull creates thousands of these, and std::ofstream
// added a FILE, its buffer and a copy per file (issue 18). The mode is 0666 less the umask,
// as before.
Result<void> write_file(const fs::path& path, const std::string& content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) return io_error("cannot write", path, errno);
    return write_and_close(fd, content, path);
}

// Writes every file into `directory`, on every core: creating 10,000 files is mostly the
// kernel's inode allocation, and a pull spent 80% of its time there, one file after another.
Result<void> write_files(const fs::path& directory, const std::vector<const OutputFile*>& files,
                         const std::function<bool()>& cancelled) {
    std::vector<std::optional<Error>> failures(files.size());
    std::atomic<bool> failed{false};
    util::parallel_for(files.size(), [&](std::size_t i) {
        if (failed.load() || cancelled()) return;
        if (auto written = write_file(directory / files[i]->name, files[i]->content); !written) {
            failures[i] = std::move(written).error();
            failed = true;
        }
    });
    for (auto& failure : failures)
        if (failure) return unexpected(std::move(*failure));
    return {};
}

}  // namespace

Result<WriteReport> write_output_files(const fs::path& directory, const std::vector<OutputFile>& files, bool force,
                                       const std::atomic<bool>* cancel, const std::set<std::string>& replaceable) {
    const auto cancelled = [cancel] { return cancel && cancel->load(); };
    const auto interrupted = [] {
        return unexpected(Error(ErrorKind::cancelled, "interrupted; the output directory is unchanged"));
    };
    WriteReport report;
    std::error_code ec;
    fs::path target = directory.lexically_normal().empty() ? fs::path(".") : directory.lexically_normal();
    // `-o out/` is the directory out: its temporary sibling must not be made inside it.
    if (!target.has_filename() && target.has_relative_path()) target = target.parent_path();
    const bool exists = fs::exists(target, ec);
    if (exists && !fs::is_directory(target, ec))
        return io_error("cannot pull into", target, "it exists and is not a directory");

    std::vector<const OutputFile*> to_write;
    std::vector<std::string> conflicts;
    // Symbolic links and anything but regular files are never replaced, --force or not: a
    // pull must not write through a link or remove a directory.
    bool any_not_regular = false;
    bool any_regular = false;
    for (const auto& file : files) {
        const fs::path path = target / file.name;
        if (exists && fs::exists(fs::symlink_status(path, ec))) {
            const bool regular = !fs::is_symlink(fs::symlink_status(path, ec)) && fs::is_regular_file(path, ec);
            if (regular && same_content(path, file.content)) {
                report.unchanged.push_back(path);
                continue;
            }
            if (!regular) {
                any_not_regular = true;
                conflicts.push_back(
                    path.string() + " (" +
                    (fs::is_symlink(fs::symlink_status(path, ec)) ? "a symbolic link" : "not a regular file") +
                    ", never replaced)");
                continue;
            }
            if (!force && !replaceable.contains(file.name)) {
                any_regular = true;
                conflicts.push_back(path.string());
                continue;
            }
        }
        to_write.push_back(&file);
    }
    if (!conflicts.empty()) {
        std::string hint;
        if (any_not_regular)
            hint = "remove or rename them yourself, or pull into another directory";
        else
            hint = "pass --force to replace them, or pull into another directory";
        if (any_not_regular && any_regular) hint += "; --force replaces the regular files among them";
        Error error(ErrorKind::io,
                    std::to_string(conflicts.size()) + (conflicts.size() == 1 ? " file" : " files") + " in " +
                        target.string() + (conflicts.size() == 1 ? " exists" : " exist") +
                        " with other content; nothing was written",
                    hint);
        error.details = conflicts;
        return unexpected(std::move(error));
    }
    if (to_write.empty()) return report;

    if (!exists) {
        // A new directory: fill it under a temporary name, then rename it into place.
        if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
        auto temp = TemporaryDirectory::create_beside(target);
        if (!temp) return unexpected(std::move(temp).error());
        if (auto w = write_files(temp->path(), to_write, cancelled); !w) return unexpected(std::move(w).error());
        if (cancelled()) return interrupted();
        for (const auto* file : to_write) report.written.push_back(target / file->name);
        fs::permissions(temp->path(),
                        fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec,
                        ec);
        fs::rename(temp->path(), target, ec);
        if (ec) return io_error("cannot create", target, ec.message());
        temp->release();
        return report;
    }

    auto temp = TemporaryDirectory::create_beside(target / ".karmor-pull");
    if (!temp) return unexpected(std::move(temp).error());
    if (auto w = write_files(temp->path(), to_write, cancelled); !w) return unexpected(std::move(w).error());
    if (cancelled()) return interrupted();
    for (const auto* file : to_write) {
        fs::rename(temp->path() / file->name, target / file->name, ec);
        if (ec) return io_error("cannot move a pulled file into", target, ec.message());
        report.written.push_back(target / file->name);
    }
    return report;
}

Result<StagedDirectory> StagedDirectory::create_for(const fs::path& directory) {
    std::error_code ec;
    fs::path target = directory.lexically_normal().empty() ? fs::path(".") : directory.lexically_normal();
    if (!target.has_filename() && target.has_relative_path()) target = target.parent_path();
    if (fs::exists(fs::symlink_status(target, ec)))
        return unexpected(Error(ErrorKind::io, target.string() + " exists", "pull into it with write_output_files"));
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    auto temp = TemporaryDirectory::create_beside(target);
    if (!temp) return unexpected(std::move(temp).error());
    const int fd = ::open(temp->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open", temp->path(), errno);
    StagedDirectory staged(target, temp->path(), fd);
    temp->release();  // the StagedDirectory owns it now
    return staged;
}

StagedDirectory::StagedDirectory(fs::path target, fs::path path, int fd)
    : target_(std::move(target)), path_(std::move(path)), fd_(fd) {}

StagedDirectory::StagedDirectory(StagedDirectory&& other) noexcept
    : target_(std::move(other.target_)), path_(std::move(other.path_)), fd_(other.fd_) {
    other.path_.clear();
    other.fd_ = -1;
}

StagedDirectory::~StagedDirectory() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
}

// openat, write, close: what the floor does (bench/write_files_floor.c), relative to the
// directory's descriptor, so the kernel does not walk the whole path for every file.
Result<bool> StagedDirectory::write(const std::string& name, std::string_view content) {
    const int fd = ::openat(fd_, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && errno == EEXIST) return false;
    if (fd < 0) return io_error("cannot write", path_ / name, errno);
    if (auto written = write_and_close(fd, content, path_ / name); !written)
        return unexpected(std::move(written).error());
    return true;
}

Result<void> StagedDirectory::rename(const std::string& from, const std::string& to) {
    struct stat existing {};
    if (::fstatat(fd_, to.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0)
        return io_error("cannot rename a pulled file to", path_ / to, EEXIST);
    if (::renameat(fd_, from.c_str(), fd_, to.c_str()) != 0) return io_error("cannot rename", path_ / from, errno);
    return {};
}

Result<void> StagedDirectory::commit() {
    std::error_code ec;
    fs::permissions(path_,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                        fs::perms::others_exec,
                    ec);
    fs::rename(path_, target_, ec);
    if (ec) return io_error("cannot create", target_, ec.message());
    path_.clear();
    return {};
}

}  // namespace karmor::ops
