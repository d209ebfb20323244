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

// --trusted-root and the certificate flags of keyless verification (issue 16), named as cosign
// names them; shared by verify, pull, follow (through VerifyKeyFlags) and any command that checks
// signatures.
struct KeylessFlags {
    std::string trusted_root;
    std::string identity;
    std::string identity_regexp;
    std::string oidc_issuer;
    std::string oidc_issuer_regexp;
    std::string github_workflow_trigger;
    std::string github_workflow_sha;
    std::string github_workflow_name;
    std::string github_workflow_repository;
    std::string github_workflow_ref;
    bool insecure_ignore_sct = false;
    bool insecure_ignore_tlog = false;
    bool use_signed_timestamps = false;

    void add_to(CLI::App& command);
    // std::nullopt without --trusted-root; a certificate flag without it, or --trusted-root
    // without an identity and an issuer, is a usage error (as in cosign).
    Result<std::optional<KeylessRequirements>> resolve() const;
};

// --verify-key, --verify-annotation, --signed-identity and the keyless flags: what pull, follow
// (and apply) check before they write anything (SPEC §9). One add_to call adds them all.
struct VerifyKeyFlags {
    std::vector<std::string> keys;
    std::vector<std::string> annotations;
    std::string signed_identity;
    KeylessFlags keyless;

    // `verb` says what a verified signature allows, e.g. "pull" or "apply a version".
    void add_to(CLI::App& command, const std::string& verb);
    // std::nullopt without --verify-key or --trusted-root; --verify-annotation or --signed-identity
    // without either is a usage error rather than a check silently not made.
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
