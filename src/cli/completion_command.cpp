// karmor completion SHELL: prints the script that `cmake --install` also installs, compiled in
// from completions/ so that the binary alone is enough.
#include "cli/cli.hpp"
#include "completion_scripts.hpp"

namespace karmor::cli {

void add_completion_command(CLI::App& app, Action& action) {
    auto shell = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("completion", "print the shell completion script for bash, zsh or fish");
    cmd->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
    cmd->footer("\nExamples:\n"
                "  source <(karmor completion bash)\n"
                "  karmor completion fish > ~/.config/fish/completions/karmor.fish\n");
    cmd->callback([shell, &action] {
        action = [shell](Streams& io) {
            io.out << (*shell == "bash"  ? completion_scripts::bash
                       : *shell == "zsh" ? completion_scripts::zsh
                                         : completion_scripts::fish);
            return exit_ok;
        };
    });
}

}  // namespace karmor::cli
