// --max-file-size, --max-total-size, --max-policies and --max-depth: one set of input limits
// for push and pull (SPEC §8), so that push refuses what pull would.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "karmor/policy.hpp"

namespace karmor::cli {

struct LimitFlags {
    std::string max_file_size;
    std::string max_total_size;
    std::uint64_t max_policies = InputLimits{}.max_policies;
    std::uint64_t max_depth = InputLimits{}.max_depth;

    void add_to(CLI::App& command);
    // The limits, or a usage error for a size that does not parse.
    Result<InputLimits> resolve() const;
};

// "4194304", "4MiB", "4M", "512KiB", "1GiB": bytes, with an optional binary suffix.
Result<std::uint64_t> parse_size(const std::string& text, const std::string& flag);

}  // namespace karmor::cli
