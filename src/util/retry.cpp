#include "util/retry.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace karmor::util {

bool sleep_unless_cancelled(long milliseconds, const std::atomic<bool>* cancel) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (cancel && cancel->load()) return false;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            std::chrono::milliseconds(50), deadline - std::chrono::steady_clock::now()));
    }
    return !(cancel && cancel->load());
}

long retry_after_milliseconds(const std::string& value, long max_milliseconds) {
    if (value.empty()) return -1;
    try {
        std::size_t used = 0;
        const long seconds = std::stol(value, &used);
        if (used == value.size() && seconds >= 0) return std::min(seconds * 1000, max_milliseconds);
    } catch (const std::exception&) {
    }
    return -1;
}

}  // namespace karmor::util
