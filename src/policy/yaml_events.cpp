#include "policy/yaml_events.hpp"

#include <yaml.h>

#include <algorithm>

namespace karmor::policy {
namespace {

constexpr std::string_view core_tag_prefix = "tag:yaml.org,2002:";

std::string_view view_of(const yaml_char_t* text) {
    return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view();
}

// One event, freed on every path out.
struct Event {
    yaml_event_t event{};
    bool owned = false;
    ~Event() {
        if (owned) yaml_event_delete(&event);
    }
};

int line_of(const yaml_mark_t& mark) {
    return static_cast<int>(mark.line) + 1;
}

int column_of(const yaml_mark_t& mark) {
    return static_cast<int>(mark.column) + 1;
}

}  // namespace

bool is_null_word(std::string_view text) {
    return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::pair<int, int> line_and_column(std::string_view text, std::size_t offset) {
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

struct YamlEventReader::Parser {
    yaml_parser_t parser{};
    std::string_view text;

    explicit Parser(std::string_view input) : text(input) {
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(input.data()), input.size());
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    }
    ~Parser() { yaml_parser_delete(&parser); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    YamlSyntaxError error() const {
        YamlSyntaxError out;
        out.message = parser.problem ? parser.problem : "unreadable YAML";
        if (parser.error == YAML_READER_ERROR) {
            std::tie(out.line, out.column) = line_and_column(text, parser.problem_offset);
            return out;
        }
        out.line = line_of(parser.problem_mark);
        out.column = column_of(parser.problem_mark);
        if (parser.context) {
            out.message += std::string(" (") + parser.context;
            if (parser.context_mark.line != parser.problem_mark.line ||
                parser.context_mark.column != parser.problem_mark.column)
                out.message += " that starts at line " + std::to_string(parser.context_mark.line + 1) + ", column " +
                               std::to_string(parser.context_mark.column + 1);
            out.message += ")";
        }
        return out;
    }
};

YamlEventReader::YamlEventReader(std::string_view text, std::size_t max_depth, const std::atomic<bool>* cancel)
    : parser_(std::make_unique<Parser>(text)), max_depth_(std::min(max_depth, max_nesting_depth)), cancel_(cancel) {}

YamlEventReader::~YamlEventReader() = default;

bool YamlEventReader::fail(std::string message, int line, int column) {
    error_ = YamlSyntaxError{std::move(message), line, column};
    finished_ = true;
    return false;
}

void YamlEventReader::clear_document() {
    skip_depth_ = 0;
    record_depth_ = 0;
    recorded_.clear();
    texts_.clear();
    open_.clear();
    anchors_.clear();
}

void YamlEventReader::replay(Range range, YamlNodeSink& sink) const {
    // An explicit stack: aliases inside anchored nodes nest as deep as the document's anchors.
    std::vector<Range> pending{range};
    while (!pending.empty()) {
        auto& at = pending.back();
        if (at.first == at.end) {
            pending.pop_back();
            continue;
        }
        const auto& e = recorded_[at.first];
        switch (e.type) {
            case Recorded::Type::scalar:
                ++at.first;
                sink.scalar({std::string_view(texts_).substr(e.text_offset, e.text_length), e.line, e.column,
                             e.resolvable, e.null});
                break;
            case Recorded::Type::begin_sequence:
            case Recorded::Type::begin_mapping:
                if (sink.begin({e.type == Recorded::Type::begin_mapping, e.line, e.column}))
                    ++at.first;
                else
                    at.first = e.end + 1;
                break;
            case Recorded::Type::end:
                ++at.first;
                sink.end();
                break;
            case Recorded::Type::alias: {
                const Range target{e.target, e.end};
                ++at.first;
                pending.push_back(target);  // `at` is not used after this
                break;
            }
        }
    }
}

bool YamlEventReader::next(YamlNodeSink& sink) {
    if (finished_) return false;
    clear_document();
    bool in_document = false;
    const auto record = [this](Recorded event) -> std::uint32_t {
        recorded_.push_back(event);
        return static_cast<std::uint32_t>(recorded_.size() - 1);
    };

    for (;;) {
        Event e;
        if (cancel_ && cancel_->load(std::memory_order_relaxed)) return fail("interrupted", 0, 0);
        if (!yaml_parser_parse(&parser_->parser, &e.event)) {
            error_ = parser_->error();
            finished_ = true;
            return false;
        }
        e.owned = true;
        const auto& ev = e.event;
        // The recording indexes events and texts with 32 bits: far beyond any input limit.
        if (recorded_.size() >= no_record - 1 || texts_.size() >= no_record - 1)
            return fail("the document's anchored nodes are too large", line_of(ev.start_mark),
                        column_of(ev.start_mark));
        switch (ev.type) {
            case YAML_NO_EVENT:
            case YAML_STREAM_START_EVENT: break;
            case YAML_STREAM_END_EVENT: finished_ = true; return false;
            case YAML_DOCUMENT_START_EVENT: in_document = true; break;
            case YAML_DOCUMENT_END_EVENT:
                if (in_document) return true;
                break;
            case YAML_ALIAS_EVENT: {
                const auto name = view_of(ev.data.alias.anchor);
                const auto it = anchors_.find(std::string(name));
                if (it == anchors_.end()) {
                    const bool inside = std::any_of(open_.begin(), open_.end(), [&](const OpenCollection& o) {
                        return o.anchored && o.anchor == name;
                    });
                    return fail(inside ? "alias *" + std::string(name) + " refers to a node that contains it"
                                       : "unknown alias *" + std::string(name) + ": no anchor &" + std::string(name) +
                                             " before it in this document",
                                line_of(ev.start_mark), column_of(ev.start_mark));
                }
                const Range target = it->second;
                if (record_depth_ > 0) {
                    Recorded alias;
                    alias.type = Recorded::Type::alias;
                    alias.target = target.first;
                    alias.end = target.end;
                    record(alias);
                }
                if (skip_depth_ == 0) replay(target, sink);
                break;
            }
            case YAML_SCALAR_EVENT: {
                const auto& s = ev.data.scalar;
                const auto tag = view_of(s.tag);
                const bool resolvable = s.tag ? (tag.substr(0, core_tag_prefix.size()) == core_tag_prefix &&
                                                 tag.substr(core_tag_prefix.size()) != "str")
                                              : s.plain_implicit != 0;
                const std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
                const bool null = (resolvable && is_null_word(value)) || tag == "tag:yaml.org,2002:null";
                const YamlScalar scalar{value, line_of(ev.start_mark), column_of(ev.start_mark), resolvable, null};
                if (record_depth_ > 0 || s.anchor) {
                    Recorded recorded;
                    recorded.type = Recorded::Type::scalar;
                    recorded.resolvable = resolvable;
                    recorded.null = null;
                    recorded.line = scalar.line;
                    recorded.column = scalar.column;
                    recorded.text_offset = static_cast<std::uint32_t>(texts_.size());
                    recorded.text_length = static_cast<std::uint32_t>(value.size());
                    texts_.append(value);
                    const auto index = record(recorded);
                    if (s.anchor) anchors_[std::string(view_of(s.anchor))] = Range{index, index + 1};
                }
                if (skip_depth_ == 0) sink.scalar(scalar);
                break;
            }
            case YAML_SEQUENCE_START_EVENT:
            case YAML_MAPPING_START_EVENT: {
                if (open_.size() >= max_depth_)
                    return fail("the document nests deeper than " + std::to_string(max_depth_) +
                                    " levels (raise --max-depth)",
                                line_of(ev.start_mark), column_of(ev.start_mark));
                const bool mapping = ev.type == YAML_MAPPING_START_EVENT;
                const auto* anchor = mapping ? ev.data.mapping_start.anchor : ev.data.sequence_start.anchor;
                const YamlCollection collection{mapping, line_of(ev.start_mark), column_of(ev.start_mark)};
                OpenCollection open;
                if (anchor) {
                    open.anchored = true;
                    open.anchor = std::string(view_of(anchor));
                    ++record_depth_;
                }
                if (record_depth_ > 0) {
                    Recorded begin;
                    begin.type = mapping ? Recorded::Type::begin_mapping : Recorded::Type::begin_sequence;
                    begin.line = collection.line;
                    begin.column = collection.column;
                    open.recorded_begin = record(begin);
                }
                open_.push_back(std::move(open));
                if (skip_depth_ > 0)
                    ++skip_depth_;
                else if (!sink.begin(collection))
                    skip_depth_ = 1;
                break;
            }
            case YAML_SEQUENCE_END_EVENT:
            case YAML_MAPPING_END_EVENT: {
                // libyaml balances start and end events, so `open_` is never empty here.
                OpenCollection done = std::move(open_.back());
                open_.pop_back();
                if (done.recorded_begin != no_record) {
                    Recorded end;
                    end.type = Recorded::Type::end;
                    const auto index = record(end);
                    recorded_[done.recorded_begin].end = index;
                    // Registered only now: an alias inside its own anchored node would be a cycle.
                    if (done.anchored) {
                        --record_depth_;
                        anchors_[done.anchor] = Range{done.recorded_begin, index + 1};
                    }
                }
                if (skip_depth_ > 0)
                    --skip_depth_;
                else
                    sink.end();
                break;
            }
        }
    }
}

}  // namespace karmor::policy
