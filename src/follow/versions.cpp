#include "follow/versions.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "util/atomic_file.hpp"

namespace karmor::follow {

namespace fs = std::filesystem;

Result<std::optional<FollowState>> read_follow_state(const fs::path& state_directory) {
    const auto path = state_directory / follow_state_file_name;
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::optional<FollowState>();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const auto json = nlohmann::json::parse(buffer.str(), nullptr, false);
    FollowState state;
    try {
        if (json.is_discarded() || !json.is_object()) throw std::runtime_error("not JSON");
        state.reference = json.value("reference", "");
        state.resolved = json.value("resolved", "");
        state.applied = json.value("applied", "");
        for (const auto& h : json.value("history", nlohmann::json::array()))
            state.history.push_back(h.get<std::string>());
    } catch (const std::exception&) {
        return unexpected(Error(ErrorKind::io, "cannot read " + path.string() + ": it is not follow's state",
                                "delete it; the next round then pulls the reference again"));
    }
    return std::optional<FollowState>(std::move(state));
}

Result<void> write_follow_state(const fs::path& state_directory, const FollowState& state) {
    std::error_code ec;
    fs::create_directories(state_directory, ec);
    const nlohmann::ordered_json json = {{"version", 1},
                                         {"reference", state.reference},
                                         {"resolved", state.resolved},
                                         {"applied", state.applied},
                                         {"history", state.history}};
    return util::write_file_atomically(state_directory / follow_state_file_name, json.dump(1) + "\n", 0644);
}

namespace {

bool is_digest_hex(const std::string& name) {
    return (name.size() == 64 || name.size() == 128) && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// `target` (where DIR's link points, resolved against DIR's parent) is DIR.versions/<hex>.
bool is_version_of(const fs::path& target, const fs::path& versions) {
    if (!is_digest_hex(target.filename().string())) return false;
    const auto parent = target.lexically_normal().parent_path();
    if (parent == versions.lexically_normal()) return true;
    std::error_code ec;  // the same directory by another path (absolute, through a symlink)
    return fs::equivalent(parent, versions, ec);
}

}  // namespace

Result<std::optional<fs::path>> current_version(const fs::path& directory, const fs::path& versions) {
    std::error_code ec;
    const auto status = fs::symlink_status(directory, ec);
    if (!fs::exists(status)) return std::optional<fs::path>();
    const auto move_it_away =
        "move it away (follow makes DIR a symlink to DIR.versions/<digest>/ and switches only such a link), or "
        "pick another -o";
    if (fs::is_symlink(status)) {
        const auto link = fs::read_symlink(directory, ec);
        if (ec)
            return unexpected(Error(ErrorKind::io, "cannot read the link " + directory.string() + ": " + ec.message()));
        const auto target = link.is_absolute() ? link : directory.parent_path() / link;
        if (is_version_of(target, versions)) return std::optional<fs::path>(target);
        return unexpected(Error(ErrorKind::io,
                                "cannot follow into " + directory.string() + ": it is a symlink to " + link.string() +
                                    ", which karmor follow did not make (it points outside " + versions.string() + ")",
                                move_it_away));
    }
    if (fs::is_directory(status) && fs::is_empty(directory, ec) && fs::remove(directory, ec))
        return std::optional<fs::path>();
    return unexpected(Error(ErrorKind::io,
                            "cannot follow into " + directory.string() +
                                ": it exists and is not a symlink that karmor follow manages",
                            move_it_away));
}

Result<void> switch_to(const fs::path& directory, const fs::path& version) {
    const auto parent = directory.parent_path().empty() ? fs::path(".") : directory.parent_path();
    const auto relative = version.lexically_relative(parent);
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for "." + std::string.
    std::string name(".");
    name += directory.filename().string();
    name += ".link-";
    name += std::to_string(::getpid());
    const auto temp = parent / name;
    ::unlink(temp.c_str());
    const auto failed = [&](const std::string& what) {
        const std::string why = std::strerror(errno);
        ::unlink(temp.c_str());
        return unexpected(Error(ErrorKind::io, "cannot " + what + " " + directory.string() + ": " + why,
                                "check that the directory holding it is writable"));
    };
    // The new files reach the disk before the link that names them: after a power cut DIR points
    // to a whole set, never to empty files. One syncfs instead of an fsync per file: a round is
    // rare and its files are many.
    const int version_fd = ::open(version.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (version_fd < 0) return failed("open the new version for");
    const int synced = ::syncfs(version_fd);
    const int sync_error = errno;
    ::close(version_fd);
    if (synced != 0) {
        errno = sync_error;
        return failed("flush the new version for");
    }
    if (::symlink(relative.c_str(), temp.c_str()) != 0) return failed("make the new link for");
    if (::rename(temp.c_str(), directory.c_str()) != 0) return failed("switch");
    // The switch survives a power cut once the parent directory is on disk.
    if (const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    return {};
}

void remove_old_versions(const fs::path& versions, const std::vector<std::string>& history, int keep,
                         const fs::path& current) {
    std::set<std::string> kept;
    for (std::size_t i = 0; i < history.size() && i < static_cast<std::size_t>(keep) + 1; ++i) kept.insert(history[i]);
    kept.insert(current.filename().string());
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(versions, ec)) {
        const auto name = entry.path().filename().string();
        const bool version = is_digest_hex(name);
        const bool temporary = name.starts_with(".round-");
        if ((version && !kept.contains(name)) || temporary) fs::remove_all(entry.path(), ec);
    }
}

}  // namespace karmor::follow
