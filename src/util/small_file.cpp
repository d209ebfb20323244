#include "util/small_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "util/atomic_file.hpp"

namespace karmor::util {

Result<std::optional<std::string>> read_small_file(const std::filesystem::path& path, std::uint64_t max_bytes,
                                                   const std::string& what) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) return std::optional<std::string>();
    if (ec)
        return unexpected(Error(ErrorKind::io, "cannot read " + what + " " + path.string() + ": " + ec.message(),
                                io_error_hint(ec.value(), path)));
    if (!std::filesystem::is_regular_file(status))
        return unexpected(Error(ErrorKind::io, what + " " + path.string() + " is not a regular file",
                                "point it at a file, or remove what is there"));
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > max_bytes)
        return unexpected(Error(ErrorKind::io,
                                what + " " + path.string() + " is " + std::to_string(size) + " bytes, more than the " +
                                    std::to_string(max_bytes) + " karmor reads",
                                "check that it is the file you meant"));
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int error_number = errno;
        return unexpected(Error(ErrorKind::io,
                                "cannot read " + what + " " + path.string() + ": " + std::strerror(error_number),
                                io_error_hint(error_number, path)));
    }
    std::string bytes;
    // Bounded again while reading: the file may have grown since it was measured.
    char buffer[16384];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        bytes.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (bytes.size() > max_bytes)
            return unexpected(Error(ErrorKind::io,
                                    what + " " + path.string() + " is more than the " + std::to_string(max_bytes) +
                                        " bytes karmor reads",
                                    "check that it is the file you meant"));
    }
    if (in.bad()) return unexpected(Error(ErrorKind::io, "cannot read " + what + " " + path.string()));
    return std::optional<std::string>(std::move(bytes));
}

}  // namespace karmor::util
