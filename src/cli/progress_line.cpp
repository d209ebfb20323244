#include "cli/progress_line.hpp"

#include <cstdio>

namespace karmor::cli {
namespace {

// Carriage return, and erase to the end of the line (ECMA-48 EL): the line overwrites itself
// and leaves nothing of a longer previous text.
constexpr const char* line_start = "\r";
constexpr const char* erase_rest = "\033[K";

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, units[unit]);
    return buffer;
}

ProgressLine::ProgressLine(std::ostream& err, bool enabled, std::string label, Clock clock)
    : err_(err), enabled_(enabled), label_(std::move(label)), clock_(std::move(clock)), start_(clock_()) {}

ProgressLine::~ProgressLine() {
    finish();
}

void ProgressLine::stage_started(ProgressStage stage) {
    std::lock_guard lock(mutex_);
    stage_ = stage;
    redraw_locked();
}

void ProgressLine::policies_loaded(std::size_t count) {
    std::lock_guard lock(mutex_);
    policies_ = count;
    if (stage_ == ProgressStage::loading_policies) stage_.reset();
    redraw_locked();
}

void ProgressLine::bytes_transferred(TransferDirection direction, std::uint64_t done, std::uint64_t total) {
    std::lock_guard lock(mutex_);
    direction_ = direction;
    done_ = done;
    total_ = total;
    redraw_locked();
}

void ProgressLine::tick() {
    std::lock_guard lock(mutex_);
    redraw_locked();
}

void ProgressLine::with_line_cleared(const std::function<void()>& write) {
    std::lock_guard lock(mutex_);
    clear_locked();
    write();
}

void ProgressLine::finish() {
    std::lock_guard lock(mutex_);
    clear_locked();
    finished_ = true;
}

std::string ProgressLine::text() const {
    std::lock_guard lock(mutex_);
    return text_locked();
}

std::string ProgressLine::text_locked() const {
    std::string parts;
    const auto add = [&parts](const std::string& part) { parts += (parts.empty() ? "" : ", ") + part; };
    if (policies_) add(std::to_string(*policies_) + (*policies_ == 1 ? " policy" : " policies") + " loaded");
    if (total_ > 0) {
        const char* verb = direction_ == TransferDirection::upload ? " sent" : " received";
        add(done_ < total_ ? format_bytes(done_) + " of " + format_bytes(total_) + verb : format_bytes(total_) + verb);
    }
    if (stage_ == ProgressStage::loading_policies) add("loading policies...");
    if (stage_ == ProgressStage::writing_files) add("writing files...");
    return parts.empty() ? label_ + "..." : label_ + ": " + parts;
}

void ProgressLine::redraw_locked() {
    if (!enabled_ || finished_) return;
    const auto now = clock_();
    if (now - start_ < delay) return;
    if (last_draw_ && now - *last_draw_ < min_interval) return;
    auto text = text_locked();
    if (shown_ && text == shown_text_) return;
    err_ << line_start << text << erase_rest << std::flush;
    shown_ = true;
    shown_text_ = std::move(text);
    last_draw_ = now;
}

void ProgressLine::clear_locked() {
    if (!shown_) return;
    err_ << line_start << erase_rest << std::flush;
    shown_ = false;
    shown_text_.clear();
}

ProgressTicker::ProgressTicker(ProgressLine& line, bool enabled) : line_(line) {
    if (!enabled) return;
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, ProgressLine::min_interval, [this] { return stop_; })) line_.tick();
    });
}

ProgressTicker::~ProgressTicker() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void keep_trace_clear_of(ProgressLine& line, RemoteOptions& remote) {
    if (remote.trace)
        remote.trace = [&line, trace = std::move(remote.trace)](const std::string& text) {
            line.with_line_cleared([&] { trace(text); });
        };
    if (remote.mirrors.notice)
        remote.mirrors.notice = [&line, notice = std::move(remote.mirrors.notice)](const std::string& text) {
            line.with_line_cleared([&] { notice(text); });
        };
}

}  // namespace karmor::cli
