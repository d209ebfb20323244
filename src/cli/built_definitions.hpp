// What karmor's command tree prints when a command only prints it, taken at build time so that
// those commands define no command's flags at start-up (docs/benchmarks.md, Start-up): the
// completion scripts and every command's --help. karmor_cli_generator
// (src/cli/cli_generator.cpp) writes it from the same definitions, every command defined.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace karmor::cli {

// What `karmor COMMAND --help` prints.
struct CommandHelp {
    std::string_view command;  // the words after `karmor`: "oci follow", "oci cp"; "" for karmor itself
    std::string_view text;
};

struct BuiltDefinitions {
    std::string_view bash_completion;
    std::string_view zsh_completion;
    std::string_view fish_completion;
    std::span<const CommandHelp> help;  // every command and every alias

    // The script of `karmor completion SHELL`; SHELL is one of bash, zsh and fish.
    constexpr std::string_view completion(std::string_view shell) const {
        return shell == "bash" ? bash_completion : shell == "zsh" ? zsh_completion : fish_completion;
    }
    // What karmor prints for `argv` when the command line is `completion SHELL` or
    // `COMMAND... --help` (or -h) word for word; nothing for any other command line.
    std::optional<std::string_view> output_for(int argc, char** argv) const;
};

// Defined by the generated source the karmor executable is linked with.
const BuiltDefinitions& built_definitions();

}  // namespace karmor::cli
