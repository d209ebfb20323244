#include "util/shared_library.hpp"

#include <dlfcn.h>

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

}  // namespace

Result<void*> open_shared_library(const SharedLibrary& library) {
    // RTLD_NOW: a missing function is reported here, not as a crash in the middle of a transfer.
    void* handle = dlopen(library.soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return unexpected(Error(ErrorKind::io, std::string("cannot load ") + library.soname + ": " + last_dl_error(),
                                install_hint(library)));
    return handle;
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
