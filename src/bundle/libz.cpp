#include "bundle/libz.hpp"

#include "util/shared_library.hpp"

namespace karmor::bundle {
namespace {

constexpr util::SharedLibrary libz_library{"libz.so.1", "zlib1g", "compressing policy archives"};

LibZ loaded_table;

Result<void> load() {
    auto handle = util::open_shared_library(libz_library);
    if (!handle) return unexpected(std::move(handle).error());
#define KARMOR_LIBZ_LOAD(name) KARMOR_LOAD_FUNCTION(loaded_table, *handle, libz_library, name)
    KARMOR_LIBZ_FUNCTIONS(KARMOR_LIBZ_LOAD)
#undef KARMOR_LIBZ_LOAD
    return {};
}

}  // namespace

Result<void> load_libz() {
    static const Result<void> loaded = load();
    return loaded;
}

const LibZ& libz() {
    return loaded_table;
}

}  // namespace karmor::bundle
