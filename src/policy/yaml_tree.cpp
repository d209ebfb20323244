#include "policy/yaml_tree.hpp"

#include <yaml.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace karmor::policy {
namespace {

constexpr std::string_view core_tag_prefix = "tag:yaml.org,2002:";

std::string_view view_of(const yaml_char_t* text) {
    return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view();
}

}  // namespace

const YamlNode* YamlNode::find(std::string_view key) const {
    for (const auto& [k, v] : entries)
        if (k->is_scalar() && k->text == key) return v;
    return nullptr;
}

struct YamlDocumentReader::Parser {
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
        out.line = static_cast<int>(parser.problem_mark.line) + 1;
        out.column = static_cast<int>(parser.problem_mark.column) + 1;
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

namespace {

// One event, freed on every path out.
struct Event {
    yaml_event_t event{};
    bool owned = false;
    ~Event() {
        if (owned) yaml_event_delete(&event);
    }
};

struct Open {
    YamlNode* node;
    std::string anchor;
    const YamlNode* pending_key = nullptr;  // mappings: the key waiting for its value
};

}  // namespace

YamlDocumentReader::YamlDocumentReader(std::string_view text, std::size_t max_depth, const std::atomic<bool>* cancel)
    : parser_(std::make_unique<Parser>(text)), max_depth_(std::min(max_depth, max_nesting_depth)), cancel_(cancel) {}

YamlDocumentReader::~YamlDocumentReader() = default;

const YamlNode* YamlDocumentReader::next() {
    if (finished_) return nullptr;
    nodes_.clear();
    std::unordered_map<std::string, const YamlNode*> anchors;
    std::vector<Open> open;
    const YamlNode* root = nullptr;
    bool in_document = false;

    const auto fail = [&](std::string message, const yaml_mark_t& mark) -> const YamlNode* {
        error_ =
            YamlSyntaxError{std::move(message), static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1};
        finished_ = true;
        return nullptr;
    };
    const auto make = [&](YamlNode::Kind kind, const yaml_mark_t& mark) {
        auto& node = nodes_.emplace_back();
        node.kind = kind;
        node.line = static_cast<int>(mark.line) + 1;
        node.column = static_cast<int>(mark.column) + 1;
        return &node;
    };
    // Hands a finished node to its parent (or makes it the document's root).
    const auto attach = [&](const YamlNode* node) {
        if (open.empty()) {
            root = node;
            return;
        }
        auto& parent = open.back();
        if (parent.node->is_sequence()) {
            parent.node->items.push_back(node);
        } else if (!parent.pending_key) {
            parent.pending_key = node;
        } else {
            parent.node->entries.emplace_back(parent.pending_key, node);
            parent.pending_key = nullptr;
        }
    };
    const auto remember = [&](const yaml_char_t* anchor, const YamlNode* node) {
        if (anchor) anchors[std::string(view_of(anchor))] = node;
    };

    for (;;) {
        Event e;
        if (cancel_ && cancel_->load(std::memory_order_relaxed)) {
            error_ = YamlSyntaxError{"interrupted", 0, 0};
            finished_ = true;
            return nullptr;
        }
        if (!yaml_parser_parse(&parser_->parser, &e.event)) {
            error_ = parser_->error();
            finished_ = true;
            return nullptr;
        }
        e.owned = true;
        const auto& ev = e.event;
        switch (ev.type) {
            case YAML_NO_EVENT:
            case YAML_STREAM_START_EVENT: break;
            case YAML_STREAM_END_EVENT: finished_ = true; return nullptr;
            case YAML_DOCUMENT_START_EVENT:
                in_document = true;
                document_line_ = static_cast<int>(ev.start_mark.line) + 1;
                break;
            case YAML_DOCUMENT_END_EVENT:
                if (in_document) return root;
                break;
            case YAML_ALIAS_EVENT: {
                const auto name = view_of(ev.data.alias.anchor);
                const auto it = anchors.find(std::string(name));
                if (it == anchors.end()) {
                    bool inside = false;
                    for (const auto& o : open) inside = inside || o.anchor == name;
                    return fail(inside ? "alias *" + std::string(name) + " refers to a node that contains it"
                                       : "unknown alias *" + std::string(name) + ": no anchor &" + std::string(name) +
                                             " before it in this document",
                                ev.start_mark);
                }
                attach(it->second);
                break;
            }
            case YAML_SCALAR_EVENT: {
                const auto& s = ev.data.scalar;
                const auto tag = view_of(s.tag);
                const bool resolvable = s.tag ? (tag.substr(0, core_tag_prefix.size()) == core_tag_prefix &&
                                                 tag.substr(core_tag_prefix.size()) != "str")
                                              : s.plain_implicit != 0;
                std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
                const bool null = (resolvable && is_null_word(value)) || tag == "tag:yaml.org,2002:null";
                auto* node = make(null ? YamlNode::Kind::null : YamlNode::Kind::scalar, ev.start_mark);
                node->resolvable = resolvable;
                node->text.assign(value);
                remember(s.anchor, node);
                attach(node);
                break;
            }
            case YAML_SEQUENCE_START_EVENT:
            case YAML_MAPPING_START_EVENT: {
                if (open.size() >= max_depth_)
                    return fail("the document nests deeper than " + std::to_string(max_depth_) +
                                    " levels (raise --max-depth)",
                                ev.start_mark);
                const bool sequence = ev.type == YAML_SEQUENCE_START_EVENT;
                auto* node = make(sequence ? YamlNode::Kind::sequence : YamlNode::Kind::mapping, ev.start_mark);
                const auto* anchor = sequence ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor;
                open.push_back({node, std::string(view_of(anchor))});
                break;
            }
            case YAML_SEQUENCE_END_EVENT:
            case YAML_MAPPING_END_EVENT: {
                // libyaml balances start and end events, so `open` is never empty here.
                Open done = std::move(open.back());
                open.pop_back();
                // Registered only now: an alias inside its own anchored node would be a cycle.
                if (!done.anchor.empty()) anchors[done.anchor] = done.node;
                attach(done.node);
                break;
            }
        }
    }
}

}  // namespace karmor::policy
