// Runs independent work items on every core.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
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

// parallel_for for items that become ready one at a time, e.g. files as an archive is read:
// `add(item)` hands over an item (owned by the caller, at a stable address, untouched by the
// caller until finish() returns), `finish()` says no more will come, works on the rest on the
// calling thread too and waits for every item. The other threads start when a second item
// arrives, so a single item costs no thread. `work` must not throw.
template <typename Item, typename Work>
class ParallelStream {
public:
    explicit ParallelStream(Work work) : work_(std::move(work)) {}
    ParallelStream(const ParallelStream&) = delete;
    ParallelStream& operator=(const ParallelStream&) = delete;
    ~ParallelStream() { finish(); }

    void add(Item& item) {
        bool second = false;
        {
            std::lock_guard lock(mutex_);
            items_.push_back(&item);
            second = items_.size() == 2;
        }
        ready_.notify_one();
        if (second) {
            const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
            for (unsigned i = 1; i < cores; ++i) threads_.emplace_back([this] { drain(); });
        }
    }

    void finish() {
        {
            std::lock_guard lock(mutex_);
            if (finished_ && threads_.empty()) return;
            finished_ = true;
        }
        ready_.notify_all();
        drain();
        for (auto& thread : threads_) thread.join();
        threads_.clear();
    }

private:
    void drain() {
        for (;;) {
            Item* item = nullptr;
            {
                std::unique_lock lock(mutex_);
                ready_.wait(lock, [this] { return next_ < items_.size() || finished_; });
                if (next_ == items_.size()) return;
                item = items_[next_++];
            }
            work_(*item);
        }
    }

    Work work_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::vector<Item*> items_;  // guarded by mutex_, as are next_ and finished_
    std::size_t next_ = 0;
    bool finished_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace karmor::util
