// Everything karmor checks and takes from one policy document (SPEC §5), in one pass over its
// nodes as the parser gives them: what identifies it, strict schema validation, conversion to
// what the API server stores, and serialization. No document tree is built: memory stays
// proportional to the nesting, whatever the size of the document.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/conversion.hpp"
#include "policy/document_identity.hpp"
#include "policy/document_walk.hpp"
#include "policy/validate.hpp"
#include "policy/value_writers.hpp"

namespace karmor::policy {

// Appends a problem to `problems` (the loader's and the document checks' one way of doing it).
void add_problem(std::vector<Diagnostic>& problems, SourcePosition where, std::string field_path, std::string message);

class DocumentCheck final : public YamlNodeSink {
public:
    explicit DocumentCheck(const LoadOptions& options);
    DocumentCheck(const DocumentCheck&) = delete;
    DocumentCheck& operator=(const DocumentCheck&) = delete;

    // Before each document: `where` names the file and the document's 1-based index, and must
    // stay as it is until finish().
    void start(const SourcePosition& where);
    // After the document was read whole: appends its problems; the policy when it has none.
    // An empty document gives neither.
    std::optional<Policy> finish(std::vector<Diagnostic>& problems);
    // Makes room for serialized documents of up to about `text_bytes` (a big text's size), so
    // that a big document is written once in place instead of being copied each time the
    // buffer doubles (issue 26: peak memory). Pages not written to cost no memory.
    void reserve_output(std::size_t text_bytes);
    // Texts from this size on are worth reserve_output.
    static constexpr std::size_t big_text_bytes = 1 << 20;
    // The text may be its own serialization (pull reads the layers karmor wrote): the first
    // document's YAML is compared with `text` in chunks as it is written, instead of being kept,
    // so that a big document is not held twice. Call before the first start(). When the
    // document turns out to be the whole text, finish() leaves its `serialized` empty and
    // echoed() is true: the caller, which owns the text, moves it in. Otherwise nothing changes.
    void compare_with(std::string_view text);
    bool echoed() const { return echoed_whole_; }

    void scalar(const YamlScalar& scalar) override;
    bool begin(const YamlCollection& collection) override;
    void end() override;

private:
    static constexpr std::size_t kind_count = 4;
    // Until the document's kind is known, it is validated against the schema of every kind;
    // then only against its own.
    void settle_kind();
    // Compares what was written since the last comparison with the text that follows; stops
    // comparing at the first difference.
    void compare_written();
    // Puts the part already compared back in front of what was written: from here on the
    // document is written as usual.
    void stop_comparing();
    // At the end of the first document: the rest compared, and whether it was the whole text.
    void end_comparison();

    const LoadOptions& options_;
    const SourcePosition* where_ = nullptr;
    DocumentWalk walk_;
    DocumentIdentity identity_;
    DocumentConversion conversion_{walk_};
    std::vector<SchemaValidator> validators_;  // one per kind, in the order of kind_names
    int validating_ = -1;                      // the kind's validator once known, else -1
    bool kind_settled_ = false;
    std::string text_;                // the serialized document
    std::string_view compared_text_;  // compare_with's text
    std::size_t compared_ = 0;        // bytes of it that text_ had and matched, then dropped
    bool comparing_ = false;
    bool echoed_whole_ = false;
    std::size_t reserve_bytes_ = 0;  // reserve_output's room, taken once comparing stops
    std::optional<YamlTextWriter> yaml_writer_;
    std::optional<JsonTextWriter> json_writer_;
    std::optional<JsonTreeBuilder> tree_builder_;
};

}  // namespace karmor::policy
