#include "policy/yaml_document.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_set>

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;

// Aliases let a small document expand exponentially ("billion laughs"); a policy has a few
// hundred nodes, so this bound is generous and still stops the attack early.
constexpr std::size_t max_nodes_per_document = 1'000'000;

std::optional<bool> bool_word(const std::string& s) {
    static const std::unordered_set<std::string> truthy = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                           "True", "TRUE", "on",  "On",  "ON"};
    static const std::unordered_set<std::string> falsy = {"n",     "N",     "no",  "No",  "NO", "false",
                                                          "False", "FALSE", "off", "Off", "OFF"};
    if (truthy.count(s)) return true;
    if (falsy.count(s)) return false;
    return std::nullopt;
}

bool is_digit_of(char c, int base) {
    switch (base) {
        case 2: return c == '0' || c == '1';
        case 8: return c >= '0' && c <= '7';
        case 10: return c >= '0' && c <= '9';
        default: return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}

// Whether text[from...] is one or more digits of `base` or underscores.
bool digits_or_underscores(std::string_view text, std::size_t from, int base) {
    if (from >= text.size()) return false;
    for (std::size_t i = from; i < text.size(); ++i)
        if (text[i] != '_' && !is_digit_of(text[i], base)) return false;
    return true;
}

// The YAML 1.1 integer syntax: [-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[1-9][0-9_]*|0).
// Matched by hand, not with std::regex: every plain scalar of every policy comes through here.
bool has_integer_syntax(std::string_view text) {
    std::size_t p = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    const auto rest = text.substr(p);
    if (rest.empty()) return false;
    if (rest.rfind("0b", 0) == 0) return digits_or_underscores(rest, 2, 2);
    if (rest.rfind("0x", 0) == 0) return digits_or_underscores(rest, 2, 16);
    if (rest[0] == '0') return rest.size() == 1 || digits_or_underscores(rest, rest[1] == 'o' ? 2 : 1, 8);
    return rest[0] >= '1' && rest[0] <= '9' && (rest.size() == 1 || digits_or_underscores(rest, 1, 10));
}

// The YAML 1.1 float syntax: [-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?
bool has_float_syntax(std::string_view text) {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::size_t p = 0;
    const std::size_t n = text.size();
    if (p < n && (text[p] == '-' || text[p] == '+')) ++p;
    if (p < n && text[p] == '.') {
        ++p;
        if (p >= n || !digit(text[p])) return false;
        while (p < n && digit(text[p])) ++p;
    } else if (p < n && digit(text[p])) {
        ++p;
        while (p < n && (digit(text[p]) || text[p] == '_')) ++p;
        if (p < n && text[p] == '.') {
            ++p;
            while (p < n && (digit(text[p]) || text[p] == '_')) ++p;
        }
    } else {
        return false;
    }
    if (p < n && (text[p] == 'e' || text[p] == 'E')) {
        ++p;
        if (p < n && (text[p] == '-' || text[p] == '+')) ++p;
        if (p >= n || !digit(text[p])) return false;
        while (p < n && digit(text[p])) ++p;
    }
    return p == n;
}

std::optional<json> integer_value(const std::string& text) {
    if (!has_integer_syntax(text)) return std::nullopt;
    std::string digits;
    for (char c : text)
        if (c != '_') digits.push_back(c);
    bool negative = false;
    std::size_t pos = 0;
    if (digits[pos] == '-' || digits[pos] == '+') negative = digits[pos++] == '-';
    int base = 10;
    if (digits.size() - pos > 1 && digits[pos] == '0') {
        const char marker = digits[pos + 1];
        if (marker == 'x')
            base = 16, pos += 2;
        else if (marker == 'b')
            base = 2, pos += 2;
        else if (marker == 'o')
            base = 8, pos += 2;
        else
            base = 8, pos += 1;
    }
    std::uint64_t magnitude = 0;
    const auto* first = digits.data() + pos;
    const auto* last = digits.data() + digits.size();
    if (first == last) return std::nullopt;
    auto [end, ec] = std::from_chars(first, last, magnitude, base);
    if (ec != std::errc() || end != last) return std::nullopt;
    if (!negative) {
        if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return json(static_cast<std::int64_t>(magnitude));
        return json(magnitude);
    }
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1)
        return json(static_cast<std::int64_t>(0 - magnitude));
    return std::nullopt;
}

std::optional<json> float_value(const std::string& text) {
    if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf")
        return json(std::numeric_limits<double>::infinity());
    if (text == "-.inf" || text == "-.Inf" || text == "-.INF") return json(-std::numeric_limits<double>::infinity());
    if (text == ".nan" || text == ".NaN" || text == ".NAN") return json(std::nan(""));
    if (!has_float_syntax(text)) return std::nullopt;
    std::string digits;
    for (char c : text)
        if (c != '_') digits.push_back(c);
    try {
        return json(std::stod(digits));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// resolve_plain_scalar(text).is_string(), without building the value: asked of every string
// the validator checks and the serializer writes. No null or boolean word is longer than five
// characters, and every number starts with a digit, a sign or a dot.
bool resolves_to_string(const std::string& text) {
    const char first = text.empty() ? '\0' : text.front();
    const bool may_be_number = (first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.';
    if (text.size() > 5 && !may_be_number) return true;
    return resolve_plain_scalar(text).is_string();
}

struct Converter {
    const SourcePosition& where;
    std::vector<Diagnostic>& problems;
    std::size_t nodes = 0;
    bool exhausted = false;

    json convert(const YamlNode& node, const std::string& path) {
        if (++nodes > max_nodes_per_document) {
            if (!exhausted)
                problems.push_back(
                    {position_of(node, where), path, "the document expands to more than 1,000,000 nodes (aliases?)"});
            exhausted = true;
            return nullptr;
        }
        switch (node.kind) {
            case YamlNode::Kind::null: return nullptr;
            case YamlNode::Kind::scalar: return scalar_value(node);
            case YamlNode::Kind::sequence: {
                json out = json::array();
                std::size_t index = 0;
                for (const auto* item : node.items)
                    out.push_back(convert(*item, path + "[" + std::to_string(index++) + "]"));
                return out;
            }
            case YamlNode::Kind::mapping: return mapping(node, path);
        }
        return nullptr;
    }

    json mapping(const YamlNode& node, const std::string& path) {
        json out = json::object();
        for (const auto& [key_node, value_node] : node.entries) {
            if (!key_node->is_scalar()) {
                problems.push_back({position_of(*key_node, where), path, "mapping keys must be strings"});
                continue;
            }
            const auto& key = key_node->text;
            const auto child_path = path.empty() ? key : path + "." + key;
            if (out.contains(key)) {
                problems.push_back({position_of(*key_node, where), child_path, "duplicate field \"" + key + "\""});
                continue;
            }
            json value = convert(*value_node, child_path);
            if (value.is_null()) continue;  // pruned, as the API server does
            out[key] = std::move(value);
        }
        return out;
    }
};

bool plain_safe(const std::string& s) {
    if (s.empty() || s.size() > 1024) return false;
    if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
    const unsigned char first = static_cast<unsigned char>(s.front());
    if (!(std::isalnum(first) || first == '/' || first == '_' || first == '.')) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (std::isalnum(c)) continue;
        switch (c) {
            case ' ':
                if (i + 1 < s.size() && s[i + 1] == '#') return false;
                continue;
            case ':':
                if (i + 1 < s.size() && s[i + 1] == ' ') return false;
                continue;
            case '_':
            case '.':
            case '/':
            case '-':
            case '+':
            case '=':
            case '@':
            case '~':
            case '(':
            case ')':
            case '$':
            case '^':
            case ',':
            case '*': continue;
            default: return false;
        }
    }
    return resolves_to_string(s);
}

void append_quoted(std::string& out, const std::string& s) {
    // JSON string escaping is valid YAML double-quoted style; escape_unsafe_characters adds
    // what YAML needs beyond it.
    out += escape_unsafe_characters(json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void append_scalar(std::string& out, const json& value) {
    if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        if (plain_safe(s))
            out += s;
        else
            append_quoted(out, s);
    } else if (value.is_number_float()) {
        const double d = value.get<double>();
        if (std::isnan(d))
            out += ".nan";
        else if (std::isinf(d))
            out += d > 0 ? ".inf" : "-.inf";
        else
            out += value.dump();
    } else {
        out += value.dump();
    }
}

void append_key(std::string& out, const std::string& key) {
    if (plain_safe(key))
        out += key;
    else
        append_quoted(out, key);
    out += ':';
}

bool is_empty_container(const json& v) {
    return (v.is_object() || v.is_array()) && v.empty();
}

void emit_node(std::string& out, const json& value, int indent);

void emit_mapping(std::string& out, const json& value, int indent, bool first_inline) {
    bool first = true;
    for (const auto& [key, child] : value.items()) {
        if (!(first && first_inline)) out.append(static_cast<std::size_t>(indent), ' ');
        first = false;
        append_key(out, key);
        if (child.is_object() && !child.empty()) {
            out += '\n';
            emit_mapping(out, child, indent + 2, false);
        } else if (child.is_array() && !child.empty()) {
            out += '\n';
            emit_node(out, child, indent + 2);
        } else {
            out += ' ';
            if (is_empty_container(child))
                out += child.is_object() ? "{}" : "[]";
            else
                append_scalar(out, child);
            out += '\n';
        }
    }
}

void emit_node(std::string& out, const json& value, int indent) {
    if (value.is_object() && !value.empty()) {
        emit_mapping(out, value, indent, false);
    } else if (value.is_array() && !value.empty()) {
        for (const auto& item : value) {
            out.append(static_cast<std::size_t>(indent), ' ');
            out += "- ";
            if (item.is_object() && !item.empty()) {
                emit_mapping(out, item, indent + 2, true);
            } else if (item.is_array() && !item.empty()) {
                out += '\n';
                emit_node(out, item, indent + 2);
            } else {
                if (is_empty_container(item))
                    out += item.is_object() ? "{}" : "[]";
                else
                    append_scalar(out, item);
                out += '\n';
            }
        }
    } else {
        if (is_empty_container(value))
            out += value.is_object() ? "{}" : "[]";
        else
            append_scalar(out, value);
        out += '\n';
    }
}

}  // namespace

std::string escape_unsafe_characters(std::string text) {
    std::string out;
    std::size_t copied = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + length > text.size()) break;  // not UTF-8: left as it is
        std::uint32_t code = c;
        if (length == 2) code = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
        if (length == 3)
            code = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
                   (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        // DEL and the C1 controls are not printable for YAML readers; NEL, LS and PS are line
        // breaks that a quoted scalar folds; U+FEFF is a byte order mark to them.
        const bool unsafe = code == 0x7F || (code >= 0x80 && code <= 0x9F) || code == 0x2028 || code == 0x2029 ||
                            code == 0xFEFF || code == 0xFFFE || code == 0xFFFF;
        if (unsafe) {
            if (out.empty()) out.reserve(text.size() + 16);
            out.append(text, copied, i - copied);
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(code));
            out += escape;
            copied = i + length;
        }
        i += length;
    }
    if (copied == 0) return text;
    out.append(text, copied, std::string::npos);
    return out;
}

SourcePosition position_of(const YamlNode& node, const SourcePosition& document) {
    SourcePosition out = document;
    if (node.line > 0) {
        out.line = node.line;
        out.column = node.column;
    }
    return out;
}

json resolve_plain_scalar(const std::string& text) {
    if (is_null_word(text)) return nullptr;
    if (auto b = bool_word(text)) return *b;
    const char first = text.front();
    if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.') {
        if (auto i = integer_value(text)) return *i;
        if (auto f = float_value(text)) return *f;
    }
    return text;
}

json scalar_value(const YamlNode& node) {
    if (node.is_null()) return nullptr;
    return node.resolvable ? resolve_plain_scalar(node.text) : json(node.text);
}

bool scalar_is_string(const YamlNode& node) {
    return !node.resolvable || resolves_to_string(node.text);  // quoted, !!str and local tags are strings
}

json yaml_to_json(const YamlNode& node, const SourcePosition& where, std::vector<Diagnostic>& problems) {
    Converter converter{where, problems};
    return converter.convert(node, "");
}

std::string emit_yaml(const json& value) {
    std::string out;
    out.reserve(512);
    emit_node(out, value, 0);
    return out;
}

}  // namespace karmor::policy
