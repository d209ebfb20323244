#include "policy/value_writers.hpp"

#include <cmath>

#include "policy/scalars.hpp"

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;

// Whether `s` can be written without quotes and read back as the same string by any YAML 1.1
// or 1.2 reader: a conservative character set, nothing that starts an indicator or a comment,
// and nothing that resolves to another type.
bool is_ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool plain_safe(std::string_view s) {
    if (s.empty() || s.size() > 1024) return false;
    if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
    const unsigned char first = static_cast<unsigned char>(s.front());
    if (!(is_ascii_alnum(first) || first == '/' || first == '_' || first == '.')) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (is_ascii_alnum(c)) continue;
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

// JSON string escaping is valid YAML double-quoted style; escape_unsafe_characters adds what
// YAML needs beyond it.
void append_quoted(std::string& out, std::string_view s) {
    out += escape_unsafe_characters(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
}

void append_yaml_string(std::string& out, std::string_view s) {
    if (plain_safe(s))
        out += s;
    else
        append_quoted(out, s);
}

}  // namespace

YamlTextWriter::Place YamlTextWriter::next_value() {
    if (frames_.empty()) return Place::root;
    auto& top = frames_.back();
    if (top.object) return Place::value;  // key() wrote "key:"
    if (top.count == 0 && top.place != Place::root) out_ += '\n';
    out_.append(top.indent, ' ');
    out_ += "- ";
    ++top.count;
    return Place::item;
}

void YamlTextWriter::begin(bool object) {
    const auto place = next_value();
    const std::size_t indent = frames_.empty() ? 0 : frames_.back().indent + 2;
    frames_.push_back({object, place, indent, 0});
}

void YamlTextWriter::end() {
    const auto done = frames_.back();
    frames_.pop_back();
    if (done.count > 0) return;  // every key and item ended its own line
    if (done.place == Place::value) out_ += ' ';
    out_ += done.object ? "{}\n" : "[]\n";
}

void YamlTextWriter::key(std::string_view key) {
    auto& top = frames_.back();
    const bool first_inline = top.count == 0 && top.place == Place::item;  // "- key: ..."
    if (top.count == 0 && top.place == Place::value) out_ += '\n';
    if (!first_inline) out_.append(top.indent, ' ');
    append_yaml_string(out_, key);
    out_ += ':';
    ++top.count;
}

void YamlTextWriter::string(std::string_view value) {
    if (next_value() == Place::value) out_ += ' ';
    append_yaml_string(out_, value);
    out_ += '\n';
}

void YamlTextWriter::value(const json& value) {
    if (next_value() == Place::value) out_ += ' ';
    if (value.is_number_float()) {
        const double d = value.get<double>();
        if (std::isnan(d))
            out_ += ".nan";
        else if (std::isinf(d))
            out_ += d > 0 ? ".inf" : "-.inf";
        else
            out_ += value.dump();
    } else {
        out_ += value.dump();
    }
    out_ += '\n';
}

void JsonTextWriter::next_value() {
    if (frames_.empty()) return;
    auto& top = frames_.back();
    if (top.object) return;  // key() wrote "\"key\": "
    out_ += top.count == 0 ? "\n" : ",\n";
    out_.append(top.indent + 2, ' ');
    ++top.count;
}

void JsonTextWriter::begin(bool object) {
    next_value();
    const std::size_t indent = frames_.empty() ? 0 : frames_.back().indent + 2;
    out_ += object ? '{' : '[';
    frames_.push_back({object, indent, 0});
}

void JsonTextWriter::end() {
    const auto done = frames_.back();
    frames_.pop_back();
    if (done.count > 0) {
        out_ += '\n';
        out_.append(done.indent, ' ');
    }
    out_ += done.object ? '}' : ']';
}

void JsonTextWriter::key(std::string_view key) {
    auto& top = frames_.back();
    out_ += top.count == 0 ? "\n" : ",\n";
    out_.append(top.indent + 2, ' ');
    out_ += escape_unsafe_characters(json(std::string(key)).dump());
    out_ += ": ";
    ++top.count;
}

void JsonTextWriter::string(std::string_view value) {
    next_value();
    out_ += escape_unsafe_characters(json(std::string(value)).dump());
}

void JsonTextWriter::value(const json& value) {
    next_value();
    out_ += value.dump();
}

void JsonTreeBuilder::end() {
    auto done = std::move(open_.back().value);
    open_.pop_back();
    add(std::move(done));
}

void JsonTreeBuilder::add(json value) {
    if (open_.empty()) {
        root_ = std::move(value);
        return;
    }
    auto& top = open_.back();
    if (top.value.is_object())
        top.value[top.key] = std::move(value);
    else
        top.value.push_back(std::move(value));
}

void write_json(const json& value, ValueWriter& writer) {
    switch (value.type()) {
        case json::value_t::object:
            writer.begin_object();
            for (const auto& [key, child] : value.items()) {
                writer.key(key);
                write_json(child, writer);
            }
            writer.end();
            return;
        case json::value_t::array:
            writer.begin_array();
            for (const auto& child : value) write_json(child, writer);
            writer.end();
            return;
        case json::value_t::string: writer.string(value.get_ref<const std::string&>()); return;
        default: writer.value(value); return;
    }
}

}  // namespace karmor::policy
