#include "util/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace karmor::util {

std::string io_error_hint(int error_number, const std::filesystem::path& where) {
    switch (error_number) {
        case ENOSPC:
        case EDQUOT:
            return "free space (or quota) on the file system that holds " + where.string() + ", then run again";
        case EROFS: return where.string() + " is on a read-only file system: choose a writable directory";
        case ENAMETOOLONG: return "choose a shorter directory path";
        default: return "check that the directory exists and is writable";
    }
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
    const auto directory = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for "." + std::string.
    std::string name(".");
    name += path.filename().string();
    name += ".karmor-tmp-XXXXXX";
    std::string temp = (directory / name).string();
    const int fd = mkstemp(temp.data());  // mode 0600
    if (fd < 0)
        return unexpected(Error(ErrorKind::io,
                                "cannot write " + path.string() + ": cannot create a file in " + directory.string() +
                                    ": " + std::strerror(errno),
                                io_error_hint(errno, directory)));
    std::size_t written = 0;
    bool ok = true;
    while (ok && written < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) written += static_cast<std::size_t>(n);
    }
    ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && std::rename(temp.c_str(), path.c_str()) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        ::unlink(temp.c_str());
        return unexpected(Error(ErrorKind::io, "cannot write " + path.string() + ": " + std::strerror(saved)));
    }
    return {};
}

}  // namespace karmor::util
