// Issue 26: the event-driven policy path must give exactly what the tree path gave: the same
// policies (identity, origin, action, severity, document, serialized bytes) and the same
// problems (file, document, line, column, field path, message), in the same order. This runs
// both over every file named (directories: every file in them, recursively), over mutations of
// each file, and under each set of load options, and prints the counts it compared.
// Usage: karmor_policy_differential [--mutations N] PATH...
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/tree_loader.hpp"

namespace {

namespace fs = std::filesystem;
using karmor::Diagnostic;
using karmor::LoadOptions;
using karmor::Policy;
using karmor::PolicyFormat;

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
        const auto at = std::uniform_int_distribution<std::size_t>(0, copy.size() - 1)(random);
        const char bytes[] = {'\n', ' ', ':', '-', '[', ']', '{', '}', ',', '#', '&', '*', '!', '\'', '"', '\t', '~'};
        copy[at] = bytes[std::uniform_int_distribution<std::size_t>(0, sizeof bytes - 1)(random)];
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

struct Counts {
    std::size_t inputs = 0;
    std::size_t comparisons = 0;
    std::size_t policies = 0;
    std::size_t problems = 0;
    std::size_t serialized_bytes = 0;
    std::size_t differences = 0;
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

void compare(const std::string& text, const std::string& name, Counts& counts) {
    ++counts.inputs;
    static const auto sets = option_sets();
    for (const auto& options : sets) {
        std::vector<Diagnostic> tree_problems, problems;
        const auto tree_policies = karmor::policy::parse_policy_text_with_tree(text, name, options, tree_problems);
        const auto policies = karmor::parse_policy_text(text, name, options, problems);
        ++counts.comparisons;
        counts.policies += policies.size();
        counts.problems += problems.size();
        for (const auto& p : policies) counts.serialized_bytes += p.serialized.size();
        const auto difference = karmor::policy::compare_paths(tree_policies, tree_problems, policies, problems);
        if (difference.empty()) continue;
        if (++counts.differences <= 5)
            std::fprintf(stderr, "DIFFERENCE on %s (serialize %d, skip %d, depth %llu):\n%s\n--- input ---\n%s\n---\n",
                         name.c_str(), options.serialize_as ? static_cast<int>(*options.serialize_as) : -1,
                         options.skip_validation ? 1 : 0, static_cast<unsigned long long>(options.limits.max_depth),
                         difference.c_str(), text.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t limit = 400;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--mutations" && i + 1 < argc) {
            limit = std::stoul(argv[++i]);
            continue;
        }
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            for (const auto& entry : fs::recursive_directory_iterator(arg, ec))
                if (entry.is_regular_file()) files.push_back(entry.path());
        } else if (fs::is_regular_file(arg, ec)) {
            files.push_back(arg);
        } else {
            std::fprintf(stderr, "SKIPPED: %s is not there\n", arg.c_str());
        }
    }
    std::sort(files.begin(), files.end());
    std::mt19937 random(26);
    Counts originals, variants;
    for (const auto& file : files) {
        const auto text = read_file(file);
        compare(text, file.string(), originals);
        for (const auto& variant : mutations(text, limit, random)) compare(variant, file.string(), variants);
    }
    const auto print = [](const char* what, const Counts& c) {
        std::printf("%s: %zu inputs, %zu comparisons (5 option sets each), %zu policies, %zu problems, %zu serialized "
                    "bytes, %zu differences\n",
                    what, c.inputs, c.comparisons, c.policies, c.problems, c.serialized_bytes, c.differences);
    };
    print("files", originals);
    print("mutations", variants);
    return originals.differences + variants.differences == 0 ? 0 : 1;
}
