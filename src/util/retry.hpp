// Waiting between attempts of a request (registries, the Kubernetes API server).
#pragma once

#include <atomic>
#include <string>

namespace karmor::util {

// Sleeps `milliseconds`, waking every 50 ms to see `cancel`; false when it was set.
bool sleep_unless_cancelled(long milliseconds, const std::atomic<bool>* cancel);

// A Retry-After header's delay in milliseconds, at most `max_milliseconds`; -1 when it is
// absent or an HTTP date (the caller then backs off by itself).
long retry_after_milliseconds(const std::string& header_value, long max_milliseconds);

}  // namespace karmor::util
