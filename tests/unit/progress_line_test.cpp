// The progress line of the CLI with a clock the test moves: nothing before a second, at most
// ten redraws a second, nothing at all when disabled, erased before other output and at the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/progress_line.hpp"

namespace karmor::cli {
namespace {

using namespace std::chrono_literals;

constexpr const char* erase = "\r\033[K";

std::string drawn(const std::string& text) {
    return "\r" + text + "\033[K";
}

struct FakeClock {
    std::chrono::steady_clock::time_point now{};
    void advance(std::chrono::milliseconds by) { now += by; }
    ProgressLine::Clock function() {
        return [this] { return now; };
    }
};

struct ProgressLineTest : ::testing::Test {
    FakeClock clock;
    std::ostringstream err;
    // Takes what was written since the last call.
    std::string written() {
        auto text = err.str();
        err.str("");
        return text;
    }
};

TEST_F(ProgressLineTest, FastWorkPrintsNothing) {
    ProgressLine line(err, true, "pushing", clock.function());
    line.stage_started(ProgressStage::loading_policies);
    clock.advance(500ms);
    line.policies_loaded(3);
    clock.advance(499ms);
    line.bytes_transferred(TransferDirection::upload, 100, 200);
    line.tick();
    line.finish();
    EXPECT_EQ(err.str(), "");
}

TEST_F(ProgressLineTest, DrawsOnceASecondHasPassed) {
    ProgressLine line(err, true, "pushing", clock.function());
    line.stage_started(ProgressStage::loading_policies);
    clock.advance(999ms);
    line.tick();
    EXPECT_EQ(written(), "");
    clock.advance(1ms);
    line.tick();
    EXPECT_EQ(written(), drawn("pushing: loading policies..."));
}

TEST_F(ProgressLineTest, AtMostTenRedrawsASecond) {
    ProgressLine line(err, true, "pushing", clock.function());
    clock.advance(1s);
    line.policies_loaded(2);
    EXPECT_EQ(written(), drawn("pushing: 2 policies loaded"));
    clock.advance(10ms);
    line.bytes_transferred(TransferDirection::upload, 0, 2048);
    clock.advance(89ms);
    line.bytes_transferred(TransferDirection::upload, 1024, 2048);
    line.tick();
    EXPECT_EQ(written(), "") << "redrawn sooner than 100 ms after the last time";
    clock.advance(1ms);
    line.tick();
    EXPECT_EQ(written(), drawn("pushing: 2 policies loaded, 1.0 KiB of 2.0 KiB sent")) << "the latest state is drawn";

    int draws = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) {  // a second of reports every millisecond, each a new text
        clock.advance(1ms);
        line.bytes_transferred(TransferDirection::upload, i, 1000);
        if (!written().empty()) ++draws;
    }
    EXPECT_EQ(draws, 10);
}

TEST_F(ProgressLineTest, UnchangedTextIsNotDrawnAgain) {
    ProgressLine line(err, true, "pulling", clock.function());
    clock.advance(2s);
    line.tick();
    EXPECT_EQ(written(), drawn("pulling..."));
    clock.advance(1s);
    line.tick();
    EXPECT_EQ(written(), "");
}

TEST_F(ProgressLineTest, DisabledWritesNothingEver) {
    ProgressLine line(err, false, "pushing", clock.function());
    clock.advance(5s);
    line.stage_started(ProgressStage::loading_policies);
    line.policies_loaded(100);
    line.bytes_transferred(TransferDirection::upload, 1, 2);
    line.tick();
    line.with_line_cleared([&] { err << "karmor: > GET /v2/\n"; });
    line.finish();
    EXPECT_EQ(err.str(), "karmor: > GET /v2/\n") << "only what the caller wrote itself";
}

TEST_F(ProgressLineTest, OtherOutputErasesTheLineFirst) {
    ProgressLine line(err, true, "pushing", clock.function());
    line.with_line_cleared([&] { err << "before\n"; });
    EXPECT_EQ(written(), "before\n") << "nothing to erase yet";
    clock.advance(1s);
    line.policies_loaded(1);
    EXPECT_EQ(written(), drawn("pushing: 1 policy loaded"));
    line.with_line_cleared([&] { err << "karmor: > HEAD /v2/p/blobs/sha256:...\n"; });
    EXPECT_EQ(written(), std::string(erase) + "karmor: > HEAD /v2/p/blobs/sha256:...\n");
    clock.advance(100ms);
    line.tick();
    EXPECT_EQ(written(), drawn("pushing: 1 policy loaded")) << "the line comes back below";
}

TEST_F(ProgressLineTest, FinishErasesTheLineAndStopsDrawing) {
    {
        ProgressLine line(err, true, "pulling", clock.function());
        clock.advance(1s);
        line.bytes_transferred(TransferDirection::download, 1, 3 << 20);
        EXPECT_EQ(written(), drawn("pulling: 1 B of 3.0 MiB received"));
        line.finish();
        EXPECT_EQ(written(), erase);
        clock.advance(1s);
        line.bytes_transferred(TransferDirection::download, 3 << 20, 3 << 20);
        line.tick();
    }
    EXPECT_EQ(written(), "") << "nothing after finish, not even from the destructor";
}

TEST_F(ProgressLineTest, DestructorErasesTheLine) {
    {
        ProgressLine line(err, true, "pushing", clock.function());
        clock.advance(1s);
        line.tick();
        EXPECT_EQ(written(), drawn("pushing..."));
    }
    EXPECT_EQ(written(), erase);
}

TEST_F(ProgressLineTest, TextFollowsThePhases) {
    ProgressLine push(err, false, "pushing", clock.function());
    EXPECT_EQ(push.text(), "pushing...");
    push.stage_started(ProgressStage::loading_policies);
    EXPECT_EQ(push.text(), "pushing: loading policies...");
    push.policies_loaded(12000);
    EXPECT_EQ(push.text(), "pushing: 12000 policies loaded");
    push.bytes_transferred(TransferDirection::upload, 1536 * 1024, 3 << 20);
    EXPECT_EQ(push.text(), "pushing: 12000 policies loaded, 1.5 MiB of 3.0 MiB sent");
    push.bytes_transferred(TransferDirection::upload, 3 << 20, 3 << 20);
    EXPECT_EQ(push.text(), "pushing: 12000 policies loaded, 3.0 MiB sent");

    ProgressLine pull(err, false, "pulling", clock.function());
    pull.bytes_transferred(TransferDirection::download, 512, 1024);
    EXPECT_EQ(pull.text(), "pulling: 512 B of 1.0 KiB received");
    pull.bytes_transferred(TransferDirection::download, 1024, 1024);
    pull.stage_started(ProgressStage::loading_policies);
    EXPECT_EQ(pull.text(), "pulling: 1.0 KiB received, loading policies...");
    pull.policies_loaded(1);
    pull.stage_started(ProgressStage::writing_files);
    EXPECT_EQ(pull.text(), "pulling: 1 policy loaded, 1.0 KiB received, writing files...");
}

TEST(FormatBytes, PicksTheUnit) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1024), "1.0 KiB");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(10ull << 20), "10.0 MiB");
    EXPECT_EQ(format_bytes(5ull << 30), "5.0 GiB");
    EXPECT_EQ(format_bytes(2048ull << 40), "2048.0 TiB");
}

// A clock whose first reading (the start) is long before all the others: every report is
// past the delay. Counts its readings.
struct LongAgoClock {
    std::atomic<int> readings{0};
    ProgressLine::Clock function() {
        return [this]() -> std::chrono::steady_clock::time_point {
            if (readings++ == 0) return {};
            return std::chrono::steady_clock::now() + 1h;
        };
    }
};

// Reports from the operation's thread, ticks from the ticker and trace lines may meet: every
// write stays whole, a draw ("\r TEXT \e[K") or an erase ("\r\e[K").
TEST(ProgressLineThreads, ConcurrentReportsKeepWritesWhole) {
    std::ostringstream err;
    LongAgoClock clock;
    ProgressLine line(err, true, "pushing", clock.function());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&line, t] {
            for (std::uint64_t i = 0; i < 2000; ++i) {
                if (t == 0) line.bytes_transferred(TransferDirection::upload, i, 2000);
                if (t == 1) line.tick();
                if (t == 2 && i % 100 == 0) line.with_line_cleared([] {});
                if (t == 3) line.policies_loaded(i);
            }
        });
    for (auto& thread : threads) thread.join();
    line.finish();

    const auto text = err.str();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.front(), '\r');
    std::size_t writes = 0;
    for (std::size_t start = 0; start < text.size(); ++writes) {
        const auto end = std::min(text.find('\r', start + 1), text.size());
        const auto piece = text.substr(start, end - start);
        EXPECT_EQ(piece.find("\033[K"), piece.size() - 3) << "not one whole write: " << piece;
        start = end;
    }
    EXPECT_GE(writes, 2u);
    EXPECT_EQ(text.substr(text.size() - 4), erase) << "finished with the line erased";
}

TEST(ProgressLineThreads, TickerDrawsWhileNothingIsReported) {
    std::ostringstream err;
    LongAgoClock clock;
    ProgressLine line(err, true, "pushing", clock.function());
    {
        ProgressTicker ticker(line, true);
        // The first tick reads the clock and draws; the ticker's destructor waits for it.
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (clock.readings < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
        ASSERT_GE(clock.readings, 2) << "the ticker never ticked";
    }
    line.finish();
    EXPECT_EQ(err.str(), drawn("pushing...") + erase);
}

TEST(ProgressLineThreads, DisabledTickerStartsNoThread) {
    std::ostringstream err;
    LongAgoClock clock;
    ProgressLine line(err, true, "pushing", clock.function());
    {
        ProgressTicker ticker(line, false);
        std::this_thread::sleep_for(250ms);
    }
    EXPECT_EQ(clock.readings, 1) << "only the start was read";
    EXPECT_EQ(err.str(), "");
}

}  // namespace
}  // namespace karmor::cli
