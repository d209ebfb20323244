// KubeArmor policies (SPEC §5): loading, validation and serialization.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/result.hpp"

namespace karmor {

inline constexpr const char* kubearmor_api_version = "security.kubearmor.com/v1";

// What makes a policy unique in a cluster. `namespace_name` is empty for cluster-scoped kinds.
struct PolicyIdentity {
    std::string kind;
    std::string namespace_name;
    std::string name;

    friend auto operator<=>(const PolicyIdentity&, const PolicyIdentity&) = default;
    std::string str() const;  // Kind/namespace/name or Kind/name
};

struct SourcePosition {
    std::string file;
    int document = 0;  // 1-based index of the YAML document in the file
    int line = 0;      // 1-based; 0 when unknown
    int column = 0;
    std::string str() const;  // file:line:column
};

struct Policy {
    PolicyIdentity identity;
    // The document with comments and null values dropped, in its own key order. Null when it
    // was loaded with LoadOptions::serialize_as: then `serialized` holds it.
    nlohmann::ordered_json document;
    std::string serialized;  // the document in LoadOptions::serialize_as, or empty
    SourcePosition origin;
    std::string action;                    // spec.action, "" when absent
    std::optional<std::int64_t> severity;  // spec.severity
};

// One problem found in one input: printed as FILE:LINE:COLUMN: FIELD.PATH: message.
struct Diagnostic {
    SourcePosition where;
    std::string field_path;
    std::string message;
    std::string str() const;
};

// Adds each problem to the error: a line of `details` and an entry of `problems`.
void add_diagnostics(Error& error, const std::vector<Diagnostic>& problems);

enum class PolicyFormat { yaml, json };

// The bounds of every input (SPEC §8), one set for push and pull so that push refuses what pull
// would: what one run reads is bounded however hostile or mistaken the input. The CLI's
// --max-file-size, --max-total-size, --max-policies and --max-depth raise them.
struct InputLimits {
    std::uint64_t max_file_bytes = 4ull << 20;   // a policy file given to push; a file or layer in an artifact
    std::uint64_t max_total_bytes = 1ull << 30;  // all policy files together; an archive, decompressed
    std::uint64_t max_policies = 200'000;        // YAML documents in all inputs; entries in an archive
    std::uint64_t max_depth = 100;               // nesting of mappings and sequences (policies use about 10)
    // The deepest max_depth may be set to: a hundred times what a policy needs.
    static constexpr std::uint64_t deepest_max_depth = 1000;
};

struct LoadOptions {
    bool recursive = false;        // descend into subdirectories of directory inputs
    bool skip_validation = false;  // check only what identifies a policy (kind, name)
    // Serialize each policy as soon as it is loaded and keep only the text (Policy::serialized):
    // a parsed document takes several times the memory of its text, which matters at 100,000
    // policies.
    std::optional<PolicyFormat> serialize_as;
    // The text an input named "-" stands for (`-p -`: the CLI reads standard input into it).
    std::optional<std::string> standard_input;
    // Called, in input order, for every entry that was skipped and why: a file in a directory
    // that is not *.yaml, *.yml or *.json, a link that leads nowhere, a hidden directory (-r), a
    // subdirectory without -r, a file that holds only comments or empty documents.
    std::function<void(const Diagnostic&)> on_skipped;
    InputLimits limits;
    // Set (by a signal handler) to stop reading, parsing and validating at the next document;
    // the load then fails with ErrorKind::cancelled.
    const std::atomic<bool>* cancel = nullptr;
};

// Loads every policy from files and directories. All problems of all inputs are collected;
// on failure the error is of kind validation (or io) and lists each problem in `details`.
Result<std::vector<Policy>> load_policy_files(const std::vector<std::filesystem::path>& inputs,
                                              const LoadOptions& options = {});

// Parses policies from one YAML or JSON text (one or more documents). Problems are appended
// to `problems`; the policies that parsed are returned.
std::vector<Policy> parse_policy_text(std::string_view text, const std::string& source_name, const LoadOptions& options,
                                      std::vector<Diagnostic>& problems);

// parse_policy_text for a caller that owns `text` and needs it no longer once a policy is read
// from it (pull's layers): when the text is one document whose serialized text is the text
// itself (what karmor writes, with LoadOptions::serialize_as YAML), that policy's `serialized`
// takes the text instead of a copy, which a big policy would hold twice, and `text` is left
// empty. Otherwise `text` is unchanged and the result is parse_policy_text's.
std::vector<Policy> parse_policy_text_taking(std::string& text, const std::string& source_name,
                                             const LoadOptions& options, std::vector<Diagnostic>& problems);

// Appends one diagnostic per pair of policies with the same identity, naming both places.
void find_duplicate_policies(const std::vector<Policy>& policies, std::vector<Diagnostic>& problems);

// Sorts by identity, the order of every artifact we build.
void sort_policies(std::vector<Policy>& policies);

// find_duplicate_policies, then sort_policies, with one sort of the identities instead of two.
void sort_policies_finding_duplicates(std::vector<Policy>& policies, std::vector<Diagnostic>& problems);

// The policy's text in `format`: Policy::serialized when it was loaded in that format.
std::string serialize_policy(const Policy& policy, PolicyFormat format);

// Policy::serialized when it holds the policy in `format` (loaded with LoadOptions::serialize_as
// set to it), else nullptr: the text without a copy.
const std::string* serialized_text(const Policy& policy, PolicyFormat format);
std::string to_yaml(const nlohmann::ordered_json& document);

// A file name that shows kind, namespace and name: ksp-default-block-shell.yaml.
// Names are unique within `policies` (a short hash is added where two would collide).
std::vector<std::string> policy_file_names(const std::vector<Policy>& policies, PolicyFormat format);
// The name policy_file_names gives a policy whose name no other policy of the set flattens to.
std::string policy_file_name(const PolicyIdentity& identity, PolicyFormat format);

// ksp, hsp, csp or knp.
std::string kind_abbreviation(std::string_view kind);
bool is_kubearmor_kind(std::string_view kind);
bool is_namespaced_kind(std::string_view kind);

}  // namespace karmor
