// util::ParallelStream: items handed over one at a time are each worked on exactly once, on
// every core, and a single item costs no thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <thread>

#include "util/parallel.hpp"

namespace karmor::util {
namespace {

struct Item {
    int value = 0;
    std::atomic<int> visits{0};
    std::thread::id worker;
    int result = 0;
};

TEST(ParallelStream, EveryItemIsWorkedOnOnceWhileMoreArrive) {
    std::deque<Item> items;
    const auto work = [](Item& item) {
        ++item.visits;
        item.worker = std::this_thread::get_id();
        item.result = item.value * 2;
    };
    ParallelStream<Item, decltype(work)> stream(work);
    for (int i = 0; i < 5000; ++i) {
        auto& item = items.emplace_back();
        item.value = i;
        stream.add(item);
        // The producer is sometimes slower than the workers: they wait for more, not finish.
        if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    stream.finish();
    for (int i = 0; i < 5000; ++i) {
        ASSERT_EQ(items[static_cast<std::size_t>(i)].visits.load(), 1) << i;
        ASSERT_EQ(items[static_cast<std::size_t>(i)].result, 2 * i) << i;
    }
    if (std::thread::hardware_concurrency() > 1) {
        const auto caller = std::this_thread::get_id();
        const bool others =
            std::any_of(items.begin(), items.end(), [&](const Item& it) { return it.worker != caller; });
        EXPECT_TRUE(others) << "with more than one core, other threads take items too";
    }
}

TEST(ParallelStream, ASingleItemRunsOnTheCallingThreadAtFinish) {
    Item item;
    item.value = 21;
    const auto work = [](Item& it) {
        ++it.visits;
        it.worker = std::this_thread::get_id();
        it.result = it.value * 2;
    };
    ParallelStream<Item, decltype(work)> stream(work);
    stream.add(item);
    EXPECT_EQ(item.visits.load(), 0) << "no thread was started to take it";
    stream.finish();
    EXPECT_EQ(item.visits.load(), 1);
    EXPECT_EQ(item.result, 42);
    EXPECT_EQ(item.worker, std::this_thread::get_id());
}

TEST(ParallelStream, NoItemsAndASecondFinishAreFine) {
    const auto work = [](Item& it) { ++it.visits; };
    ParallelStream<Item, decltype(work)> stream(work);
    stream.finish();
    stream.finish();  // and the destructor's
}

}  // namespace
}  // namespace karmor::util
