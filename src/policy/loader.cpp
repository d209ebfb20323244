// SPEC §5: inputs, the four kinds, duplicates, serialization and file names.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <unordered_map>

#include "karmor/digest.hpp"
#include "karmor/policy.hpp"
#include "policy/document_check.hpp"
#include "policy/kubectl_text.hpp"
#include "policy/value_writers.hpp"
#include "util/parallel.hpp"

namespace karmor {
namespace {

using policy::add_problem;

using json = nlohmann::ordered_json;

struct KindInfo {
    const char* kind;
    const char* abbreviation;
    bool namespaced;
};

constexpr KindInfo kinds[] = {
    {"KubeArmorPolicy", "ksp", true},
    {"KubeArmorHostPolicy", "hsp", false},
    {"KubeArmorClusterPolicy", "csp", false},
    {"KubeArmorNetworkPolicy", "knp", false},
};

const KindInfo* find_kind(std::string_view kind) {
    for (const auto& info : kinds)
        if (kind == info.kind) return &info;
    return nullptr;
}

bool is_policy_file(const std::filesystem::path& path) {
    const auto ext = path.extension().string();
    return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// The offset of the first byte that is not part of a well-formed UTF-8 sequence (no overlong
// forms, no surrogates, nothing above U+10FFFF).
std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
        if (c >= 0xC2 && c <= 0xDF)
            length = 2;
        else if (c == 0xE0)
            length = 3, low = 0xA0;
        else if (c == 0xED)
            length = 3, high = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF)
            length = 3;
        else if (c == 0xF0)
            length = 4, low = 0x90;
        else if (c == 0xF4)
            length = 4, high = 0x8F;
        else if (c >= 0xF1 && c <= 0xF3)
            length = 4;
        else
            return i;
        if (i + length > text.size()) return i;
        const auto second = static_cast<unsigned char>(text[i + 1]);
        if (second < low || second > high) return i;
        for (std::size_t k = 2; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if (next < 0x80 || next > 0xBF) return i;
        }
        i += length;
    }
    return std::nullopt;
}

bool cancelled(const std::atomic<bool>* cancel) {
    return cancel && cancel->load(std::memory_order_relaxed);
}

// What a path is, for a refusal that names it: "a FIFO", "a character device", ...
const char* file_type_name(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

std::string over_file_limit(std::uint64_t limit) {
    return "is larger than the limit of " + std::to_string(limit) +
           " bytes (raise --max-file-size; pull needs the same flag then)";
}

// Reads a regular file of at most `limit` bytes. A FIFO, a device or a socket could block or
// never end (/dev/zero), so they are refused by type before a byte is read; the descriptor is
// opened non-blocking (a FIFO swapped in after the check does not wait for a writer) and
// checked again. A file that grows while it is read is cut off at the limit.
// `over_limit` tells a refusal by size (a validation problem) from an I/O problem.
std::string read_file(const std::filesystem::path& path, std::uint64_t limit, const std::atomic<bool>* cancel,
                      std::string& error, bool& over_limit) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        error = std::string("cannot read the file: ") + std::strerror(errno);
        return {};
    }
    if (!S_ISREG(info.st_mode)) {
        error = std::string("is ") + file_type_name(info.st_mode) + ", not a policy file: only regular files are read";
        return {};
    }
    if (static_cast<std::uint64_t>(info.st_size) > limit) {
        error = over_file_limit(limit);
        over_limit = true;
        return {};
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error = std::string("cannot read the file: ") + std::strerror(errno);
        return {};
    }
    std::string text;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        error = "is not a regular file any more: only regular files are read";
        ::close(fd);
        return {};
    }
    text.reserve(static_cast<std::size_t>(info.st_size));
    char buffer[65536];
    while (!cancelled(cancel)) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = std::string("error while reading the file: ") + std::strerror(errno);
            break;
        }
        if (n == 0) break;
        if (text.size() + static_cast<std::size_t>(n) > limit) {
            error = over_file_limit(limit);
            over_limit = true;
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

bool is_hidden(const std::filesystem::path& path) {
    const auto name = path.filename().string();
    return name.size() > 1 && name.front() == '.' && name != "..";
}

// Why `entry` of a -p directory is not read, or "" when it is a policy file to read.
std::string reason_to_skip(const std::filesystem::directory_entry& entry, bool recursive) {
    std::error_code ec;
    const auto link = entry.symlink_status(ec);
    const auto target = std::filesystem::status(entry.path(), ec);
    if (ec) {
        if (std::filesystem::is_symlink(link)) {
            std::error_code read_ec;
            const auto to = std::filesystem::read_symlink(entry.path(), read_ec);
            return "a symbolic link to " + (read_ec ? std::string("?") : to.string()) + ": " + ec.message();
        }
        return ec.message();
    }
    if (std::filesystem::is_directory(target)) {
        if (std::filesystem::is_symlink(link)) return "a symbolic link to a directory (not followed)";
        if (!recursive) return "a directory (use --recursive to read subdirectories)";
        if (is_hidden(entry.path())) return "a hidden directory";
        return "";
    }
    if (!std::filesystem::is_regular_file(target)) return "not a regular file";
    if (!is_policy_file(entry.path())) return "not a *.yaml, *.yml or *.json file";
    return "";
}

// The policy files of a -p directory, sorted; every other entry is reported to `skipped`.
std::vector<std::filesystem::path> list_policy_files(const std::filesystem::path& dir, bool recursive,
                                                     std::vector<Diagnostic>& skipped, const std::atomic<bool>* cancel,
                                                     std::error_code& ec) {
    std::vector<std::filesystem::path> files;
    const auto visit = [&](const std::filesystem::directory_entry& entry) {
        const auto reason = reason_to_skip(entry, recursive);
        if (!reason.empty()) {
            add_problem(skipped, SourcePosition{entry.path().string()}, "", "skipped: " + reason);
            return false;
        }
        std::error_code type_ec;
        if (entry.is_regular_file(type_ec)) files.push_back(entry.path());
        return true;
    };
    if (recursive) {
        for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
             !ec && !cancelled(cancel) && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            // .git, .github and the like hold no policies to push: not entered.
            if (!visit(*it) && it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
            ec.clear();
        }
    } else {
        for (auto it = std::filesystem::directory_iterator(dir, ec);
             !ec && !cancelled(cancel) && it != std::filesystem::directory_iterator(); it.increment(ec))
            visit(*it);
    }
    std::sort(files.begin(), files.end());
    std::sort(skipped.begin(), skipped.end(),
              [](const Diagnostic& a, const Diagnostic& b) { return a.where.file < b.where.file; });
    return files;
}

// Why an input named with -p cannot be used: the system's reason (ELOOP, EACCES) rather than a
// blanket "no such file".
std::string missing_input_reason(const std::filesystem::path& input, const std::error_code& status_ec) {
    std::error_code ec;
    const auto link = std::filesystem::symlink_status(input, ec);
    if (!ec && std::filesystem::is_symlink(link)) {
        std::error_code read_ec;
        const auto to = std::filesystem::read_symlink(input, read_ec);
        const std::string why = status_ec ? status_ec.message() : "no such file or directory";
        return "a symbolic link to " + (read_ec ? std::string("?") : to.string()) + ": " + why;
    }
    if (status_ec && status_ec != std::errc::no_such_file_or_directory) return status_ec.message();
    return "no such file or directory";
}

}  // namespace

std::string PolicyIdentity::str() const {
    return namespace_name.empty() ? kind + "/" + name : kind + "/" + namespace_name + "/" + name;
}

std::string SourcePosition::str() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) out += ":" + std::to_string(column);
    }
    return out;
}

std::string Diagnostic::str() const {
    std::string out = where.str() + ": ";
    if (!field_path.empty()) out += field_path + ": ";
    return out + message;
}

void add_diagnostics(Error& error, const std::vector<Diagnostic>& problems) {
    for (const auto& p : problems) {
        error.details.push_back(p.str());
        error.problems.push_back({p.where.file, p.where.line, p.where.column, p.field_path, p.message});
    }
}

bool is_kubearmor_kind(std::string_view kind) {
    return find_kind(kind) != nullptr;
}

bool is_namespaced_kind(std::string_view kind) {
    const auto* info = find_kind(kind);
    return info && info->namespaced;
}

std::string kind_abbreviation(std::string_view kind) {
    const auto* info = find_kind(kind);
    return info ? info->abbreviation : "policy";
}

namespace {

// What the reader read of a text: the policies, the syntax error that ended the stream early,
// or that it stopped at --max-policies documents (that problem is then in `problems`).
struct DocumentsRead {
    std::vector<Policy> policies;
    std::optional<policy::YamlSyntaxError> syntax_error;
    bool too_many = false;
    bool echoed = false;  // one policy, whose serialized text is the whole text (left empty)
};

// The documents of a text that passed the UTF-8 check and KubectlText: each checked and
// serialized as the parser reads it.
// `may_echo`: the caller can give the text itself as a policy's serialized text.
DocumentsRead read_documents(std::string_view text, const std::string& source_name, const LoadOptions& options,
                             std::vector<Diagnostic>& problems, bool may_echo) {
    DocumentsRead read;
    policy::YamlEventReader reader(text, options.limits.max_depth, options.cancel);
    policy::DocumentCheck check(options);
    if (may_echo) check.compare_with(text);
    if (text.size() >= policy::DocumentCheck::big_text_bytes) check.reserve_output(text.size());
    int index = 0;
    for (;;) {
        const SourcePosition where{source_name, index + 1, 0, 0};
        check.start(where);
        if (!reader.next(check)) break;
        ++index;
        if (static_cast<std::uint64_t>(index) > options.limits.max_policies) {
            problems.push_back(
                {where, "",
                 "more than " + std::to_string(options.limits.max_policies) + " documents (raise --max-policies)"});
            read.policies.clear();
            read.too_many = true;
            return read;
        }
        if (auto policy = check.finish(problems)) read.policies.push_back(std::move(*policy));
    }
    read.syntax_error = reader.error();
    read.echoed = check.echoed() && read.policies.size() == 1;
    return read;
}

// parse_policy_text; with `owner` (which holds `text`), parse_policy_text_taking.
std::vector<Policy> parse_text(std::string_view text, const std::string& source_name, const LoadOptions& options,
                               std::vector<Diagnostic>& problems, std::string* owner) {
    // Kubernetes objects are UTF-8 JSON; bytes that are not would also break serialization.
    if (const auto bad = first_invalid_utf8(text)) {
        const auto [line, column] = policy::line_and_column(text, *bad);
        add_problem(problems, SourcePosition{source_name, 0, line, column}, "",
                    "not valid UTF-8 (byte " + std::to_string(*bad + 1) + "): save the file as UTF-8");
        return {};
    }
    const policy::KubectlText kubectl(text);
    // Only a text the parser reads as it is can be its own serialization.
    const bool may_echo = owner && kubectl.text().data() == text.data() && kubectl.text().size() == text.size();
    auto read = read_documents(kubectl.text(), source_name, options, problems, may_echo);
    if (read.too_many) return {};
    auto error = std::move(read.syntax_error);
    // The parser read up to an invalid separator line: an error there is the separator's.
    if (const auto& separator = kubectl.invalid_separator(); separator && (!error || error->line >= separator->line))
        error = separator;
    if (error) {
        // What came before the error was read, but a file that is not YAML as a whole is
        // not pushed in part.
        add_problem(problems, SourcePosition{source_name, 0, error->line, error->column}, "",
                    "YAML syntax error: " + error->message);
        return {};
    }
    if (read.echoed) {
        read.policies.front().serialized = std::move(*owner);
        *owner = std::string();
    }
    return std::move(read.policies);
}

}  // namespace

std::vector<Policy> parse_policy_text(std::string_view text, const std::string& source_name, const LoadOptions& options,
                                      std::vector<Diagnostic>& problems) {
    return parse_text(text, source_name, options, problems, nullptr);
}

std::vector<Policy> parse_policy_text_taking(std::string& text, const std::string& source_name,
                                             const LoadOptions& options, std::vector<Diagnostic>& problems) {
    return parse_text(text, source_name, options, problems, &text);
}

namespace {

struct FileLoad {
    std::vector<Policy> policies;
    std::vector<Diagnostic> problems;
    bool unreadable = false;  // an I/O problem rather than a policy problem
    std::vector<Diagnostic> skipped;
};

FileLoad load_file(const std::filesystem::path& file, const LoadOptions& options) {
    FileLoad load;
    if (cancelled(options.cancel)) return load;
    std::string error;
    bool over_limit = false;
    // `-p -`: the CLI read standard input, bounded like a file (--max-file-size).
    const bool from_stdin = file == "-" && options.standard_input;
    const auto text = from_stdin ? *options.standard_input
                                 : read_file(file, options.limits.max_file_bytes, options.cancel, error, over_limit);
    const std::string name = from_stdin ? "<stdin>" : file.string();
    if (!error.empty()) {
        add_problem(load.problems, SourcePosition{name}, "", error);
        load.unreadable = !over_limit;
        return load;
    }
    if (cancelled(options.cancel)) return load;
    load.policies = parse_policy_text(text, name, options, load.problems);
    // Only comments, `---` or nothing: skipped, as kubectl does; an input set without any
    // policy at all is refused below.
    if (load.policies.empty() && load.problems.empty() && !cancelled(options.cancel))
        add_problem(load.skipped, SourcePosition{name}, "",
                    "skipped: holds no document (only comments or empty documents)");
    return load;
}

// Parsing dominates loading, and files are independent: parse them on every core. Results
// stay in input order, so diagnostics come out the same on every run.
std::vector<FileLoad> load_files(const std::vector<std::filesystem::path>& files, const LoadOptions& options) {
    std::vector<FileLoad> loads(files.size());
    util::parallel_for(files.size(), [&](std::size_t i) { loads[i] = load_file(files[i], options); });
    return loads;
}

}  // namespace

Result<std::vector<Policy>> load_policy_files(const std::vector<std::filesystem::path>& inputs,
                                              const LoadOptions& options) {
    if (inputs.empty())
        return unexpected(Error(ErrorKind::usage, "no policy files given", "name files or directories with -p"));

    std::vector<Diagnostic> problems;
    bool any_policy_problem = false;  // decides between exit codes for validation and I/O
    std::vector<std::filesystem::path> files;
    const auto report_skipped = [&](const std::vector<Diagnostic>& skipped) {
        if (options.on_skipped)
            for (const auto& entry : skipped) options.on_skipped(entry);
    };
    // `-p dir -p dir/a.yaml` (or two links to one file) name one file twice: it is read once,
    // under the name it was first given.
    std::set<std::filesystem::path> seen;
    const auto add_file = [&](const std::filesystem::path& file) {
        std::error_code canonical_ec;
        auto real = std::filesystem::canonical(file, canonical_ec);
        if (canonical_ec || seen.insert(std::move(real)).second) files.push_back(file);
    };
    for (const auto& input : inputs) {
        if (cancelled(options.cancel)) break;
        if (input == "-" && options.standard_input) {
            files.push_back(input);
            continue;
        }
        std::error_code ec;
        const auto status = std::filesystem::status(input, ec);
        if (ec || !std::filesystem::exists(status)) {
            add_problem(problems, SourcePosition{input.string()}, "", missing_input_reason(input, ec));
            continue;
        }
        if (!std::filesystem::is_directory(status)) {
            add_file(input);
            continue;
        }
        std::vector<Diagnostic> skipped;
        auto listed = list_policy_files(input, options.recursive, skipped, options.cancel, ec);
        report_skipped(skipped);
        if (ec) {
            add_problem(problems, SourcePosition{input.string()}, "", "cannot list the directory: " + ec.message());
        } else if (listed.empty()) {
            add_problem(problems, SourcePosition{input.string()}, "",
                        std::string("the directory holds no *.yaml, *.yml or *.json file") +
                            (options.recursive ? "" : " (use --recursive for subdirectories)"));
            any_policy_problem = true;
        }
        for (const auto& file : listed) add_file(file);
    }

    // All inputs together, by their sizes now: each read is bounded by --max-file-size too, so
    // a file that grows meanwhile cannot take more.
    std::uint64_t total = 0;
    for (const auto& file : files) {
        std::error_code size_ec;
        if (const auto size = std::filesystem::file_size(file, size_ec); !size_ec) total += size;
    }
    if (total > options.limits.max_total_bytes) {
        Error error(ErrorKind::validation,
                    "the policy files add up to " + std::to_string(total) + " bytes, over the limit of " +
                        std::to_string(options.limits.max_total_bytes) + " bytes; nothing was pushed",
                    "raise --max-total-size (pull needs the same flag then), or push the policies in parts");
        return unexpected(std::move(error));
    }

    std::vector<Policy> policies;
    auto loads = load_files(files, options);
    std::size_t loaded = 0;
    for (const auto& load : loads) loaded += load.policies.size();
    policies.reserve(loaded);
    for (auto& load : loads) {
        report_skipped(load.skipped);
        if (!load.unreadable && !load.problems.empty()) any_policy_problem = true;
        std::move(load.problems.begin(), load.problems.end(), std::back_inserter(problems));
        std::move(load.policies.begin(), load.policies.end(), std::back_inserter(policies));
    }
    if (cancelled(options.cancel))
        return unexpected(Error(ErrorKind::cancelled, "interrupted while reading the policies; nothing was pushed"));
    if (policies.size() > options.limits.max_policies) {
        add_problem(problems, SourcePosition{inputs.front().string()}, "",
                    "the inputs hold " + std::to_string(policies.size()) + " policies, more than " +
                        std::to_string(options.limits.max_policies) + " (raise --max-policies)");
        any_policy_problem = true;
    }
    const auto before_duplicates = problems.size();
    // Sorted now, though only a set without problems is returned: the sort finds the duplicates.
    sort_policies_finding_duplicates(policies, problems);
    if (problems.size() != before_duplicates) any_policy_problem = true;
    if (problems.empty() && policies.empty()) {
        const std::string where = inputs.size() == 1 ? inputs.front().string() : "the inputs";
        add_problem(problems, SourcePosition{where}, "",
                    "holds no policy: every file was empty or skipped (see the warnings)");
        any_policy_problem = true;
    }

    if (!problems.empty()) {
        Error error(any_policy_problem ? ErrorKind::validation : ErrorKind::io,
                    std::to_string(problems.size()) + (problems.size() == 1 ? " problem" : " problems") +
                        " in the policies; nothing was pushed",
                    any_policy_problem ? "fix the policies above; each line gives file:line:column and the field"
                                       : "check the paths given with -p");
        add_diagnostics(error, problems);
        return unexpected(std::move(error));
    }
    return policies;
}

namespace {

// The policies' indexes in identity order; equal identities keep their input order. Sorting
// indexes compares the identities in place: no copies of them, no moves of whole policies.
std::vector<std::size_t> identity_order(const std::vector<Policy>& policies) {
    std::vector<std::size_t> order(policies.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return policies[a].identity < policies[b].identity; });
    return order;
}

// Each policy whose identity an earlier one has, with that first one, in input order.
void report_duplicates(const std::vector<Policy>& policies, const std::vector<std::size_t>& order,
                       std::vector<Diagnostic>& problems) {
    std::vector<std::pair<std::size_t, std::size_t>> repeats;
    for (std::size_t i = 1, first = 0; i < order.size(); ++i) {
        if (policies[order[i]].identity == policies[order[first]].identity)
            repeats.emplace_back(order[i], order[first]);
        else
            first = i;
    }
    std::sort(repeats.begin(), repeats.end());
    for (const auto& [later, first] : repeats) {
        const auto& policy = policies[later];
        add_problem(problems, policy.origin, "metadata.name",
                    policy.identity.str() + " is defined twice: here and at " + policies[first].origin.str());
    }
}

void put_in_order(std::vector<Policy>& policies, const std::vector<std::size_t>& order) {
    std::vector<Policy> sorted;
    sorted.reserve(policies.size());
    for (const auto i : order) sorted.push_back(std::move(policies[i]));
    policies = std::move(sorted);
}

}  // namespace

void find_duplicate_policies(const std::vector<Policy>& policies, std::vector<Diagnostic>& problems) {
    report_duplicates(policies, identity_order(policies), problems);
}

void sort_policies(std::vector<Policy>& policies) {
    put_in_order(policies, identity_order(policies));
}

// One sort where there were two: sorting 140,000 identities takes about 0.07 s, on one core
// after the loading (a dry-run push of them takes about 2 s).
void sort_policies_finding_duplicates(std::vector<Policy>& policies, std::vector<Diagnostic>& problems) {
    const auto order = identity_order(policies);
    report_duplicates(policies, order, problems);
    put_in_order(policies, order);
}

std::string to_yaml(const nlohmann::ordered_json& document) {
    std::string out;
    policy::YamlTextWriter writer(out);
    policy::write_json(document, writer);
    return out;
}

const std::string* serialized_text(const Policy& policy, PolicyFormat format) {
    if (!policy.document.is_null() || policy.serialized.empty()) return nullptr;
    // A document serializes to a JSON object or to a block mapping, never to both.
    const bool is_json = policy.serialized.front() == '{';
    return is_json == (format == PolicyFormat::json) ? &policy.serialized : nullptr;
}

std::string serialize_policy(const Policy& policy, PolicyFormat format) {
    if (const auto* text = serialized_text(policy, format)) return *text;
    if (policy.document.is_null() && !policy.serialized.empty()) {
        // Loaded with LoadOptions::serialize_as in the other format: the YAML reader reads
        // both, so this one is a parse away.
        std::vector<Diagnostic> problems;
        LoadOptions identity_only;
        identity_only.skip_validation = true;
        auto again = parse_policy_text(policy.serialized, policy.origin.file, identity_only, problems);
        return again.size() == 1 ? serialize_policy(again.front(), format) : policy.serialized;
    }
    std::string out;
    if (format == PolicyFormat::json) {
        // JSON layers are read back with the YAML reader, like every policy text.
        policy::JsonTextWriter writer(out);
        policy::write_json(policy.document, writer);
        out += '\n';
    } else {
        policy::YamlTextWriter writer(out);
        policy::write_json(policy.document, writer);
    }
    return out;
}

namespace {

// kind-namespace-name of policy_file_names, without the extension and the hash that tell apart
// identities that flatten to the same name.
std::string file_base_name(const PolicyIdentity& identity) {
    // Lowercase letters, digits, '-', '.' and '_'; no leading '.'; at most 200 characters.
    const auto append_safe = [](std::string& out, const std::string& s) {
        const auto start = out.size();
        for (char c : std::string_view(s).substr(0, 200)) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
            out.push_back(ok ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '_');
        }
        if (out.size() > start && out[start] == '.') out[start] = '_';
    };
    std::string name;
    name.reserve(identity.namespace_name.size() + identity.name.size() + 24);
    name = kind_abbreviation(identity.kind);
    if (!identity.namespace_name.empty()) {
        name += '-';
        append_safe(name, identity.namespace_name);
    }
    name += '-';
    append_safe(name, identity.name);
    return name;
}

std::string_view file_extension(PolicyFormat format) {
    return format == PolicyFormat::json ? ".json" : ".yaml";
}

}  // namespace

std::string policy_file_name(const PolicyIdentity& identity, PolicyFormat format) {
    auto name = file_base_name(identity);
    name += file_extension(format);
    return name;
}

std::vector<std::string> policy_file_names(const std::vector<Policy>& policies, PolicyFormat format) {
    const auto extension = file_extension(format);
    std::vector<std::string> names(policies.size());
    for (std::size_t i = 0; i < policies.size(); ++i) names[i] = file_base_name(policies[i].identity);
    // Different identities can flatten to one name (namespace "a-b" + name "c" and namespace
    // "a" + name "b-c", or names that needed escaping): those get a hash of the identity.
    // A hash table rather than a sort of the names: one pass, no string compares.
    std::unordered_map<std::string_view, std::size_t> first_with_name;
    first_with_name.reserve(names.size());
    std::vector<bool> shared(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto [first, inserted] = first_with_name.try_emplace(names[i], i);
        if (!inserted) shared[i] = shared[first->second] = true;
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (shared[i]) names[i] += "-" + Digest::sha256_of(policies[i].identity.str()).hex().substr(0, 8);
        names[i] += extension;
    }
    return names;
}

}  // namespace karmor
