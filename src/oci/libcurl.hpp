// libcurl, opened on first use (src/util/shared_library.hpp): karmor does not link it, so
// commands that never reach a registry do not load it and the ~30 libraries it needs.
//
// To call a libcurl function, write libcurl().curl_easy_setopt(handle, CURLOPT_X, value)
// instead of curl_easy_setopt(handle, ...); a function not yet in the list below is added to
// it (one line). A direct call does not link: karmor has no -lcurl.
#pragma once

#include <curl/curl.h>

#include <string>

#include "karmor/result.hpp"

namespace karmor::oci {

#define KARMOR_LIBCURL_FUNCTIONS(X)                                                                                    \
    X(curl_global_init)                                                                                                \
    X(curl_version_info)                                                                                               \
    X(curl_easy_init)                                                                                                  \
    X(curl_easy_reset)                                                                                                 \
    X(curl_easy_setopt)                                                                                                \
    X(curl_easy_perform)                                                                                               \
    X(curl_easy_getinfo)                                                                                               \
    X(curl_easy_strerror)                                                                                              \
    X(curl_easy_cleanup)                                                                                               \
    X(curl_slist_append)                                                                                               \
    X(curl_slist_free_all)

struct LibCurl {
#define KARMOR_LIBCURL_MEMBER(name) decltype(&::name) name = nullptr;
    KARMOR_LIBCURL_FUNCTIONS(KARMOR_LIBCURL_MEMBER)
#undef KARMOR_LIBCURL_MEMBER
};

// Opens karmor's private libcurl (libkarmor-curl.so, scripts/libcurl.sh) when the build has one,
// else the system's libcurl.so.4, and runs curl_global_init, once per process (thread-safe); the error
// says which file is missing and which package installs it.
Result<void> load_libcurl();

// The table; only after load_libcurl() succeeded.
const LibCurl& libcurl();

// The file libcurl was loaded from; only after load_libcurl() succeeded.
std::string loaded_libcurl_file();

// "libkarmor-curl.so" when this build has karmor's own libcurl (CMake's KARMOR_LIBCURL), else
// nullptr.
const char* private_libcurl_file_name();

}  // namespace karmor::oci
