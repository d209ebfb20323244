#include "moving/semver.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace karmor::moving {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const auto at = text.find(separator, start);
        parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) return parts;
        start = at + 1;
    }
}

// A numeric identifier: digits, no leading zero (semver.org §2, §9).
std::optional<std::uint64_t> number(std::string_view s) {
    if (!all_digits(s) || (s.size() > 1 && s.front() == '0') || s.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : s) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    return value;
}

bool identifier_chars(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; });
}

// Splits "[v]CORE[-PRE][+BUILD]" into its parts; false when the pre-release or build is malformed.
bool split_version(std::string_view text, std::string_view& core, std::vector<std::string>& prerelease) {
    if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
    if (const auto plus = text.find('+'); plus != std::string_view::npos) {
        for (const auto part : split(text.substr(plus + 1), '.'))
            if (!identifier_chars(part)) return false;
        text = text.substr(0, plus);
    }
    const auto dash = text.find('-');
    core = text.substr(0, dash);
    if (dash == std::string_view::npos) return true;
    for (const auto part : split(text.substr(dash + 1), '.')) {
        if (!identifier_chars(part) || (all_digits(part) && !number(part))) return false;
        prerelease.emplace_back(part);
    }
    return true;
}

// A version in a range may be partial: `1.2`, `1`, `1.x`, `*`. `given` counts the leading
// numeric components; the rest are 0.
struct Partial {
    Version version;
    int given = 0;
};

std::optional<Partial> parse_partial(std::string_view text) {
    Partial out;
    std::string_view core;
    if (!split_version(text, core, out.version.prerelease)) return std::nullopt;
    const auto parts = split(core, '.');
    if (parts.size() > 3) return std::nullopt;
    std::uint64_t* fields[] = {&out.version.major, &out.version.minor, &out.version.patch};
    bool wildcard = false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto part = parts[i];
        if (part == "x" || part == "X" || part == "*") {
            wildcard = true;
            continue;
        }
        if (wildcard) return std::nullopt;  // 1.x.3
        const auto value = number(part);
        if (!value) return std::nullopt;
        *fields[i] = *value;
        ++out.given;
    }
    if (out.given < 3 && !out.version.prerelease.empty()) return std::nullopt;  // 1.2-rc.1
    return out;
}

Version bumped(const Version& v, int component) {
    Version out;
    out.major = v.major + (component == 0 ? 1 : 0);
    out.minor = component == 0 ? 0 : v.minor + (component == 1 ? 1 : 0);
    out.patch = component == 2 ? v.patch + 1 : 0;
    return out;
}

int compare_identifiers(const std::string& a, const std::string& b) {
    const bool a_numeric = all_digits(a);
    const bool b_numeric = all_digits(b);
    if (a_numeric && b_numeric) {
        if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
        return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
    }
    if (a_numeric != b_numeric) return a_numeric ? -1 : 1;  // numeric identifiers sort first
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

std::optional<Version> Version::parse(std::string_view text) {
    Version out;
    std::string_view core;
    if (!split_version(text, core, out.prerelease)) return std::nullopt;
    const auto parts = split(core, '.');
    if (parts.size() != 3) return std::nullopt;
    const auto major = number(parts[0]);
    const auto minor = number(parts[1]);
    const auto patch = number(parts[2]);
    if (!major || !minor || !patch) return std::nullopt;
    out.major = *major;
    out.minor = *minor;
    out.patch = *patch;
    return out;
}

std::string Version::str() const {
    std::string out = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    for (std::size_t i = 0; i < prerelease.size(); ++i) out += (i == 0 ? "-" : ".") + prerelease[i];
    return out;
}

int compare(const Version& a, const Version& b) {
    if (a.major != b.major) return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
    // A release is greater than any of its pre-releases.
    if (a.prerelease.empty() || b.prerelease.empty())
        return a.prerelease.empty() == b.prerelease.empty() ? 0 : (a.prerelease.empty() ? 1 : -1);
    for (std::size_t i = 0; i < a.prerelease.size() && i < b.prerelease.size(); ++i)
        if (const int c = compare_identifiers(a.prerelease[i], b.prerelease[i]); c != 0) return c;
    if (a.prerelease.size() == b.prerelease.size()) return 0;
    return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

Result<void> Range::add_comparator(std::string_view token, Set& set, std::string_view whole) {
    std::string_view op_text;
    for (const std::string_view candidate : {">=", "<=", ">", "<", "=", "~", "^"}) {
        if (token.substr(0, candidate.size()) == candidate) {
            op_text = candidate;
            break;
        }
    }
    const auto version_text = token.substr(op_text.size());
    const auto partial = parse_partial(version_text);
    if (!partial)
        return unexpected(Error(ErrorKind::usage,
                                "--semver " + std::string(whole) + ": '" + std::string(token) + "' is not a version",
                                "write a range such as '>=1.2.0 <2.0.0', '^1.4', '~1.2.3' or '1.x || >=3.0.0-rc.1'"));
    const Version& v = partial->version;
    const int given = partial->given;
    const auto add = [&set](Op op, Version version) { set.push_back({op, std::move(version)}); };
    // The version just past what `v` names when it is partial: 1.2 → 1.3.0, 1 → 2.0.0.
    const auto past = [&] { return bumped(v, given - 1); };

    if (given == 0) {
        // `*`, `x`, `>=*`: any release; `<*`, `>*`: nothing (an impossible comparator).
        if (op_text == "<" || op_text == ">") add(Op::lt, Version{});
        return {};
    }
    if (op_text.empty() || op_text == "=") {
        if (given == 3) {
            add(Op::eq, v);
        } else {
            add(Op::ge, v);
            add(Op::lt, past());
        }
    } else if (op_text == ">=") {
        add(Op::ge, v);
    } else if (op_text == "<") {
        add(Op::lt, v);
    } else if (op_text == ">") {
        if (given == 3) {
            add(Op::gt, v);
        } else {
            add(Op::ge, past());
        }
    } else if (op_text == "<=") {
        if (given == 3) {
            add(Op::le, v);
        } else {
            add(Op::lt, past());
        }
    } else if (op_text == "~") {
        add(Op::ge, v);
        add(Op::lt, bumped(v, given == 1 ? 0 : 1));
    } else {  // ^: changes that do not modify the left-most non-zero component
        add(Op::ge, v);
        int component = 0;
        if (v.major == 0 && given >= 2) component = (v.minor == 0 && given == 3) ? 2 : 1;
        add(Op::lt, bumped(v, component));
    }
    return {};
}

Result<Range> Range::parse(std::string_view text) {
    Range range;
    range.text_ = std::string(text);
    const auto bad = [&](const std::string& why) {
        return Error(ErrorKind::usage, "--semver " + std::string(text) + ": " + why,
                     "write a range such as '>=1.2.0 <2.0.0', '^1.4', '~1.2.3' or '1.x || >=3.0.0-rc.1'");
    };
    std::size_t start = 0;
    while (true) {
        const auto bar = text.find("||", start);
        const auto alternative =
            text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
        // Tokens, with an operator written apart from its version joined to it (`>= 1.2`).
        std::vector<std::string> tokens;
        std::size_t at = 0;
        while (at < alternative.size()) {
            while (at < alternative.size() && std::isspace(static_cast<unsigned char>(alternative[at]))) ++at;
            if (at >= alternative.size()) break;
            const auto end = std::find_if(alternative.begin() + static_cast<std::ptrdiff_t>(at), alternative.end(),
                                          [](unsigned char c) { return std::isspace(c); });
            const auto length = static_cast<std::size_t>(end - alternative.begin()) - at;
            std::string token(alternative.substr(at, length));
            at += length;
            if (!tokens.empty() && std::string_view(tokens.back()).find_first_not_of("<>=~^") == std::string::npos)
                tokens.back() += token;
            else
                tokens.push_back(std::move(token));
        }
        if (tokens.empty())
            return unexpected(bad(range.sets_.empty() && bar == std::string_view::npos
                                      ? "the range is empty"
                                      : "an alternative of '||' is empty"));
        Set set;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            // A hyphen range: `1.2.3 - 2.3` means >=1.2.3 <=2.3.
            if (i + 2 < tokens.size() && tokens[i + 1] == "-") {
                if (auto r = add_comparator(">=" + tokens[i], set, text); !r) return unexpected(std::move(r).error());
                if (auto r = add_comparator("<=" + tokens[i + 2], set, text); !r)
                    return unexpected(std::move(r).error());
                i += 2;
                continue;
            }
            if (auto r = add_comparator(tokens[i], set, text); !r) return unexpected(std::move(r).error());
        }
        range.sets_.push_back(std::move(set));
        if (bar == std::string_view::npos) break;
        start = bar + 2;
    }
    return range;
}

bool Range::holds(const Comparator& c, const Version& v) {
    const int order = compare(v, c.version);
    switch (c.op) {
        case Op::lt: return order < 0;
        case Op::le: return order <= 0;
        case Op::gt: return order > 0;
        case Op::ge: return order >= 0;
        case Op::eq: return order == 0;
    }
    return false;
}

bool Range::matches(const Version& version) const {
    for (const auto& set : sets_) {
        if (!std::all_of(set.begin(), set.end(), [&](const Comparator& c) { return holds(c, version); })) continue;
        if (version.prerelease.empty()) return true;
        // A pre-release only where the range names one on the same major.minor.patch.
        if (std::any_of(set.begin(), set.end(), [&](const Comparator& c) {
                return !c.version.prerelease.empty() && c.version.same_release(version);
            }))
            return true;
    }
    return false;
}

}  // namespace karmor::moving
