// Invariant: whatever the bytes, the reader stays within its limits and returns only safe,
// unique, relative names.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "bundle/archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    karmor::bundle::ArchiveLimits limits;
    limits.max_entries = 64;
    limits.max_entry_bytes = 1 << 16;
    limits.max_total_bytes = 1 << 20;
    auto entries = karmor::bundle::read_tar_gz(bytes, "fuzz", limits);
    if (!entries) return 0;
    std::set<std::string> names;
    std::uint64_t total = 0;
    for (const auto& e : *entries) {
        if (e.name.empty() || e.name.front() == '/' || e.name.find("..") != std::string::npos) {
            // ".." is only refused as a whole path component; "a..b" is a fine name.
            if (e.name.empty() || e.name.front() == '/') std::abort();
            for (std::size_t at = e.name.find(".."); at != std::string::npos; at = e.name.find("..", at + 1)) {
                const bool starts = at == 0 || e.name[at - 1] == '/';
                const bool ends = at + 2 == e.name.size() || e.name[at + 2] == '/';
                if (starts && ends) std::abort();
            }
        }
        if (!names.insert(e.name).second) std::abort();
        if (e.content.size() > limits.max_entry_bytes) std::abort();
        total += e.content.size();
    }
    if (total > limits.max_total_bytes || entries->size() > limits.max_entries) std::abort();
    return 0;
}
