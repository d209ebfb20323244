#include "follow/lock.hpp"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>

namespace karmor::follow {

namespace {

// What a holder wrote; an empty holder (pid 0) when the file is empty (the holder is between its
// flock and its write) or not a record.
LockHolder read_holder(int fd) {
    std::string text(4096, '\0');
    const auto n = ::pread(fd, text.data(), text.size(), 0);
    LockHolder holder;
    if (n <= 0) return holder;
    text.resize(static_cast<std::size_t>(n));
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_object()) return holder;
    try {
        holder.pid = json.value("pid", 0L);
        holder.host = json.value("host", "");
        holder.reference = json.value("reference", "");
        holder.semver = json.value("semver", "");
    } catch (const nlohmann::json::exception&) {
        return LockHolder{};
    }
    return holder;
}

std::string describe(const LockHolder& holder) {
    if (holder.pid <= 0) return "";
    std::string out = " (pid " + std::to_string(holder.pid);
    if (!holder.host.empty() && holder.host != this_process_as_holder().host) out += " on host " + holder.host;
    if (!holder.reference.empty()) {
        out += ", following " + holder.reference;
        if (!holder.semver.empty()) out += " --semver '" + holder.semver + "'";
    }
    return out + ")";
}

}  // namespace

LockHolder this_process_as_holder() {
    LockHolder holder;
    holder.pid = static_cast<long>(::getpid());
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0) holder.host = host;
    return holder;
}

Result<int> take_lock(const std::filesystem::path& directory, const LockHolder& holder,
                      const std::filesystem::path& followed) {
    const auto path = directory / lock_file_name;
    // O_CLOEXEC: an --exec hook (or anything it leaves running) must not keep the lock.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return unexpected(Error(ErrorKind::io, "cannot open the lock " + path.string() + ": " + std::strerror(errno),
                                "check that " + directory.string() + " is writable"));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int why = errno;
        const auto other = why == EWOULDBLOCK ? read_holder(fd) : LockHolder{};
        ::close(fd);
        if (why != EWOULDBLOCK)
            return unexpected(Error(ErrorKind::io, "cannot lock " + path.string() + ": " + std::strerror(why)));
        const bool named = other.pid > 0;
        return unexpected(
            Error(ErrorKind::io,
                  "cannot follow into " + followed.string() + ": another karmor follow works on it" + describe(other) +
                      "; one follow per directory",
                  named && other.host == this_process_as_holder().host
                      ? "stop that one first (kill " + std::to_string(other.pid) + "), or give this one another -o"
                      : "stop that one first, or give this one another -o (" + path.string() + " is the lock)"));
    }
    const nlohmann::ordered_json record = {
        {"pid", holder.pid}, {"host", holder.host}, {"reference", holder.reference}, {"semver", holder.semver}};
    const auto text = record.dump() + "\n";
    // The record is for messages only: the flock alone decides who holds the lock.
    if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const auto written = ::pwrite(fd, text.data(), text.size(), 0);
    }
    return fd;
}

}  // namespace karmor::follow
