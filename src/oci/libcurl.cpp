#include "oci/libcurl.hpp"

#include <cstring>

#include "util/hashing.hpp"
#include "util/shared_library.hpp"

namespace karmor::oci {
namespace {

#ifdef KARMOR_PRIVATE_LIBCURL
constexpr const char* private_libcurl = KARMOR_PRIVATE_LIBCURL;
#else
constexpr const char* private_libcurl = nullptr;
#endif
constexpr util::SharedLibrary libcurl_library{"libcurl.so.4", "libcurl4", "talking to registries", private_libcurl};

LibCurl loaded_table;

Result<void> load() {
    auto handle = util::open_shared_library(libcurl_library);
    if (!handle) return unexpected(std::move(handle).error());
#define KARMOR_LIBCURL_LOAD(name) KARMOR_LOAD_FUNCTION(loaded_table, *handle, libcurl_library, name)
    KARMOR_LIBCURL_FUNCTIONS(KARMOR_LIBCURL_LOAD)
#undef KARMOR_LIBCURL_LOAD
    // libcurl's global state is set up here, by the first transport, not at program start.
    // The system's libcurl sets up OpenSSL (and reads openssl.cnf) here too; karmor's own
    // does it at the first TLS connection (scripts/libcurl-lazy-tls.patch).
    if (const CURLcode code = loaded_table.curl_global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK)
        return unexpected(Error(ErrorKind::registry,
                                std::string("cannot initialise libcurl: ") + loaded_table.curl_easy_strerror(code)));
    // libcurl brought libcrypto: digests of small inputs may use its SHA-NI code now.
    util::digest_small_inputs_with_libcrypto();
    return {};
}

}  // namespace

Result<void> load_libcurl() {
    static const Result<void> loaded = load();
    return loaded;
}

const LibCurl& libcurl() {
    return loaded_table;
}

const char* private_libcurl_file_name() {
    return private_libcurl;
}

std::string loaded_libcurl_file() {
    void* address = nullptr;
    std::memcpy(&address, &loaded_table.curl_easy_init, sizeof address);
    return util::library_file_of(address);
}

}  // namespace karmor::oci
