#include "cli/signature_flags.hpp"

#include <tuple>

namespace karmor::cli {

void KeylessFlags::add_to(CLI::App& command) {
    command
        .add_option("--trusted-root", trusted_root,
                    "Sigstore trusted_root.json: verify keyless (certificate) signatures offline against its CAs, "
                    "transparency logs and CT logs; needs --certificate-identity and --certificate-oidc-issuer")
        ->check(existing_file());
    command.add_option("--certificate-identity", identity,
                       "keyless: the certificate's SAN (URI or e-mail) must be exactly this");
    command.add_option("--certificate-identity-regexp", identity_regexp,
                       "keyless: the certificate's SAN must contain a match of this regular expression (anchor it "
                       "with ^...$)");
    command.add_option("--certificate-oidc-issuer", oidc_issuer,
                       "keyless: the certificate's OIDC issuer must be exactly this (GitHub Actions: "
                       "https://token.actions.githubusercontent.com)");
    command.add_option("--certificate-oidc-issuer-regexp", oidc_issuer_regexp,
                       "keyless: the certificate's OIDC issuer must contain a match of this regular expression");
    command.add_option("--certificate-github-workflow-trigger", github_workflow_trigger,
                       "keyless: the GitHub event that ran the workflow (e.g. push)");
    command.add_option("--certificate-github-workflow-sha", github_workflow_sha,
                       "keyless: the commit the workflow ran on");
    command.add_option("--certificate-github-workflow-name", github_workflow_name, "keyless: the workflow's name");
    command.add_option("--certificate-github-workflow-repository", github_workflow_repository,
                       "keyless: the repository of the workflow (OWNER/NAME)");
    command.add_option("--certificate-github-workflow-ref", github_workflow_ref,
                       "keyless: the git ref the workflow ran on (e.g. refs/heads/main)");
    command.add_flag("--insecure-ignore-sct", insecure_ignore_sct,
                     "keyless: accept a certificate without a valid embedded SCT from a CT log of the trusted root");
    command.add_flag("--insecure-ignore-tlog", insecure_ignore_tlog,
                     "with --trusted-root: accept a signature without a transparency-log entry (one that is there "
                     "must still verify)");
    command.add_flag("--use-signed-timestamps", use_signed_timestamps,
                     "with --trusted-root: require an RFC 3161 timestamp from a timestamp authority of the root");
}

Result<std::optional<KeylessRequirements>> KeylessFlags::resolve() const {
    // The first certificate flag given, to name it when --trusted-root is missing.
    const std::pair<bool, const char*> given[] = {
        {!identity.empty(), "--certificate-identity"},
        {!identity_regexp.empty(), "--certificate-identity-regexp"},
        {!oidc_issuer.empty(), "--certificate-oidc-issuer"},
        {!oidc_issuer_regexp.empty(), "--certificate-oidc-issuer-regexp"},
        {!github_workflow_trigger.empty(), "--certificate-github-workflow-trigger"},
        {!github_workflow_sha.empty(), "--certificate-github-workflow-sha"},
        {!github_workflow_name.empty(), "--certificate-github-workflow-name"},
        {!github_workflow_repository.empty(), "--certificate-github-workflow-repository"},
        {!github_workflow_ref.empty(), "--certificate-github-workflow-ref"},
        {insecure_ignore_sct, "--insecure-ignore-sct"},
        {insecure_ignore_tlog, "--insecure-ignore-tlog"},
        {use_signed_timestamps, "--use-signed-timestamps"}};
    if (trusted_root.empty()) {
        for (const auto& [set, flag] : given)
            if (set)
                return unexpected(Error(ErrorKind::usage, std::string(flag) + " needs --trusted-root",
                                        "pass --trusted-root trusted_root.json, the trusted root of the Sigstore that "
                                        "issued the certificates"));
        return std::optional<KeylessRequirements>();
    }
    // Neither: the root checks key-based signatures' logs and timestamps (the library refuses it
    // without keys).
    const bool no_identity =
        identity.empty() && identity_regexp.empty() && oidc_issuer.empty() && oidc_issuer_regexp.empty();
    if (!no_identity &&
        ((identity.empty() && identity_regexp.empty()) || (oidc_issuer.empty() && oidc_issuer_regexp.empty())))
        return unexpected(Error(ErrorKind::usage,
                                "--trusted-root needs --certificate-identity (or --certificate-identity-regexp) and "
                                "--certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)",
                                "say whose signatures count, e.g. --certificate-identity "
                                "https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/heads/main "
                                "--certificate-oidc-issuer https://token.actions.githubusercontent.com"));
    for (const auto& [exact, pattern, flag] :
         {std::tuple{&identity, &identity_regexp, "--certificate-identity"},
          std::tuple{&oidc_issuer, &oidc_issuer_regexp, "--certificate-oidc-issuer"}})
        if (!exact->empty() && !pattern->empty())
            return unexpected(Error(ErrorKind::usage, std::string(flag) + " and " + flag + "-regexp exclude each other",
                                    "pass one of them"));
    KeylessRequirements out;
    out.trusted_root = trusted_root;
    out.identity = identity;
    out.identity_regexp = identity_regexp;
    out.oidc_issuer = oidc_issuer;
    out.oidc_issuer_regexp = oidc_issuer_regexp;
    out.github_workflow_trigger = github_workflow_trigger;
    out.github_workflow_sha = github_workflow_sha;
    out.github_workflow_name = github_workflow_name;
    out.github_workflow_repository = github_workflow_repository;
    out.github_workflow_ref = github_workflow_ref;
    out.insecure_ignore_sct = insecure_ignore_sct;
    out.insecure_ignore_tlog = insecure_ignore_tlog;
    out.use_signed_timestamps = use_signed_timestamps;
    return std::optional<KeylessRequirements>(std::move(out));
}

void VerifyKeyFlags::add_to(CLI::App& command, const std::string& verb) {
    command
        .add_option("--verify-key", keys,
                    verb + " only if a cosign signature verifies under this public key (repeatable; checked before "
                           "anything is written; exit code 8 otherwise)")
        ->check(existing_file());
    command.add_option("--verify-annotation", annotations,
                       "with --verify-key or --trusted-root: require the signed annotation KEY=VALUE (repeatable)");
    command.add_option("--signed-identity", signed_identity,
                       "with --verify-key or --trusted-root: REGISTRY/REPO the signatures must name instead of REF's "
                       "(a mirror)");
    keyless.add_to(command);
}

Result<std::optional<SignatureRequirements>> VerifyKeyFlags::resolve() const {
    auto certificates = keyless.resolve();
    if (!certificates) return unexpected(std::move(certificates).error());
    if (keys.empty() && !*certificates) {
        if (!annotations.empty() || !signed_identity.empty())
            return unexpected(Error(ErrorKind::usage,
                                    "--verify-annotation and --signed-identity need --verify-key or --trusted-root",
                                    "pass --verify-key NAME.pub"));
        return std::optional<SignatureRequirements>();
    }
    SignatureRequirements requirements;
    for (const auto& key : keys) requirements.public_keys.emplace_back(key);
    requirements.keyless = std::move(*certificates);
    auto pairs = parse_key_values(annotations, "--verify-annotation");
    if (!pairs) return unexpected(std::move(pairs).error());
    requirements.annotations = std::move(*pairs);
    requirements.signed_identity = signed_identity;
    return std::optional<SignatureRequirements>(std::move(requirements));
}

Result<std::map<std::string, std::string>> parse_key_values(const std::vector<std::string>& pairs,
                                                            const std::string& flag) {
    std::map<std::string, std::string> out;
    for (const auto& pair : pairs) {
        if (auto text = require_utf8(pair, flag); !text) return unexpected(std::move(text).error());
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return unexpected(Error(ErrorKind::usage, flag + " \"" + pair + "\" is not KEY=VALUE",
                                    "for example " + flag + " team=security"));
        // A key given twice would keep one of the values silently (issue 22): say which.
        const auto key = pair.substr(0, eq);
        if (!out.emplace(key, pair.substr(eq + 1)).second)
            return unexpected(Error(ErrorKind::usage, flag + " " + key + " is given twice",
                                    "give each key once: " + flag + " " + key + "=VALUE"));
    }
    return out;
}

nlohmann::ordered_json signature_report_json(const SignatureReport& r) {
    nlohmann::ordered_json out = {{"format", r.format}, {"source", r.source}, {"verified", r.verified}};
    if (!r.key_hint.empty()) out["keyHint"] = r.key_hint;
    out["keys"] = r.keys;
    if (!r.verified) {
        out["failedCheck"] = r.failed_check;
        out["reason"] = r.reason;
    }
    if (!r.certificate_identity.empty())
        out["certificate"] = {
            {"identity", r.certificate_identity}, {"issuer", r.certificate_issuer}, {"loggedAt", r.logged_at}};
    if (!r.checks_passed.empty()) out["checksPassed"] = r.checks_passed;
    if (!r.signing_times.empty()) out["signingTimes"] = r.signing_times;
    if (!r.signed_identity.empty()) out["signedIdentity"] = r.signed_identity;
    if (!r.signed_annotations.empty()) out["annotations"] = r.signed_annotations;
    return out;
}

void print_signature_reports(const std::vector<SignatureReport>& reports, const std::string& indent,
                             std::ostream& out) {
    for (const auto& r : reports) {
        out << indent << (r.verified ? "verified  " : "rejected  ") << r.format << "  " << r.source;
        if (!r.key_hint.empty()) out << "  hint " << r.key_hint;
        out << "\n";
        if (r.verified) {
            out << indent << "          key ";
            for (std::size_t i = 0; i < r.keys.size(); ++i) out << (i ? ", " : "") << r.keys[i];
            if (!r.signed_identity.empty()) out << "; identity " << r.signed_identity;
            out << "\n";
            for (const auto& time : r.signing_times) out << indent << "          signed at " << time << "\n";
        } else {
            out << indent << "          " << r.failed_check << ": " << r.reason << "\n";
        }
        // With --trusted-root (or inspect), what was checked: the named checks passed, in order.
        if (r.checks_passed.size() > 1) {
            out << indent << "          passed";
            for (const auto& check : r.checks_passed) out << " " << check;
            out << "\n";
        }
    }
}

}  // namespace karmor::cli
