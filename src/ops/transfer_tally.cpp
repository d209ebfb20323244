#include "ops/transfer_tally.hpp"

#include <algorithm>

namespace karmor::ops {

TransferTally::TransferTally(ProgressSink* sink, TransferDirection direction, std::uint64_t total)
    : sink_(total > 0 ? sink : nullptr), direction_(direction), total_(total) {
    report();
}

oci::TransferObserver TransferTally::observe(std::uint64_t blob_size) {
    if (!sink_) return {};
    current_ = 0;
    return [this, blob_size](std::uint64_t bytes) {
        current_ = std::max(current_, std::min(bytes, blob_size));
        report();
    };
}

void TransferTally::finished(std::uint64_t blob_size) {
    finished_ += blob_size;
    current_ = 0;
    report();
}

void TransferTally::report() const {
    if (sink_) sink_->bytes_transferred(direction_, std::min(finished_ + current_, total_), total_);
}

}  // namespace karmor::ops
