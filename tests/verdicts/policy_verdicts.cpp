// The verdicts of the policy loader (SPEC §5) on real policies and on mutations of them, checked
// against the ones recorded in expected.tsv: the policies (identity, origin, action, severity,
// document, serialized bytes) and the problems (file, document, line, column, field path,
// message), in order, under five sets of load options. The recorded verdicts are those of the
// tree-building loader that the event-driven one replaced (issue 26): they were written while
// both paths ran side by side and agreed on every one of these inputs. Each input is also read
// as pull reads a layer (parse_policy_text_taking), which must give the same verdicts.
//
// Usage: karmor_policy_verdicts [--mutations N] (--expect FILE | --write FILE | --show NAME) ROOT...
// Each file under each ROOT is named ROOT's last component/its path below ROOT. A line of FILE
// per file: name, inputs read (the file and its mutations), policies, problems, and the SHA-256
// of every verdict in full. --show prints the verdicts of one file in full, to see what changed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/digest.hpp"
#include "karmor/policy.hpp"

namespace {

namespace fs = std::filesystem;
using karmor::Diagnostic;
using karmor::LoadOptions;
using karmor::Policy;
using karmor::PolicyFormat;
using json = nlohmann::ordered_json;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, end - start + 1));
        start = end + 1;
    }
    return lines;
}

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line;
    return out;
}

// The value part of "key: value" lines replaced by these: nulls, other types, collections,
// anchors and aliases, quoting, tags.
const char* const replacement_values[] = {"~",
                                          "null",
                                          "",
                                          "5",
                                          "5.0",
                                          "0x1F",
                                          "true",
                                          "yes",
                                          "'x'",
                                          "\"5\"",
                                          "[a, ~]",
                                          "{a: 1}",
                                          "{}",
                                          "[]",
                                          "&a x",
                                          "*a",
                                          "!!str 5",
                                          "!!null x",
                                          "Block",
                                          "audit",
                                          "/bin/sh",
                                          "/etc/",
                                          "11",
                                          "-1",
                                          "[{path: /bin/sh}]",
                                          "{matchLabels: {app: x}}",
                                          "\"a\\N b\"",
                                          "1e400",
                                          "\"\"",
                                          "|\n  text"};

// Deterministic variants of `text`: every line removed, repeated, indented more and less, its
// value replaced; lines swapped; truncations; byte flips. At most `limit` of them, spread
// over the file.
std::vector<std::string> mutations(const std::string& text, std::size_t limit, std::mt19937& random) {
    std::vector<std::string> out;
    if (limit == 0) return out;  // every variant is built before the choice: not for big files
    const auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto copy = lines;
        copy.erase(copy.begin() + static_cast<std::ptrdiff_t>(i));
        out.push_back(join(copy));
        copy = lines;
        copy.insert(copy.begin() + static_cast<std::ptrdiff_t>(i), lines[i]);
        out.push_back(join(copy));
        copy = lines;
        copy[i] = "  " + copy[i];
        out.push_back(join(copy));
        if (copy[i].rfind("    ", 0) == 0) {
            copy = lines;
            copy[i] = copy[i].substr(2);
            out.push_back(join(copy));
        }
        if (i + 1 < lines.size()) {
            copy = lines;
            std::swap(copy[i], copy[i + 1]);
            out.push_back(join(copy));
        }
        const auto colon = lines[i].find(": ");
        if (colon != std::string::npos) {
            for (const char* value : replacement_values) {
                copy = lines;
                copy[i] = lines[i].substr(0, colon + 2) + value + "\n";
                out.push_back(join(copy));
            }
            // The key alone, or another key.
            copy = lines;
            copy[i] = lines[i].substr(0, colon + 1) + "\n";
            out.push_back(join(copy));
            copy = lines;
            copy[i] = lines[i].substr(0, colon) + "x" + lines[i].substr(colon);
            out.push_back(join(copy));
        }
    }
    for (std::size_t cut = 1; cut < text.size(); cut += std::max<std::size_t>(1, text.size() / 16))
        out.push_back(text.substr(0, cut));
    out.push_back(text + "---\n" + text);
    out.push_back("---\n" + text + "\n...\n");
    for (int flips = 0; flips < 32 && !text.empty(); ++flips) {
        auto copy = text;
        const auto at = static_cast<std::size_t>(random() % copy.size());
        const char bytes[] = {'\n', ' ', ':', '-', '[', ']', '{', '}', ',', '#', '&', '*', '!', '\'', '"', '\t', '~'};
        copy[at] = bytes[random() % sizeof bytes];
        out.push_back(copy);
    }
    if (out.size() > limit) {
        // Keep an even spread: every k-th variant.
        std::vector<std::string> kept;
        const double step = static_cast<double>(out.size()) / static_cast<double>(limit);
        for (std::size_t i = 0; i < limit; ++i)
            kept.push_back(std::move(out[static_cast<std::size_t>(static_cast<double>(i) * step)]));
        out = std::move(kept);
    }
    return out;
}

struct Verdicts {
    std::size_t inputs = 0;
    std::size_t policies = 0;
    std::size_t problems = 0;
    std::size_t taking_differences = 0;  // parse_policy_text_taking against parse_policy_text
    std::string text;                    // every verdict in full

    std::string line(const std::string& name) const {
        return name + "\t" + std::to_string(inputs) + "\t" + std::to_string(policies) + "\t" +
               std::to_string(problems) + "\t" + karmor::Digest::sha256_of(text).hex();
    }
};

std::vector<LoadOptions> option_sets() {
    std::vector<LoadOptions> sets(5);
    sets[1].serialize_as = PolicyFormat::yaml;
    sets[2].serialize_as = PolicyFormat::json;
    sets[3].skip_validation = true;
    sets[3].serialize_as = PolicyFormat::yaml;
    sets[4].limits.max_depth = 4;
    sets[4].limits.max_policies = 2;
    return sets;
}

std::string describe(const Policy& p) {
    std::string out = "policy " + p.identity.str() + " at " + p.origin.str() + " doc " +
                      std::to_string(p.origin.document) + " action=" + p.action +
                      " severity=" + (p.severity ? std::to_string(*p.severity) : "-");
    out += "\n  document: " + p.document.dump();
    out += "\n  serialized: " + json(p.serialized).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    return out;
}

std::string describe(const Diagnostic& d) {
    return "problem " + d.str() + " [doc " + std::to_string(d.where.document) + "]\n";
}

std::string describe(const std::vector<Policy>& policies, const std::vector<Diagnostic>& problems) {
    std::string out;
    for (const auto& p : policies) out += describe(p);
    for (const auto& d : problems) out += describe(d);
    return out;
}

void judge(const std::string& text, const std::string& name, Verdicts& verdicts) {
    ++verdicts.inputs;
    static const auto sets = option_sets();
    for (std::size_t set = 0; set < sets.size(); ++set) {
        std::vector<Diagnostic> problems;
        const auto policies = karmor::parse_policy_text(text, name, sets[set], problems);
        const auto described = describe(policies, problems);
        verdicts.text += "options " + std::to_string(set) + "\n" + described;
        verdicts.policies += policies.size();
        verdicts.problems += problems.size();
        // Pull's way of reading a layer must give the same.
        std::string copy = text;
        std::vector<Diagnostic> taken_problems;
        const auto taken = karmor::parse_policy_text_taking(copy, name, sets[set], taken_problems);
        if (describe(taken, taken_problems) != described) {
            std::fprintf(stderr, "parse_policy_text_taking differs on %s (options %zu)\n", name.c_str(), set);
            ++verdicts.taking_differences;
        }
    }
}

// A seed from a name, the same on every platform (std::hash is not).
std::uint32_t fnv1a(std::string_view text) {
    std::uint32_t hash = 2166136261u;
    for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    return hash;
}

struct Input {
    std::string name;
    fs::path path;
};

// `skipped`: the names of the roots that are not there.
std::vector<Input> inputs_under(const std::vector<fs::path>& roots, std::vector<std::string>& skipped) {
    std::vector<Input> out;
    for (const auto& root : roots) {
        auto normal = root.lexically_normal();
        if (normal.filename().empty()) normal = normal.parent_path();  // ROOT/ names ROOT
        std::error_code ec;
        if (!fs::is_directory(root, ec)) {
            std::fprintf(stderr, "SKIPPED: %s is not there: its recorded verdicts are not checked\n",
                         root.string().c_str());
            skipped.push_back(normal.filename().string() + "/");
            continue;
        }
        for (const auto& entry : fs::recursive_directory_iterator(root, ec))
            if (entry.is_regular_file())
                out.push_back({(normal.filename() / fs::relative(entry.path(), root)).generic_string(), entry.path()});
    }
    std::sort(out.begin(), out.end(), [](const Input& a, const Input& b) { return a.name < b.name; });
    return out;
}

int usage() {
    std::fprintf(
        stderr, "usage: karmor_policy_verdicts [--mutations N] (--expect FILE | --write FILE | --show NAME) ROOT...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t limit = 300;
    std::string mode, argument;
    std::vector<fs::path> roots;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--mutations" && i + 1 < argc) {
            limit = std::stoul(argv[++i]);
        } else if ((arg == "--expect" || arg == "--write" || arg == "--show") && i + 1 < argc) {
            mode = arg;
            argument = argv[++i];
        } else if (arg.rfind("--", 0) == 0) {
            return usage();
        } else {
            roots.emplace_back(arg);
        }
    }
    if (mode.empty() || roots.empty()) return usage();

    std::map<std::string, std::string> expected;
    if (mode == "--expect") {
        std::ifstream in(argument);
        if (!in) {
            std::fprintf(stderr, "%s: cannot be read\n", argument.c_str());
            return 1;
        }
        for (std::string line; std::getline(in, line);)
            if (!line.empty() && line[0] != '#') expected[line.substr(0, line.find('\t'))] = line;
    }
    std::string written;
    std::size_t inputs = 0, policies = 0, problems = 0, different = 0, checked = 0;
    std::vector<std::string> skipped;
    for (const auto& input : inputs_under(roots, skipped)) {
        const auto text = read_file(input.path);
        Verdicts verdicts;
        judge(text, input.name, verdicts);
        // Each file's mutations depend on its name and text alone, not on the files before it.
        std::mt19937 random(fnv1a(input.name));
        for (const auto& variant : mutations(text, limit, random)) judge(variant, input.name, verdicts);
        inputs += verdicts.inputs;
        policies += verdicts.policies;
        problems += verdicts.problems;
        different += verdicts.taking_differences;
        const auto line = verdicts.line(input.name);
        if (mode == "--write") written += line + "\n";
        if (mode == "--show" && input.name == argument) std::fputs(verdicts.text.c_str(), stdout);
        if (mode != "--expect") continue;
        const auto it = expected.find(input.name);
        if (it == expected.end()) {
            std::fprintf(stderr, "NOT RECORDED: %s (no line in %s)\n", input.name.c_str(), argument.c_str());
            ++different;
            continue;
        }
        ++checked;
        if (it->second != line) {
            std::fprintf(stderr, "DIFFERENT: %s\n  expected %s\n  got      %s\n  (--show %s prints its verdicts)\n",
                         input.name.c_str(), it->second.c_str(), line.c_str(), input.name.c_str());
            ++different;
        }
        expected.erase(it);
    }
    if (mode == "--write") {
        std::ofstream out(argument, std::ios::binary);
        out << "# karmor_policy_verdicts --mutations " << limit
            << ": name, inputs, policies, problems, SHA-256 of the verdicts\n"
            << written;
        if (!out) return 1;
    }
    for (const auto& [name, line] : expected) {
        const std::string& recorded = name;  // Clang 14 captures no structured binding
        const auto under_skipped = [&](const std::string& root) { return recorded.rfind(root, 0) == 0; };
        if (std::any_of(skipped.begin(), skipped.end(), under_skipped)) continue;
        std::fprintf(stderr, "MISSING: %s is recorded but was not read\n", name.c_str());
        ++different;
    }
    std::printf("%zu inputs (files and mutations, 5 option sets each), %zu policies, %zu problems; %zu files checked, "
                "%zu different\n",
                inputs, policies, problems, checked, different);
    return different == 0 ? 0 : 1;
}
