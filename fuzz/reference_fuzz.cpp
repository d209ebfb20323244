// Invariant: a reference that parses prints to a normalized form that parses to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "karmor/reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto ref = karmor::Reference::parse(text);
    if (!ref) return 0;
    auto again = karmor::Reference::parse(ref->str());
    if (!again || again->str() != ref->str()) std::abort();
    return 0;
}
