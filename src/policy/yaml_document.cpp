#include "policy/yaml_document.hpp"

#include <cmath>

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;

// Aliases let a small document expand exponentially ("billion laughs"); a policy has a few
// hundred nodes, so this bound is generous and still stops the attack early.
constexpr std::size_t max_nodes_per_document = 1'000'000;

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

SourcePosition position_of(const YamlNode& node, const SourcePosition& document) {
    SourcePosition out = document;
    if (node.line > 0) {
        out.line = node.line;
        out.column = node.column;
    }
    return out;
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
