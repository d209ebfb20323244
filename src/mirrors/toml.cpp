// The toml++ implementation, compiled here once (see toml.hpp).
#define TOML_IMPLEMENTATION
#include "mirrors/toml.hpp"

#include "mirrors/config_error.hpp"

namespace karmor::mirrors {

Result<toml::table> parse_toml(std::string_view text, const std::string& file) {
    auto parsed = toml::parse(text, std::string_view(file));
    if (!parsed) {
        const auto& error = parsed.error();
        return unexpected(config_error(file + ":" + std::to_string(error.source().begin.line) + ":" +
                                       std::to_string(error.source().begin.column) +
                                       ": not valid TOML: " + std::string(error.description())));
    }
    return std::move(parsed).table();
}

}  // namespace karmor::mirrors
