// JSON string literals written straight into text, as nlohmann::json dumps them: the pull state
// and the config index are written as text rather than built as JSON trees (issue 18), and
// quoting each string through a JSON value was a tenth of writing them (issue 26).
#pragma once

#include <string>
#include <string_view>

namespace karmor::util {

// Appends `text` as a JSON string, byte for byte what nlohmann::json(text).dump() gives: '"',
// '\\' and the control characters escaped (\n, \u001f, ...), everything else as it is. Text that
// is not ASCII is handed to nlohmann itself, which also refuses what is not UTF-8.
void append_json_string(std::string& out, std::string_view text);

}  // namespace karmor::util
