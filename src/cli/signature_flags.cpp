#include "cli/signature_flags.hpp"

namespace karmor::cli {

void VerifyKeyFlags::add_to(CLI::App& command, const std::string& verb) {
    command
        .add_option("--verify-key", keys,
                    verb + " only if a cosign signature verifies under this public key (repeatable; checked before "
                           "anything is written; exit code 8 otherwise)")
        ->check(CLI::ExistingFile);
    command.add_option("--verify-annotation", annotations,
                       "with --verify-key: require the signed annotation KEY=VALUE (repeatable)");
    command.add_option("--signed-identity", signed_identity,
                       "with --verify-key: REGISTRY/REPO the signatures must name instead of REF's (a mirror)");
}

Result<std::optional<SignatureRequirements>> VerifyKeyFlags::resolve() const {
    if (keys.empty()) {
        if (!annotations.empty() || !signed_identity.empty())
            return unexpected(Error(ErrorKind::usage, "--verify-annotation and --signed-identity need --verify-key",
                                    "pass --verify-key NAME.pub"));
        return std::optional<SignatureRequirements>();
    }
    SignatureRequirements requirements;
    for (const auto& key : keys) requirements.public_keys.emplace_back(key);
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
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return unexpected(Error(ErrorKind::usage, flag + " \"" + pair + "\" is not KEY=VALUE",
                                    "for example " + flag + " team=security"));
        out[pair.substr(0, eq)] = pair.substr(eq + 1);
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
        } else {
            out << indent << "          " << r.failed_check << ": " << r.reason << "\n";
        }
    }
}

}  // namespace karmor::cli
