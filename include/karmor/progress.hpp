// Progress of a push or a pull, for a front end that wants to show it (the CLI draws one
// line on a terminal). The library only reports numbers; it never decides what is shown.
#pragma once

#include <cstddef>
#include <cstdint>

namespace karmor {

enum class TransferDirection { upload, download };

// Work that has no count of its own while it runs.
enum class ProgressStage {
    loading_policies,  // push: reading and validating the input files; pull: the layers
    writing_files,     // pull: writing the policy files
};

// Every call comes from the thread that called push_policies or pull_policies, in the order
// the work happens, some of them from inside libcurl's transfer loop: an implementation must
// return quickly (transfers wait for it) and must not throw.
class ProgressSink {
public:
    virtual ~ProgressSink() = default;

    virtual void stage_started(ProgressStage) {}
    // `count` policies were loaded and validated; ends the loading_policies stage.
    virtual void policies_loaded(std::size_t) {}
    // Blob bytes sent (push) or received (pull) so far by this operation, of the `total` it
    // moves. `done` never decreases, not even when a transfer is retried from its start, and
    // is `total` once every blob is through. Not called when there is nothing to move;
    // manifests are not counted.
    virtual void bytes_transferred(TransferDirection, std::uint64_t /*done*/, std::uint64_t /*total*/) {}
};

}  // namespace karmor
