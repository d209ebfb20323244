// What went wrong on the command line, said the way oras and kubectl say it: the closest
// command or flag for a typo, `karmor oci push` for `karmor push`, and the error as JSON when
// the user asked for JSON.
#include <nlohmann/json.hpp>

#include <string_view>

#include "cli/cli.hpp"
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

// CLI11 2.1's get_subcommand throws for an unknown name.
const CLI::App* find_subcommand(const CLI::App& command, const std::string& name) {
    for (const auto* sub : command.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->get_name() == name) return sub;
    return nullptr;
}

std::vector<std::string> subcommand_names(const CLI::App& command) {
    std::vector<std::string> names;
    for (const auto* sub : command.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
    return names;
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
            if (!command->get_option_no_throw(flag))
                return {"unknown flag " + flag + " for `" + command_path(*command) + "`", flag_hint(*command, flag)};
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

bool wants_json_output(const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--output=json") return true;
        if (args[i] == "--output" && i + 1 < args.size() && args[i + 1] == "json") return true;
    }
    return false;
}

void print_error_json(const Error& error, int exit_code, std::ostream& out) {
    nlohmann::ordered_json body = {{"message", error.message}};
    if (!error.hint.empty()) body["hint"] = error.hint;
    body["kind"] = kind_name(error.kind);
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
    out << nlohmann::ordered_json{{"error", std::move(body)}}.dump(2) << "\n";
}

}  // namespace karmor::cli
