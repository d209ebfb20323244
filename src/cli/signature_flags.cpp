#include "cli/signature_flags.hpp"

namespace karmor::cli {

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
