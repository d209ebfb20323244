// Libraries that only some commands need (libcurl, libarchive, libsodium) are opened with
// dlopen when first used, so that `karmor version`, `--help`, `completion` and a dry-run push
// do not pay for loading them and the ~40 objects they pull in (docs/benchmarks.md, Start-up).
//
// Each such library has a table of the functions karmor calls, named as the library names
// them and listed once in an X-macro (src/oci/libcurl.hpp, src/bundle/libarchive.hpp,
// src/signing/libsodium.hpp); call them through the table, e.g. libcurl().curl_easy_init().
#pragma once

#include <cstring>
#include <string>

#include "karmor/result.hpp"

namespace karmor::util {

// Where to find a library at run time and what to tell a user who does not have it.
struct SharedLibrary {
    const char* soname;      // e.g. "libcurl.so.4": the ABI karmor was built against
    const char* package;     // the Debian package that installs it, e.g. "libcurl4"
    const char* needed_for;  // e.g. "talking to registries"
    // A private build of the library that ships with karmor (e.g. "libkarmor-curl.so", see
    // scripts/libcurl.sh), looked for beside the running program and in ../lib/karmor/ from it
    // before `soname`; nullptr when karmor was built without one.
    const char* private_copy = nullptr;
};

// dlopen of the private copy when there is one, else of soname; the library stays loaded for
// the rest of the process. A private copy that is there but cannot be loaded is an error, not a
// silent fall back to another build.
Result<void*> open_shared_library(const SharedLibrary& library);

// The file a loaded library was opened from (e.g. for `karmor version -v` and the tests), or ""
// when `address` is not in a loaded object.
std::string library_file_of(const void* address);

// The address of the function `name` in an opened library.
Result<void*> find_function(void* handle, const SharedLibrary& library, const char* name);

// Stores a dlsym address in a function pointer (a cast between object and function pointers
// is only conditionally supported by C++; POSIX guarantees the representation).
template <class Function>
void set_function(Function& target, void* address) {
    static_assert(sizeof(Function) == sizeof(void*));
    std::memcpy(&target, &address, sizeof target);
}

}  // namespace karmor::util

// Fills `table.NAME` from `handle` or returns the error from the enclosing function; for the
// X-macro lists of the library tables.
#define KARMOR_LOAD_FUNCTION(table, handle, library, name)                                                             \
    if (auto address = ::karmor::util::find_function(handle, library, #name); !address)                                \
        return ::karmor::unexpected(std::move(address).error());                                                       \
    else                                                                                                               \
        ::karmor::util::set_function(table.name, *address);
