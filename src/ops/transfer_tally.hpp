// Turns the per-request byte counts of blob transfers into the running total of an operation
// that ProgressSink::bytes_transferred promises: the blobs that are through plus the furthest
// point reached in the one under way, so that a retried transfer, which libcurl counts from
// zero again, never makes the total go back.
#pragma once

#include <cstdint>

#include "karmor/progress.hpp"
#include "oci/http.hpp"

namespace karmor::ops {

class TransferTally {
public:
    // Reports 0 of `total` at once; reports nothing at all when `sink` is null or `total` is 0.
    TransferTally(ProgressSink* sink, TransferDirection direction, std::uint64_t total);

    // The observer to pass along with the transfer of one blob of `blob_size` bytes.
    oci::TransferObserver observe(std::uint64_t blob_size);
    // That blob is through: all of its bytes count.
    void finished(std::uint64_t blob_size);

private:
    void report() const;

    ProgressSink* sink_;
    TransferDirection direction_;
    std::uint64_t total_;
    std::uint64_t finished_ = 0;  // bytes of the blobs that are through
    std::uint64_t current_ = 0;   // furthest point reached in the blob under way
};

}  // namespace karmor::ops
