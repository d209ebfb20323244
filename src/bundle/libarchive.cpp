#include "bundle/libarchive.hpp"

#include "util/shared_library.hpp"

namespace karmor::bundle {
namespace {

constexpr util::SharedLibrary libarchive_library{"libarchive.so.13", "libarchive13",
                                                 "reading and writing policy archives"};

LibArchive loaded_table;

Result<void> load() {
    auto handle = util::open_shared_library(libarchive_library);
    if (!handle) return unexpected(std::move(handle).error());
#define KARMOR_LIBARCHIVE_LOAD(name) KARMOR_LOAD_FUNCTION(loaded_table, *handle, libarchive_library, name)
    KARMOR_LIBARCHIVE_FUNCTIONS(KARMOR_LIBARCHIVE_LOAD)
#undef KARMOR_LIBARCHIVE_LOAD
    return {};
}

}  // namespace

Result<void> load_libarchive() {
    static const Result<void> loaded = load();
    return loaded;
}

const LibArchive& libarchive() {
    return loaded_table;
}

}  // namespace karmor::bundle
