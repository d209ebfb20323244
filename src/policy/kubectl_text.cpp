#include "policy/kubectl_text.hpp"

#include <cstdint>
#include <vector>

namespace karmor::policy {
namespace {

constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";
// kubectl looks this far into a stream to tell JSON from YAML (NewYAMLOrJSONDecoder(r, 4096)).
constexpr std::size_t json_sniff_bytes = 4096;

// The code point at text[i] and its length in bytes; an invalid sequence is one byte of
// U+FFFD, as Go decodes it.
std::pair<std::uint32_t, std::size_t> decode(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const auto c = byte(i);
    if (c < 0x80) return {c, 1};
    const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (length == 0 || i + length > text.size()) return {0xFFFD, 1};
    std::uint32_t code = c & (0xFFu >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return {0xFFFD, 1};
        code = (code << 6) | (byte(i + k) & 0x3Fu);
    }
    return {code, length};
}

// Go's unicode.IsSpace, which strings.TrimSpace and bytes.TrimLeftFunc use in the splitter.
bool is_go_space(std::uint32_t c) {
    switch (c) {
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case ' ':
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000: return true;
        default: return c >= 0x2000 && c <= 0x200A;
    }
}

bool looks_like_json(std::string_view text) {
    const auto window = text.substr(0, json_sniff_bytes);
    for (std::size_t i = 0; i < window.size();) {
        const auto [code, length] = decode(window, i);
        if (!is_go_space(code)) return code == '{';
        i += length;
    }
    return false;
}

// The text after `---` on a separator line, when kubectl refuses it: anything but white space
// that is not a comment. Its column (1-based, in characters) goes to `column`.
std::optional<std::string> refused_after_separator(std::string_view rest, int& column) {
    std::size_t i = 0;
    int characters = 3;  // "---"
    while (i < rest.size()) {
        const auto [code, length] = decode(rest, i);
        if (!is_go_space(code)) break;
        i += length;
        ++characters;
    }
    if (i == rest.size() || rest[i] == '#') return std::nullopt;
    std::size_t end = rest.size();
    while (end > i) {
        // Trailing white space is ASCII in practice ('\r' above all); anything else stays.
        const char last = rest[end - 1];
        if (last != ' ' && last != '\t' && last != '\r' && last != '\v' && last != '\f') break;
        --end;
    }
    column = characters + 1;
    return std::string(rest.substr(i, end - i));
}

}  // namespace

KubectlText::KubectlText(std::string_view file) : text_(file) {
    if (looks_like_json(file)) return;
    std::vector<std::size_t> marks;  // byte order marks that start a document
    bool buffer_empty = true;        // the splitter's buffer: nothing of the next document yet
    std::size_t end = file.size();
    int line_number = 0;
    for (std::size_t at = 0; at < file.size();) {
        ++line_number;
        const auto newline = file.find('\n', at);
        const auto line_end = newline == std::string_view::npos ? file.size() : newline;
        const auto next = newline == std::string_view::npos ? file.size() : newline + 1;
        const auto line = file.substr(at, line_end - at);
        if (line.substr(0, 3) == "---") {
            int column = 0;
            if (auto refused = refused_after_separator(line.substr(3), column)) {
                invalid_separator_ = YamlSyntaxError{"invalid document separator: \"" + *refused +
                                                         "\" after \"---\" (kubectl allows only spaces or a comment "
                                                         "there: move it to the next line)",
                                                     line_number, column};
                end = at;
                break;
            }
            if (!buffer_empty) {  // it ends a document; the next line starts one
                buffer_empty = true;
                at = next;
                continue;
            }
            // A separator before anything else is part of the document it starts.
        } else if (buffer_empty && line.substr(0, byte_order_mark.size()) == byte_order_mark) {
            marks.push_back(at);
        }
        buffer_empty = false;
        at = next;
    }
    text_ = file.substr(0, end);
    if (marks.empty()) return;
    if (marks.size() == 1 && marks.front() == 0) {
        text_.remove_prefix(byte_order_mark.size());
        return;
    }
    std::string copy;
    copy.reserve(text_.size());
    std::size_t copied = 0;
    for (const auto mark : marks) {
        copy.append(text_.substr(copied, mark - copied));
        copied = mark + byte_order_mark.size();
    }
    copy.append(text_.substr(copied));
    storage_ = std::move(copy);
}

}  // namespace karmor::policy
