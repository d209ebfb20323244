// The command-line layer: flags in, library calls, text and exit codes out. Everything the
// user sees is written here and nowhere in the library.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "karmor/layout.hpp"
#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "signing/keys.hpp"

namespace karmor::cli {

// Documented in README.md ("Exit codes").
enum ExitCode : int {
    exit_ok = 0,
    exit_internal = 1,
    exit_usage = 2,
    exit_validation = 3,
    exit_not_found = 4,
    exit_auth = 5,
    exit_registry = 6,
    exit_io = 7,
    exit_verification = 8,   // signature verification failed (SPEC §9)
    exit_refused = 9,        // the KubeArmor daemon refused a policy (SPEC §12)
    exit_hook_failed = 10,   // follow --once: the --exec command failed after the switch
    exit_interrupted = 130,  // 128 + SIGINT, as shells report it
};

struct Streams {
    std::ostream& out;
    std::ostream& err;
    std::istream& in;
    // The stream is a terminal that understands "erase line" (push and pull show progress on
    // `err`; not when they write policies to `out` and it is the terminal too).
    bool err_is_terminal = false;
    bool out_is_terminal = false;
    // --output json: report_error also writes the error as one JSON document on `out`.
    bool errors_as_json = false;
    // -q: no warnings on `err` (warn() drops them); results and errors still go out.
    bool quiet = false;
    // "Warning: TEXT" on err, unless -q.
    void warn(const std::string& text);
};

// SPEC §15: the node's mirror configuration, for the commands that read from a registry.
struct MirrorFlags {
    bool no_mirrors = false;
    std::string hosts_dir;

    void add_to(CLI::App& command);
    // Sets options.mirrors: on unless --no-mirrors, and its lines go to err.
    void apply(Streams& io, RemoteOptions& options) const;
};

// The flags every command that talks to a registry shares (SPEC §2 "Remote options").
struct RemoteFlags {
    bool plain_http = false;
    bool insecure = false;
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string registry_config;  // --registry-config: a Docker config.json
    std::string username;
    bool password_stdin = false;
    bool verbose = false;
    std::string timeout;       // --timeout DURATION: 30s, 2m, 500ms
    std::string command_line;  // "karmor oci pull", for hints (set by add_to)
    // Registered by the commands that read (mirrors.add_to); the others still honour the
    // configuration's `blocked`.
    MirrorFlags mirrors;

    // `with_credentials` false: the command reads credentials itself (login).
    void add_to(CLI::App& command, bool with_credentials = true);
    // TLS, tracing and credentials for `registry`: -u with --password-stdin (read here),
    // else what the Docker config holds (SPEC §7).
    Result<RemoteOptions> resolve(Streams& io, const std::string& registry) const;
    // Everything but the credentials.
    Result<RemoteOptions> resolve_connection(Streams& io) const;
};

// How a command takes its reference, for the hints of parse_target.
struct TargetSyntax {
    std::string layout_flag = "--oci-layout";  // the flag that makes REF a layout (copy: --to-oci-layout)
    bool creates_layout = false;               // a destination: the layout need not exist yet
    std::string files_hint;                    // what to say when REF is a local file
};

// The reference a command works on: REF as the first argument or -i/--image REF (the seed's
// flag), and --oci-layout. `oci://REF` and `docker://REF` are REF; a URL, one of skopeo's other
// transports, or a reference without a registry that is (or looks like) a local path is refused
// with what to do, before anything goes to Docker Hub.
struct TargetFlags {
    std::string positional;
    std::string image;
    bool oci_layout = false;

    // `with_layout` false: the command takes no --oci-layout (follow).
    void add_to(CLI::App& command, const std::string& description, bool with_layout = true);
    std::string text() const;  // the reference as given
    Result<void> resolve(Reference& reference, std::optional<LayoutReference>& layout) const;
    // A registry operation on REF failed and REF also names a local directory (or means Docker
    // Hub without saying so): the hint says --oci-layout.
    void explain(Error& error) const;
};

// -i REF: a registry reference, or with --oci-layout a layout directory DIR[:TAG|@DIGEST].
// Sets exactly one of `reference` and `layout`.
Result<void> parse_target(const std::string& text, bool oci_layout, Reference& reference,
                          std::optional<LayoutReference>& layout, const TargetSyntax& syntax = {});
void explain_target(const std::string& text, bool oci_layout, Error& error, const TargetSyntax& syntax = {});

// What the build took from the command tree (cli/built_definitions.hpp).
struct BuiltDefinitions;

// A command registers its flags and returns the action to run once parsing succeeded.
using Action = std::function<int(Streams&)>;

void add_push_command(CLI::App& oci, Action& action);
void add_pull_command(CLI::App& oci, Action& action);
void add_follow_command(CLI::App& oci, Action& action);
void add_apply_command(CLI::App& oci, Action& action);
void add_inspect_command(CLI::App& oci, Action& action);
void add_sign_command(CLI::App& oci, Action& action);
void add_verify_command(CLI::App& oci, Action& action);
void add_version_command(CLI::App& app, Action& action);
// `built`: print the scripts generated at build time; null: generate them from `app`.
void add_completion_command(CLI::App& app, Action& action, const BuiltDefinitions* built);
// The bash, zsh or fish completion script for every command and flag of `app`.
std::string completion_script(const CLI::App& app, const std::string& shell);
void add_login_command(CLI::App& oci, Action& action);
void add_logout_command(CLI::App& oci, Action& action);
void add_key_command(CLI::App& oci, Action& action);

// Standard input is the process's terminal (prompts may be shown and answered).
bool input_is_terminal(const Streams& io);
// Shows `prompt` on err and reads one line from the terminal with echo off; end of input is an
// error, never an empty password.
Result<std::string> read_hidden_line(Streams& io, const std::string& prompt);
// The password of a private key (SPEC §9): KARMOR_PASSWORD, else COSIGN_PASSWORD, else a no-echo
// prompt on the terminal (twice when `confirm`); never from argv. `key_name` names the key in
// the prompt and in errors. `io` must outlive the source.
signing::PasswordSource key_password_source(Streams& io, const std::string& key_name);
// SPEC §11: moving artifacts between places.
void add_tags_command(CLI::App& oci, Action& action);
void add_resolve_command(CLI::App& oci, Action& action);
void add_tag_command(CLI::App& oci, Action& action);
void add_copy_command(CLI::App& oci, Action& action);
void add_save_command(CLI::App& oci, Action& action);
void add_load_command(CLI::App& oci, Action& action);
void add_diff_command(CLI::App& oci, Action& action);

// Every path flag checks its value with this (issue 22): an empty path is a usage error, never
// the current directory. existing_file() also wants the file to exist.
CLI::Validator non_empty_path();
CLI::Validator existing_file();
// A value that ends up in JSON (annotations, identities, user names) must be UTF-8 text.
Result<void> require_utf8(const std::string& value, const std::string& flag);
// "1 policy", "2 policies": `plural` defaults to `singular` + "s".
std::string counted(std::size_t count, const std::string& singular, const std::string& plural = {});

// Prints the error (message, details, hint) to err and returns its exit code.
int report_error(const Error& error, Streams& io);
int exit_code_for(ErrorKind kind);

// The first unknown command or flag in `args` (argv without the program): what it is, and
// "did you mean …" when a known one is close. Both empty when every word is known.
struct UnknownWord {
    std::string message;
    std::string hint;
};
UnknownWord find_unknown_word(const CLI::App& app, const std::vector<std::string>& args);
// --output json is among `args`: errors are reported as JSON too, even those of parsing.
bool wants_json_output(const std::vector<std::string>& args);
// The usage error for a command line that CLI11 refused. It never repeats a word that no flag
// took (it may be a password typed where it does not belong), says that -p/--password is not
// taken, and its hints name the command (`karmor oci push --help`).
Error usage_error_for(const CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& error);
// {"error": {message, hint, kind, exitCode, details, problems: [{file, line, column, field, message}]}}
void print_error_json(const Error& error, int exit_code, std::ostream& out);

// Set by SIGINT/SIGTERM once run() installed its handlers; operations stop at a safe point.
const std::atomic<bool>& interruption_flag();
// Readable once a stop was asked for (poll it to sleep until then); -1 before run().
int interruption_fd();

// The command tree for a command line: with `built` (the karmor executable), only the commands
// it reaches; without (karmor_cli_generator), every command, the completion generated from it.
// run() with `built` prints what it holds for the command lines it has an answer for.
std::unique_ptr<CLI::App> make_app(Action& action, int argc, char** argv, const BuiltDefinitions* built);
int run(int argc, char** argv, Streams io, const BuiltDefinitions* built);

}  // namespace karmor::cli
