// The progress line of push and pull: on a terminal, once the work has taken about a second,
// one line on stderr that overwrites itself ("pushing: 1200 policies loaded, 1.2 MiB of
// 3.4 MiB sent"). Nothing is written when disabled (stderr is not a terminal, --output json,
// --quiet), so fast runs and scripts see no trace of it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "karmor/options.hpp"
#include "karmor/progress.hpp"

namespace karmor::cli {

class ProgressLine final : public ProgressSink {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    // Work that is over sooner leaves no trace.
    static constexpr std::chrono::milliseconds delay{1000};
    // At most 10 redraws a second.
    static constexpr std::chrono::milliseconds min_interval{100};

    // `label` names the work ("pushing"). The clock starts now.
    ProgressLine(
        std::ostream& err, bool enabled, std::string label,
        Clock clock = [] { return std::chrono::steady_clock::now(); });
    ~ProgressLine() override;  // finish()
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    void stage_started(ProgressStage stage) override;
    void policies_loaded(std::size_t count) override;
    void bytes_transferred(TransferDirection direction, std::uint64_t done, std::uint64_t total) override;

    // Draws the line if it is due, for work that reports nothing for a while (ProgressTicker).
    void tick();
    // Runs `write`, which writes whole lines to the same stream, with the line erased first;
    // the line comes back at the next redraw.
    void with_line_cleared(const std::function<void()>& write);
    // Erases the line and draws nothing more: before the result or an error is printed.
    void finish();

    // What the line says (or would say) now.
    std::string text() const;

private:
    std::string text_locked() const;
    void redraw_locked();
    void clear_locked();

    mutable std::mutex mutex_;
    std::ostream& err_;
    const bool enabled_;
    const std::string label_;
    const Clock clock_;
    const std::chrono::steady_clock::time_point start_;
    bool finished_ = false;
    bool shown_ = false;  // the line is on the screen
    std::string shown_text_;
    std::optional<std::chrono::steady_clock::time_point> last_draw_;

    std::optional<ProgressStage> stage_;
    std::optional<std::size_t> policies_;
    TransferDirection direction_ = TransferDirection::upload;
    std::uint64_t done_ = 0;
    std::uint64_t total_ = 0;
};

// Calls ProgressLine::tick() ten times a second on a thread of its own until destroyed, so
// that the line appears and stays current while the work is quiet (loading many files,
// waiting for a registry). Starts no thread when `enabled` is false.
class ProgressTicker {
public:
    ProgressTicker(ProgressLine& line, bool enabled);
    ~ProgressTicker();
    ProgressTicker(const ProgressTicker&) = delete;
    ProgressTicker& operator=(const ProgressTicker&) = delete;

private:
    ProgressLine& line_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

// -v writes a trace line per request to stderr while the operation runs, and the mirrors say
// which one serves (SPEC §15): route both around the progress line.
void keep_trace_clear_of(ProgressLine& line, RemoteOptions& remote);

// 512 B, 1.5 KiB, 3.4 MiB, 1.2 GiB.
std::string format_bytes(std::uint64_t bytes);

}  // namespace karmor::cli
