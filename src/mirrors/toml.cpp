// The toml++ implementation, compiled here once (see toml.hpp).
#define TOML_IMPLEMENTATION
#include "mirrors/toml.hpp"

#include <algorithm>

#include "mirrors/config_error.hpp"

namespace karmor::mirrors {
namespace {

// toml++ 3.3 reaches __builtin_unreachable (undefined behaviour) when it asks whether some
// non-ASCII characters are whitespace, which it does wherever it scans a token, in and out of
// strings (found by fuzz/mirror_config_fuzz.cpp: U+FEFD after a key, U+00E9 after a value). So it
// is never given one: each non-ASCII byte becomes a backtick, which TOML allows in comments and
// strings only, and a key or a string that holds one is refused after parsing. Non-ASCII text is
// read in comments, where people write it; hosts, repositories and capabilities are ASCII.
constexpr char stand_in = '`';

bool holds_stand_in(std::string_view text) {
    return text.find(stand_in) != std::string_view::npos;
}

Result<void> refuse_stand_ins(const toml::node& node, const std::string& file) {
    const auto refuse = [&](const toml::source_region& where) {
        return unexpected(config_error(file + ":" + std::to_string(where.begin.line) +
                                           ": a non-ASCII character (or a backtick) in a key or a string",
                                       "karmor reads non-ASCII text in comments only: hosts, repositories, paths and "
                                       "capabilities are ASCII"));
    };
    if (const auto* string = node.as_string())
        return holds_stand_in(string->get()) ? refuse(node.source()) : Result<void>();
    if (const auto* table = node.as_table()) {
        for (const auto& [key, value] : *table) {
            if (holds_stand_in(key.str())) return refuse(key.source());
            if (auto checked = refuse_stand_ins(value, file); !checked) return checked;
        }
    }
    if (const auto* array = node.as_array())
        for (const auto& element : *array)
            if (auto checked = refuse_stand_ins(element, file); !checked) return checked;
    return {};
}

}  // namespace

Result<toml::table> parse_toml(std::string_view text, const std::string& file) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a byte order mark
    const bool non_ascii =
        std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    std::string ascii;
    if (non_ascii) {
        ascii.assign(text);
        for (auto& c : ascii)
            if (static_cast<unsigned char>(c) >= 0x80) c = stand_in;
        text = ascii;
    }
    auto parsed = toml::parse(text, std::string_view(file));
    if (!parsed) {
        const auto& error = parsed.error();
        return unexpected(config_error(file + ":" + std::to_string(error.source().begin.line) + ":" +
                                       std::to_string(error.source().begin.column) +
                                       ": not valid TOML: " + std::string(error.description())));
    }
    if (non_ascii)
        if (auto checked = refuse_stand_ins(parsed.table(), file); !checked)
            return unexpected(std::move(checked).error());
    return std::move(parsed).table();
}

}  // namespace karmor::mirrors
