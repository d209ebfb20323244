// Invariant: every challenge has a non-empty lowercase scheme.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/auth_challenge.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const auto& challenge : karmor::oci::parse_www_authenticate(text)) {
        if (challenge.scheme.empty()) std::abort();
        for (char c : challenge.scheme)
            if (std::isupper(static_cast<unsigned char>(c))) std::abort();
    }
    return 0;
}
