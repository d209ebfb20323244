// The YAML front end: libyaml's event parser building a small tree of nodes, one document at a
// time. libyaml is the C library that go-yaml (what kubectl and the API server read YAML with)
// was ported from, so the syntax accepted here is the syntax the cluster accepts.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/yaml_events.hpp"

namespace karmor::policy {

struct YamlNode {
    enum class Kind : std::uint8_t { null, scalar, sequence, mapping };

    Kind kind = Kind::null;
    // A scalar whose type comes from its text (plain and untagged, or a core tag such as
    // !!int); quoted scalars, !!str and local tags are strings as written.
    bool resolvable = false;
    int line = 0;  // 1-based position of the node's first character
    int column = 0;
    std::string text;                                                  // scalars (and nulls as written)
    std::vector<const YamlNode*> items;                                // sequences
    std::vector<std::pair<const YamlNode*, const YamlNode*>> entries;  // mappings, in document order

    bool is_null() const { return kind == Kind::null; }
    bool is_scalar() const { return kind == Kind::scalar; }
    bool is_sequence() const { return kind == Kind::sequence; }
    bool is_mapping() const { return kind == Kind::mapping; }

    // The value of the first entry whose key is the scalar `key`; nullptr when there is none
    // (or this is not a mapping).
    const YamlNode* find(std::string_view key) const;
};

// Reads a stream of YAML documents. Aliases point at the anchored node (the tree is a DAG:
// whoever walks it bounds the work). Nulls (`~`, `null`, an empty value) are null nodes.

class YamlDocumentReader {
public:
    // Nesting deeper than `max_depth` is an error (the tree's walkers recurse); a set `cancel`
    // ends the stream with the error "interrupted" at the next event.
    explicit YamlDocumentReader(std::string_view text, std::size_t max_depth = max_nesting_depth,
                                const std::atomic<bool>* cancel = nullptr);
    ~YamlDocumentReader();
    YamlDocumentReader(const YamlDocumentReader&) = delete;
    YamlDocumentReader& operator=(const YamlDocumentReader&) = delete;

    // The root of the next document, valid until the next call; nullptr at the end of the
    // stream or on a syntax error (then error() says what and where).
    const YamlNode* next();
    const std::optional<YamlSyntaxError>& error() const { return error_; }
    // Position of the start of the document last returned.
    int document_line() const { return document_line_; }

private:
    struct Parser;
    std::unique_ptr<Parser> parser_;
    std::deque<YamlNode> nodes_;
    std::optional<YamlSyntaxError> error_;
    std::size_t max_depth_;
    const std::atomic<bool>* cancel_;
    int document_line_ = 0;
    bool finished_ = false;
};

}  // namespace karmor::policy
