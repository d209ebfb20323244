// toml++ (Debian's libtomlplusplus-dev 3.3), configured once for karmor: errors as values
// (parse_result, no exceptions), no formatters, and its implementation compiled into one
// translation unit of ours (src/mirrors/toml.cpp), so that only the code that reads the mirror
// configuration carries the parser and no shared library is loaded at start-up.
#pragma once

#ifndef TOML_EXCEPTIONS
#define TOML_EXCEPTIONS 0
#endif
#define TOML_HEADER_ONLY 0
#define TOML_ENABLE_FORMATTERS 0
#define TOML_ENABLE_WINDOWS_COMPAT 0

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "karmor/result.hpp"

namespace karmor::mirrors {

// "FILE:LINE" of a node, for messages.
inline std::string place_of(const toml::node& node, const std::string& file) {
    return file + ":" + std::to_string(node.source().begin.line);
}

// The document, or the configuration's error naming FILE:LINE:COLUMN and what is wrong there.
Result<toml::table> parse_toml(std::string_view text, const std::string& file);

}  // namespace karmor::mirrors
