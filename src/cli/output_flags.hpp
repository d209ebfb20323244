// --output and --quiet, shared by every oci command (SPEC §2: "--output json prints one JSON
// document for scripts"; results to stdout, progress and diagnostics to stderr).
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "karmor/oci.hpp"

namespace karmor::cli {

struct OutputFlags {
    std::string format = "text";
    bool quiet = false;

    // `json_description` says what --output json prints.
    void add_to(CLI::App& command, const std::string& json_description = "one JSON document for scripts");
    bool json() const { return format == "json"; }
    // The human summary on stderr: neither with --quiet nor with --output json.
    bool summary() const { return !quiet && !json(); }
    // What the streams do for every message: with --output json an error is also one JSON
    // document on stdout; with -q no warnings either.
    void apply_to(Streams& io) const;
};

nlohmann::ordered_json policies_to_json(const std::vector<PolicySummary>& policies);

}  // namespace karmor::cli
