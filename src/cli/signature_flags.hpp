// What sign, verify, push --sign, pull --verify-key and inspect --key share: -a KEY=VALUE
// parsing and how signature reports are printed (SPEC §9).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/result.hpp"
#include "karmor/signing.hpp"

namespace karmor::cli {

// --verify-key, --verify-annotation and --signed-identity: what pull and follow check before
// they write anything (SPEC §9).
struct VerifyKeyFlags {
    std::vector<std::string> keys;
    std::vector<std::string> annotations;
    std::string signed_identity;

    // `verb` says what a verified signature allows, e.g. "pull" or "apply a version".
    void add_to(CLI::App& command, const std::string& verb);
    // std::nullopt without --verify-key; --verify-annotation or --signed-identity without it is a
    // usage error rather than a check silently not made.
    Result<std::optional<SignatureRequirements>> resolve() const;
};

// KEY=VALUE pairs; `flag` names the option in messages.
Result<std::map<std::string, std::string>> parse_key_values(const std::vector<std::string>& pairs,
                                                            const std::string& flag);

nlohmann::ordered_json signature_report_json(const SignatureReport& report);
// One line per signature: verified or why not, under which keys.
void print_signature_reports(const std::vector<SignatureReport>& reports, const std::string& indent, std::ostream& out);

// What `sign` and `push --sign` print: the digest on stdout, where each signature went on stderr.
void print_sign_result(const SignResult& result, const OutputFlags& output, Streams& io);

}  // namespace karmor::cli
