#include "util/shared_library.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <string>

namespace karmor::util {
namespace {

std::string last_dl_error() {
    const char* message = dlerror();
    return message ? message : "unknown error";
}

std::string install_hint(const SharedLibrary& library) {
    return std::string("install the ") + library.package + " package (Debian and Ubuntu: apt-get install " +
           library.package + "); karmor needs it for " + library.needed_for;
}

// The private copy beside the program (a build tree) or in ../lib/karmor/ (an installation), or
// "" when neither is there.
std::string private_copy_path(const char* file_name) {
    std::error_code ec;
    const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    for (const auto& candidate :
         {program.parent_path() / file_name, program.parent_path().parent_path() / "lib" / "karmor" / file_name}) {
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    }
    return {};
}

}  // namespace

Result<void*> open_shared_library(const SharedLibrary& library) {
    std::string file = library.soname;
    if (library.private_copy) {
        if (std::string copy = private_copy_path(library.private_copy); !copy.empty()) file = std::move(copy);
    }
    // RTLD_NOW: a missing function is reported here, not as a crash in the middle of a transfer.
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return unexpected(Error(ErrorKind::io, "cannot load " + file + ": " + last_dl_error(), install_hint(library)));
    return handle;
}

std::string library_file_of(const void* address) {
    Dl_info info{};
    if (dladdr(address, &info) == 0 || !info.dli_fname) return {};
    return info.dli_fname;
}

Result<void*> find_function(void* handle, const SharedLibrary& library, const char* name) {
    dlerror();  // clears an earlier error, so that this lookup's is the one reported
    void* address = dlsym(handle, name);
    if (!address)
        return unexpected(Error(ErrorKind::io,
                                std::string(library.soname) + " has no function " + name + ": " + last_dl_error(),
                                "it is older than the version karmor was built with; " + install_hint(library)));
    return address;
}

}  // namespace karmor::util
