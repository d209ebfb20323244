// Everything karmor checks and takes from one policy document (SPEC §5), in one pass over its
// nodes as the parser gives them: what identifies it, strict schema validation, conversion to
// what the API server stores, and serialization. No document tree is built: memory stays
// proportional to the nesting, whatever the size of the document.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/conversion.hpp"
#include "policy/document_identity.hpp"
#include "policy/document_walk.hpp"
#include "policy/validate.hpp"
#include "policy/value_writers.hpp"

namespace karmor::policy {

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

    void scalar(const YamlScalar& scalar) override;
    bool begin(const YamlCollection& collection) override;
    void end() override;

private:
    static constexpr std::size_t kind_count = 4;
    // Until the document's kind is known, it is validated against the schema of every kind;
    // then only against its own.
    void settle_kind();

    const LoadOptions& options_;
    const SourcePosition* where_ = nullptr;
    DocumentWalk walk_;
    DocumentIdentity identity_;
    DocumentConversion conversion_{walk_};
    std::vector<SchemaValidator> validators_;  // one per kind, in the order of kind_names
    int validating_ = -1;                      // the kind's validator once known, else -1
    bool kind_settled_ = false;
    std::string text_;  // the serialized document
    std::optional<YamlTextWriter> yaml_writer_;
    std::optional<JsonTextWriter> json_writer_;
    std::optional<JsonTreeBuilder> tree_builder_;
};

}  // namespace karmor::policy
