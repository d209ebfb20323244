// What went wrong on the command line, said the way oras and kubectl say it: the closest
// command or flag for a typo, `karmor oci push` for `karmor push`, and the error as JSON when
// the user asked for JSON.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "cli/cli.hpp"
#include "util/json_text.hpp"
#include "policy/field_suggestion.hpp"

namespace karmor::cli {
namespace {

const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::usage: return "usage";
        case ErrorKind::validation: return "validation";
        case ErrorKind::not_found: return "not-found";
        case ErrorKind::auth: return "auth";
        case ErrorKind::registry: return "registry";
        case ErrorKind::io: return "io";
        case ErrorKind::cancelled: return "cancelled";
        case ErrorKind::verification: return "verification";
        case ErrorKind::hook: return "hook";
    }
    return "internal";
}

std::string command_path(const CLI::App& command) {
    std::string path;
    for (const auto* app = &command; app; app = app->get_parent()) {
        if (app->get_name().empty()) continue;
        path = path.empty() ? app->get_name() : app->get_name() + " " + path;
    }
    return path;
}

// CLI11 2.1's get_subcommand throws for an unknown name. Aliases count (`karmor oci cp`).
const CLI::App* find_subcommand(const CLI::App& command, const std::string& name) {
    for (const auto* sub : command.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->check_name(name)) return sub;
    return nullptr;
}

// The command the words lead to: `karmor oci push` for `oci push -p x …`.
const CLI::App& command_of(const CLI::App& app, const std::vector<std::string>& args) {
    const CLI::App* command = &app;
    for (const auto& arg : args) {
        if (arg == "--") break;
        if (arg.empty() || arg.front() == '-') continue;
        if (const auto* sub = find_subcommand(*command, arg)) command = sub;
    }
    return *command;
}

// Flags of other tools that mean something else here, or nothing: kubectl's and oras's -o
// for the format is --output here.
std::string flag_from_elsewhere(const CLI::App& command, const std::string& flag) {
    if ((flag == "-o" || flag == "--format") && command.get_option_no_throw("--output"))
        return "`" + command_path(command) + "` writes its format with --output (e.g. --output json), not " + flag;
    return {};
}

bool takes_option(const CLI::App& command, const std::string& name) {
    return command.get_option_no_throw(name) != nullptr;
}

// The positional arguments the command takes, for "it takes REF".
std::string positional_names(const CLI::App& command) {
    std::string names;
    for (const auto* option : command.get_options()) {
        if (!option->get_positional()) continue;
        std::string name = option->get_name();
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        names += (names.empty() ? "" : " ") + name + (option->get_expected_max() > 1 ? " …" : "");
    }
    return names;
}

std::vector<std::string> subcommand_names(const CLI::App& command) {
    std::vector<std::string> names;
    for (const auto* sub : command.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
    return names;
}

// docker login's and oras's spellings of a password in argv: -p PASSWORD, -pPASSWORD and the
// long forms password and pass (with a value after = or as the next word), on a leaf command whose
// -p, if any, is something else. (The long names are built, not written out: no such flag
// exists, and tests check that every flag a message names does.)
bool asks_for_password_flag(const CLI::App& command, const std::vector<std::string>& args) {
    if (!subcommand_names(command).empty()) return false;  // `karmor push -p …`: a misplaced command
    for (const auto& arg : args) {
        if (arg == "--") break;
        if (arg.rfind("--", 0) == 0) {
            const auto name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
            if ((name == "password" || name == "pass") && !takes_option(command, "--" + name)) return true;
            continue;
        }
        if (arg.size() >= 2 && arg[0] == '-' && arg[1] == 'p' && !takes_option(command, "-p")) return true;
    }
    return false;
}

std::string closest(std::string_view unknown, const std::vector<std::string>& names) {
    std::vector<std::string_view> views(names.begin(), names.end());
    return policy::closest_name(unknown, views);
}

// An unknown word where a command was expected.
std::string command_hint(const CLI::App& command, const std::string& word) {
    // `karmor push` from someone who knows oras: the commands live under `karmor oci`.
    if (const auto* oci = command.get_parent() == nullptr ? find_subcommand(command, "oci") : nullptr) {
        if (find_subcommand(*oci, word)) return "did you mean `karmor oci " + word + "`?";
        if (const auto near = closest(word, subcommand_names(*oci)); !near.empty())
            return "did you mean `karmor oci " + near + "`?";
    }
    if (const auto near = closest(word, subcommand_names(command)); !near.empty())
        return "did you mean `" + command_path(command) + " " + near + "`?";
    return {};
}

// An unknown --flag of `command`.
std::string flag_hint(const CLI::App& command, const std::string& flag) {
    std::vector<std::string> names;
    for (const auto* option : command.get_options())
        for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    if (const auto near = closest(flag, names); !near.empty()) return "did you mean " + near + "?";
    return {};
}

}  // namespace

UnknownWord find_unknown_word(const CLI::App& app, const std::vector<std::string>& args) {
    const CLI::App* command = &app;
    for (const auto& arg : args) {
        if (arg == "--") break;
        if (arg.size() > 2 && arg.substr(0, 2) == "--") {
            const auto flag = arg.substr(0, arg.find('='));
            if (!command->get_option_no_throw(flag)) {
                auto hint = flag_from_elsewhere(*command, flag);
                return {"unknown flag " + flag + " for `" + command_path(*command) + "`",
                        hint.empty() ? flag_hint(*command, flag) : hint};
            }
            continue;
        }
        // -x, or -xVALUE: only the two characters of the flag are repeated, never a value.
        if (arg.size() >= 2 && arg[0] == '-' && std::isalpha(static_cast<unsigned char>(arg[1]))) {
            const auto flag = arg.substr(0, 2);
            if (!command->get_option_no_throw(flag))
                return {"unknown flag " + flag + " for `" + command_path(*command) + "`",
                        flag_from_elsewhere(*command, flag)};
            continue;
        }
        if (arg.empty() || arg.front() == '-') continue;
        if (const auto* sub = find_subcommand(*command, arg)) {
            command = sub;
            continue;
        }
        // A word where only commands may stand (the command has subcommands and no arguments).
        if (!subcommand_names(*command).empty())
            return {"unknown command \"" + arg + "\" for `" + command_path(*command) + "`",
                    command_hint(*command, arg)};
    }
    return {};
}

Error usage_error_for(const CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& error) {
    const auto& command = command_of(app, args);
    const auto path = command_path(command);
    const std::string help = "`" + path + " --help` lists the flags";
    // Before anything else, and without repeating a word of it: the value may be the password.
    if (asks_for_password_flag(command, args)) {
        const bool login = command.get_name() == "login";
        return Error(ErrorKind::usage,
                     "`" + path +
                         "` takes no password on the command line (docker's and oras's -p): it would stay in the "
                         "shell history and be visible in `ps`",
                     login ? "pipe it in: echo \"$PASSWORD\" | " + path + " REGISTRY -u USER --password-stdin"
                           : "log in once with `karmor oci login REGISTRY`, or pipe the password in: echo "
                             "\"$PASSWORD\" | " +
                                 path + " … -u USER --password-stdin");
    }
    const auto unknown = find_unknown_word(app, args);
    if (!unknown.message.empty())
        return Error(ErrorKind::usage, unknown.message, unknown.hint.empty() ? help : unknown.hint + " (" + help + ")");
    // CLI11 lists the words no flag took; one of them may be a secret typed in the wrong place.
    if (dynamic_cast<const CLI::ExtrasError*>(&error)) {
        const auto takes = positional_names(command);
        return Error(ErrorKind::usage,
                     "too many arguments for `" + path + "`" +
                         (takes.empty() ? ", which takes none" : ", which takes " + takes) +
                         " (the extra words are not repeated here, in case one of them is a secret)",
                     "quote a value that holds spaces; " + help);
    }
    // The rest (a missing or malformed value of a flag, a required flag missing) quote only
    // values of karmor's own flags, none of which is a secret.
    return Error(ErrorKind::usage, error.what(), "run `" + path + " --help` for the flags");
}

bool wants_json_output(const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--output=json") return true;
        if (args[i] == "--output" && i + 1 < args.size() && args[i + 1] == "json") return true;
    }
    return false;
}

CLI::Validator non_empty_path() {
    return CLI::Validator(
        [](std::string& value) {
            return value.empty() ? std::string("an empty path: name a file or directory (. is the current one)")
                                 : std::string();
        },
        "");
}

CLI::Validator existing_file() {
    return CLI::Validator(
        [](std::string& value) {
            if (value.empty()) return std::string("an empty path: name a file");
            std::string checked = value;
            return CLI::ExistingFile(checked);
        },
        "");
}

Result<void> require_utf8(const std::string& value, const std::string& flag) {
    if (util::is_valid_utf8(value)) return {};
    return unexpected(Error(ErrorKind::usage, flag + ": the value is not UTF-8 text",
                            "registries and signatures store it as JSON text: write it in UTF-8"));
}

void print_error_json(const Error& error, int exit_code, std::ostream& out) {
    nlohmann::ordered_json body = {{"message", error.message}};
    if (!error.hint.empty()) body["hint"] = error.hint;
    body["kind"] = exit_code == exit_internal ? "internal" : kind_name(error.kind);
    body["exitCode"] = exit_code;
    if (!error.details.empty()) body["details"] = error.details;
    if (!error.problems.empty()) {
        auto problems = nlohmann::ordered_json::array();
        for (const auto& p : error.problems) {
            nlohmann::ordered_json entry = {{"file", p.file}};
            if (p.line > 0) entry["line"] = p.line;
            if (p.column > 0) entry["column"] = p.column;
            if (!p.field.empty()) entry["field"] = p.field;
            entry["message"] = p.message;
            problems.push_back(std::move(entry));
        }
        body["problems"] = std::move(problems);
    }
    out << util::dump_json(nlohmann::ordered_json{{"error", std::move(body)}}, 2) << "\n";
}

}  // namespace karmor::cli
