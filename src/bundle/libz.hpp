// zlib, opened on first use like libarchive (src/bundle/libarchive.hpp): karmor does not link
// it. libarchive needs it anyway, so a command that builds a layer maps no further object.
//
// To call a zlib function, write libz().deflate(...) instead of deflate(...); a function not yet
// in the list below is added to it (one line).
#pragma once

// next_in as a pointer to const: the input is the policies' own text.
#ifndef ZLIB_CONST
#define ZLIB_CONST
#endif
#include <zlib.h>

#include "karmor/result.hpp"

namespace karmor::bundle {

#define KARMOR_LIBZ_FUNCTIONS(X)                                                                                       \
    X(crc32_z)                                                                                                         \
    X(deflate)                                                                                                         \
    X(deflateEnd)                                                                                                      \
    X(deflateInit2_)

struct LibZ {
#define KARMOR_LIBZ_MEMBER(name) decltype(&::name) name = nullptr;
    KARMOR_LIBZ_FUNCTIONS(KARMOR_LIBZ_MEMBER)
#undef KARMOR_LIBZ_MEMBER
};

// Opens libz.so.1, once per process (thread-safe); the error says which package installs it.
Result<void> load_libz();

// The table; only after load_libz() succeeded.
const LibZ& libz();

}  // namespace karmor::bundle
