#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>

#include "cli/built_definitions.hpp"
#include "cli/cli.hpp"
#include "oci/redact.hpp"

namespace karmor::cli {

namespace {

// The one piece of global state: what a signal handler may touch.
std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// Written to by the handler, so that a thread waiting in poll() wakes up whichever thread the
// kernel chose to run the handler on (libcurl's resolver threads can take it, too).
int interrupt_pipe[2] = {-1, -1};

extern "C" void on_interrupt(int) {
    interrupted.store(true);
    const int saved_errno = errno;
    if (interrupt_pipe[1] >= 0) {
        const char byte = 1;
        [[maybe_unused]] const auto ignored = ::write(interrupt_pipe[1], &byte, 1);  // full pipe: already awake
    }
    errno = saved_errno;
}

// The first SIGINT/SIGTERM asks for a clean stop (temporary files removed, the output
// directory unchanged); SA_RESETHAND makes a second one end the process at once.
void install_interrupt_handlers() {
    if (interrupt_pipe[0] < 0 && ::pipe2(interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        interrupt_pipe[0] = interrupt_pipe[1] = -1;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

using CommandBuilder = void (*)(CLI::App&, Action&);
struct OciCommand {
    const char* name;  // as the builder names its subcommand
    CommandBuilder add;
};

// Every `karmor oci` command, in the order --help lists them. A new command is one row here.
constexpr OciCommand oci_commands[] = {
    {"push", add_push_command},     {"pull", add_pull_command},       {"follow", add_follow_command},
    {"apply", add_apply_command},   {"inspect", add_inspect_command}, {"sign", add_sign_command},
    {"verify", add_verify_command}, {"login", add_login_command},     {"logout", add_logout_command},
    {"key", add_key_command},       {"tags", add_tags_command},       {"resolve", add_resolve_command},
    {"tag", add_tag_command},       {"copy", add_copy_command},       {"save", add_save_command},
    {"load", add_load_command},     {"diff", add_diff_command},
};

// Defining a command's flags costs CLI11 about 0.3 ms each, half of `karmor version`'s start
// (docs/benchmarks.md, Start-up). So the karmor executable defines only what the command line can
// reach: `karmor version` and `karmor --help` need no oci command, `karmor oci push ...` only
// push. Anything else (a misspelt command, which gets a suggestion) defines them all, as does a
// command line the rule does not recognise, and karmor_cli_generator (`only_reached` false).
void add_oci_commands(CLI::App& oci, Action& action, int argc, char** argv, bool only_reached) {
    const std::string first = only_reached && argc > 1 ? argv[1] : "";
    if (only_reached && argc == 2 && (first == "--help" || first == "-h" || first == "--version")) return;
    if (only_reached && first == "version") return;
    if (only_reached && argc > 2 && first == "oci") {
        const std::string second = argv[2];
        for (const auto& command : oci_commands) {
            if (second != command.name) continue;
            command.add(oci, action);
            return;
        }
    }
    for (const auto& command : oci_commands) command.add(oci, action);
}

// --help-all: CLI11 expands one level of subcommands; every command's own help is printed
// instead, flags and examples included (issue 22).
void print_every_help(const CLI::App& command, const std::string& path, std::ostream& out) {
    for (const auto* sub : command.get_subcommands([](const CLI::App*) { return true; })) {
        out << "\n" << std::string(100, '-') << "\n" << sub->help(path) << std::flush;
        print_every_help(*sub, path + " " + sub->get_name(), out);
    }
}

}  // namespace

void Streams::warn(const std::string& text) {
    if (!quiet) err << "Warning: " << text << "\n";
}

const std::atomic<bool>& interruption_flag() {
    return interrupted;
}

int interruption_fd() {
    return interrupt_pipe[0];
}

int exit_code_for(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::usage: return exit_usage;
        case ErrorKind::validation: return exit_validation;
        case ErrorKind::not_found: return exit_not_found;
        case ErrorKind::auth: return exit_auth;
        case ErrorKind::registry: return exit_registry;
        case ErrorKind::io: return exit_io;
        case ErrorKind::cancelled: return exit_interrupted;
        case ErrorKind::verification: return exit_verification;
        case ErrorKind::hook: return exit_hook_failed;
    }
    return exit_internal;
}

// Through redact_text: an error may quote a URL with a pre-signed query or a reference with a
// password in it (SPEC §7: never print a secret).
int report_error(const Error& error, Streams& io) {
    Error shown = error;
    shown.message = oci::redact_text(error.message);
    shown.hint = oci::redact_text(error.hint);
    for (auto& line : shown.details) line = oci::redact_text(line);
    io.err << "Error: " << shown.message << "\n";
    for (const auto& line : shown.details) io.err << "  " << line << "\n";
    if (!shown.hint.empty()) io.err << "Hint: " << shown.hint << "\n";
    if (io.errors_as_json) print_error_json(shown, exit_code_for(error.kind), io.out);
    return exit_code_for(error.kind);
}

std::unique_ptr<CLI::App> make_app(Action& action, int argc, char** argv, const BuiltDefinitions* built) {
    auto root = std::make_unique<CLI::App>("karmor: ship KubeArmor security policies as OCI artifacts", "karmor");
    auto& app = *root;
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "show help for every command");
    app.set_version_flag("--version", std::string("karmor ") + KARMOR_VERSION + " (commit " + KARMOR_GIT_COMMIT + ")",
                         "print the version and exit");

    auto* oci = app.add_subcommand("oci", "push and pull KubeArmor policies to and from OCI registries");
    oci->require_subcommand(1);
    app.footer("\nExamples:\n"
               "  karmor oci push -i localhost:5000/myimage:latest -p mypolicy.yaml\n"
               "  karmor oci pull -i localhost:5000/myimage:latest -o mydir\n"
               "  karmor oci inspect -i localhost:5000/myimage:latest\n"
               "  karmor oci sign -i localhost:5000/myimage:latest --key cosign.key\n"
               "  karmor oci verify -i localhost:5000/myimage:latest --key cosign.pub\n\n"
               "Exit codes: 0 ok, 2 usage, 3 validation, 4 not found, 5 authentication, 6 network/registry,\n"
               "7 local I/O, 8 signature verification failed, 9 the KubeArmor daemon refused a policy,\n"
               "10 a `follow --once --exec` command failed, 130 interrupted. See `man karmor-oci`.\n");
    add_oci_commands(*oci, action, argc, argv, built != nullptr);
    add_version_command(app, action);
    add_completion_command(app, action, built);
    return root;
}

std::optional<std::string_view> BuiltDefinitions::output_for(int argc, char** argv) const {
    if (argc == 3 && std::string_view(argv[1]) == "completion") {
        const std::string_view shell = argv[2];
        if (shell == "bash" || shell == "zsh" || shell == "fish") return completion(shell);
    }
    if (argc < 2) return std::nullopt;
    if (const std::string_view last = argv[argc - 1]; last != "--help" && last != "-h") return std::nullopt;
    std::string command;
    for (int i = 1; i < argc - 1; ++i) {
        const std::string_view word = argv[i];
        if (word.empty() || word.find(' ') != std::string_view::npos) return std::nullopt;  // one word each
        command += (i > 1 ? " " : "") + std::string(word);
    }
    for (const auto& entry : help)
        if (entry.command == command) return entry.text;
    return std::nullopt;
}

int run(int argc, char** argv, Streams io, const BuiltDefinitions* built) {
    // `completion SHELL` and `COMMAND --help` print what the build took from the command tree,
    // without defining it (docs/benchmarks.md, Start-up).
    if (const auto text = built ? built->output_for(argc, argv) : std::nullopt) {
        io.out << *text << std::flush;
        return exit_ok;
    }
    Action action;
    const auto root = make_app(action, argc, argv, built);
    auto& app = *root;

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e, io.out, io.err);
    } catch (const CLI::CallForAllHelp&) {
        io.out << app.help();
        print_every_help(app, "karmor", io.out);
        return exit_ok;
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e, io.out, io.err);
    } catch (const CLI::ParseError& e) {
        const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
        io.errors_as_json = wants_json_output(args);
        return report_error(usage_error_for(app, args, e), io);
    }
    if (!action) return exit_usage;
    install_interrupt_handlers();
    // Commands set it from their --output flag too; this covers an error before they do.
    io.errors_as_json = wants_json_output(std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
    try {
        return action(io);
    } catch (const std::exception& e) {
        // A bug, never the user's input (issue 22): said as such, in JSON too when asked for.
        Error error(ErrorKind::usage, std::string("internal error (a bug in karmor): ") + e.what(),
                    "please report it with the command line that caused it");
        io.err << "Error: " << error.message << "\nHint: " << error.hint << "\n";
        if (io.errors_as_json) print_error_json(error, exit_internal, io.out);
        return exit_internal;
    }
}

}  // namespace karmor::cli
