// --output and --quiet, shared by push and pull (SPEC §2: "--output json prints one JSON
// document for scripts"; results to stdout, progress and diagnostics to stderr).
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "karmor/oci.hpp"

namespace karmor::cli {

struct OutputFlags {
    std::string format = "text";
    bool quiet = false;

    void add_to(CLI::App& command);
    bool json() const { return format == "json"; }
    // The human summary on stderr: neither with --quiet nor with --output json.
    bool summary() const { return !quiet && !json(); }
};

nlohmann::ordered_json policies_to_json(const std::vector<PolicySummary>& policies);

}  // namespace karmor::cli
