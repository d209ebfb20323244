#include "signing/libsodium.hpp"

#include "util/shared_library.hpp"

namespace karmor::signing {
namespace {

constexpr util::SharedLibrary libsodium_library{"libsodium.so.23", "libsodium23",
                                                "cosign's encrypted keys and Ed25519ph signatures"};

LibSodium loaded_table;

Result<void> load() {
    auto handle = util::open_shared_library(libsodium_library);
    if (!handle) return unexpected(std::move(handle).error());
#define KARMOR_LIBSODIUM_LOAD(name) KARMOR_LOAD_FUNCTION(loaded_table, *handle, libsodium_library, name)
    KARMOR_LIBSODIUM_FUNCTIONS(KARMOR_LIBSODIUM_LOAD)
#undef KARMOR_LIBSODIUM_LOAD
    // It picks implementations and seeds its generator.
    if (loaded_table.sodium_init() < 0) return unexpected(Error(ErrorKind::io, "cannot initialise libsodium"));
    return {};
}

}  // namespace

Result<void> load_libsodium() {
    static const Result<void> loaded = load();
    return loaded;
}

const LibSodium& libsodium() {
    return loaded_table;
}

}  // namespace karmor::signing
