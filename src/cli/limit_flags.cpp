#include "cli/limit_flags.hpp"

namespace karmor::cli {

Result<std::uint64_t> parse_size(const std::string& text, const std::string& flag) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::string suffix = text.substr(digits);
    int shift = -1;
    if (suffix.empty() || suffix == "B") shift = 0;
    if (suffix == "K" || suffix == "KiB" || suffix == "k") shift = 10;
    if (suffix == "M" || suffix == "MiB") shift = 20;
    if (suffix == "G" || suffix == "GiB") shift = 30;
    const auto bad = [&] {
        return unexpected(Error(ErrorKind::usage, flag + " " + text + ": not a size",
                                "give bytes, or a number with KiB, MiB or GiB, e.g. " + flag + " 16MiB"));
    };
    if (digits == 0 || digits > 15 || shift < 0) return bad();
    const std::uint64_t number = std::stoull(text.substr(0, digits));
    if (number == 0 || number > (std::uint64_t{1} << 50) >> shift) return bad();
    return number << shift;
}

void LimitFlags::add_to(CLI::App& command) {
    command
        .add_option("--max-file-size", max_file_size,
                    "largest policy file read, and largest file in an artifact (default 4MiB)")
        ->option_text("SIZE");
    command
        .add_option("--max-total-size", max_total_size,
                    "largest total of all policy files, and of an artifact's archive unpacked (default 1GiB)")
        ->option_text("SIZE");
    command
        .add_option("--max-policies", max_policies,
                    "most policies (YAML documents) in all inputs or in an artifact (default 200000)")
        ->option_text("N")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
    command
        .add_option("--max-depth", max_depth,
                    "deepest nesting of mappings and lists in a policy (default 100, at most " +
                        std::to_string(InputLimits::deepest_max_depth) + ")")
        ->option_text("N")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{InputLimits::deepest_max_depth}));
}

Result<InputLimits> LimitFlags::resolve() const {
    InputLimits limits;
    if (!max_file_size.empty()) {
        auto size = parse_size(max_file_size, "--max-file-size");
        if (!size) return unexpected(std::move(size).error());
        limits.max_file_bytes = *size;
    }
    if (!max_total_size.empty()) {
        auto size = parse_size(max_total_size, "--max-total-size");
        if (!size) return unexpected(std::move(size).error());
        limits.max_total_bytes = *size;
    }
    limits.max_policies = max_policies;
    limits.max_depth = max_depth;
    return limits;
}

}  // namespace karmor::cli
