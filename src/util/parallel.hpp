// Runs independent work items on every core.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace karmor::util {

// Calls work(i) for every i in [0, count), on up to one thread per core (the calling thread
// included). Items are handed out one at a time, so uneven items balance themselves; each
// writes its own result slot, so results stay in input order. `work` must not throw.
template <typename Work>
void parallel_for(std::size_t count, Work&& work) {
    const std::size_t workers = std::min<std::size_t>(count, std::max(1u, std::thread::hardware_concurrency()));
    std::atomic<std::size_t> next{0};
    const auto drain = [&] {
        for (std::size_t i = next++; i < count; i = next++) work(i);
    };
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(drain);
    drain();
    for (auto& t : threads) t.join();
}

}  // namespace karmor::util
