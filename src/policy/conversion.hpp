// A document turned into the JSON the API server stores (SPEC §5), as its nodes go by: null
// mapping values dropped (the API server prunes them), everything else in document order,
// given to a ValueWriter. What that conversion refuses is reported: a key repeated in one
// mapping (strict field validation), a key that is not a string, and a document that aliases
// blow up to more than 1,000,000 nodes.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/document_walk.hpp"
#include "policy/value_writers.hpp"

namespace karmor::policy {

class DocumentConversion final : public DocumentObserver {
public:
    explicit DocumentConversion(const DocumentWalk& walk) : walk_(walk) {}

    // For the next document; `writer` (may be null) gets its values until a problem is found.
    // `where` (the file and document) must outlive the document.
    void reset(const SourcePosition& where, ValueWriter* writer);
    std::vector<Diagnostic>& problems() { return problems_; }

    void key(const YamlScalar& key) override;
    void bad_key(int line, int column) override;
    void scalar(const YamlScalar& value) override;
    bool begin(const YamlCollection& value) override;
    void end() override;

private:
    // A key kept in keys_: no allocation per key once the buffers have grown.
    struct KeyText {
        std::size_t offset = 0;
        std::size_t length = 0;
    };
    struct Open {
        bool mapping = false;
        bool skip_value = false;                 // the current key repeats one already given
        KeyText key;                             // the current key, given to the writer with its value
        std::size_t keys_start = 0;              // where its keys begin in keys_
        std::vector<KeyText> keys;               // given to the writer so far
        std::unordered_set<std::string> lookup;  // the same, once there are many
    };
    std::string_view text_of(KeyText key) const { return std::string_view(keys_).substr(key.offset, key.length); }
    bool contains(const Open& open, std::string_view key) const;
    void add(Open& open, KeyText key);
    // Whether the next value is given at all: not the value of a repeated key, not beyond the
    // node bound, not a null in a mapping. Gives its key to the writer.
    bool take_value(int line, int column, bool null);
    void report(int line, int column, std::string message);

    const DocumentWalk& walk_;
    const SourcePosition* where_ = nullptr;
    ValueWriter* writer_ = nullptr;
    std::vector<Diagnostic> problems_;
    std::vector<Open> open_;  // reused from document to document: [0, depth_) are open
    std::string keys_;        // the text of the keys of the open mappings, outermost first
    std::size_t depth_ = 0;
    std::size_t nodes_ = 0;
    bool exhausted_ = false;
};

// The documents of a YAML text that is not a policy (a kubeconfig), each converted as a policy
// is and built into a JSON tree; a null or empty document is null. At most `max_documents` are
// read. A syntax error ends the text; what the conversion refuses is in `problems`, against
// `where` (the file).
struct JsonDocuments {
    std::vector<nlohmann::ordered_json> documents;
    std::optional<YamlSyntaxError> syntax_error;
};
JsonDocuments read_json_documents(std::string_view text, const SourcePosition& where, std::size_t max_documents,
                                  std::vector<Diagnostic>& problems);

}  // namespace karmor::policy
