// The YAML front end: libyaml's event parser, one document at a time, with no tree. Each node
// goes to a YamlNodeSink as it is read; an alias replays the events of its anchored node, which
// were recorded when it was read. libyaml is the C library that go-yaml (what kubectl and the
// API server read YAML with) was ported from, so the syntax accepted here is the syntax the
// cluster accepts.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "karmor/policy.hpp"

namespace karmor::policy {

// The YAML 1.1 null words as go-yaml resolves them: "", "~", "null", "Null", "NULL".
bool is_null_word(std::string_view text);

// The 1-based line and column of a byte offset in `text`.
std::pair<int, int> line_and_column(std::string_view text, std::size_t offset);

// The deepest nesting a document may have, whatever --max-depth says.
inline constexpr std::size_t max_nesting_depth = InputLimits::deepest_max_depth;

struct YamlSyntaxError {
    std::string message;
    int line = 0;  // 1-based; 0 when unknown
    int column = 0;
};

struct YamlScalar {
    std::string_view text;  // valid during the call only
    int line = 0;           // 1-based position of the node's first character
    int column = 0;
    // Its type comes from its text (plain and untagged, or a core tag such as !!int); quoted
    // scalars, !!str and local tags are strings as written.
    bool resolvable = false;
    bool null = false;  // `~`, `null`, an empty value, or !!null
};

struct YamlCollection {
    bool mapping = false;  // else a sequence
    int line = 0;
    int column = 0;
};

// Receives the nodes of one document in document order, with aliases expanded. A mapping's
// children alternate key and value.
class YamlNodeSink {
public:
    virtual ~YamlNodeSink() = default;
    virtual void scalar(const YamlScalar& scalar) = 0;
    // False: the sink wants neither the collection's children nor its end (it counts as done).
    virtual bool begin(const YamlCollection& collection) = 0;
    virtual void end() = 0;
};

class YamlEventReader {
public:
    // Nesting deeper than `max_depth` is an error; a set `cancel` ends the stream with the
    // error "interrupted" at the next event.
    explicit YamlEventReader(std::string_view text, std::size_t max_depth = max_nesting_depth,
                             const std::atomic<bool>* cancel = nullptr);
    ~YamlEventReader();
    YamlEventReader(const YamlEventReader&) = delete;
    YamlEventReader& operator=(const YamlEventReader&) = delete;

    // Reads the next document into `sink`. False at the end of the stream or on an error (then
    // error() says what and where, and the document given to the sink is incomplete).
    bool next(YamlNodeSink& sink);
    const std::optional<YamlSyntaxError>& error() const { return error_; }

private:
    // An event kept for the aliases that may replay it: the anchored nodes of the document.
    struct Recorded {
        enum class Type : std::uint8_t { scalar, begin_sequence, begin_mapping, end, alias };
        Type type = Type::scalar;
        bool resolvable = false;
        bool null = false;
        int line = 0;
        int column = 0;
        std::uint32_t text_offset = 0;  // scalars: into texts_
        std::uint32_t text_length = 0;
        std::uint32_t end = 0;     // begins: index of the matching end; aliases: end of the target
        std::uint32_t target = 0;  // aliases: first event of the target
    };
    struct Range {
        std::uint32_t first = 0;
        std::uint32_t end = 0;  // one past the last
    };
    struct OpenCollection {
        std::uint32_t recorded_begin = no_record;  // its begin in recorded_, when recorded
        bool anchored = false;
        std::string anchor;  // registered when the collection ends
    };
    static constexpr std::uint32_t no_record = UINT32_MAX;
    struct Parser;

    bool fail(std::string message, int line, int column);
    void replay(Range range, YamlNodeSink& sink) const;
    void clear_document();

    std::unique_ptr<Parser> parser_;
    std::optional<YamlSyntaxError> error_;
    std::size_t max_depth_;
    const std::atomic<bool>* cancel_;
    bool finished_ = false;

    // The document being read.
    std::size_t skip_depth_ = 0;    // inside a collection the sink declined: its events are not given
    std::size_t record_depth_ = 0;  // open anchored collections: while > 0, events are recorded
    std::vector<Recorded> recorded_;
    std::string texts_;
    std::vector<OpenCollection> open_;
    std::unordered_map<std::string, Range> anchors_;
};

}  // namespace karmor::policy
