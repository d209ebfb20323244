// Keyless (certificate-based) verification of cosign signatures against a Sigstore trusted root
// (SPEC §9, issue 16): the certificate chains to a trusted CA at the signing time, the signing
// time is a log entry's integrated time under a valid SET, the entry records this signature and
// certificate, the certificate names the expected identity and issuer and carries a valid SCT,
// and then the checks of a key-based signature run under the certificate's key.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "karmor/result.hpp"
#include "signing/trusted_root.hpp"
#include "signing/verification.hpp"

namespace karmor::signing {

// --certificate-identity / --certificate-identity-regexp and the like: equal to `exact`, or (as
// cosign, with Go's regexp.MatchString) containing a match of `pattern` (anchor it with ^…$).
struct ValueMatcher {
    std::string exact;
    std::string pattern;
    std::shared_ptr<const std::regex> regex;
    bool empty() const { return exact.empty() && !regex; }
    bool matches(const std::string& value) const;
    std::string describe() const;
};
// `flag` names the option in the error for a pattern that does not compile.
Result<ValueMatcher> make_value_matcher(const std::string& exact, const std::string& pattern, const std::string& flag);

struct KeylessPolicy {
    std::shared_ptr<const TrustedRoot> trusted_root;
    ValueMatcher identity;  // the certificate's SAN (URI or e-mail)
    ValueMatcher issuer;    // the Fulcio OIDC issuer extension
    // cosign's --certificate-github-workflow-*: Fulcio extensions 1.3.6.1.4.1.57264.1.2-.6, exact.
    std::string github_workflow_trigger;
    std::string github_workflow_sha;
    std::string github_workflow_name;
    std::string github_workflow_repository;
    std::string github_workflow_ref;
    bool ignore_sct = false;  // --insecure-ignore-sct
};

namespace check {
inline constexpr const char* certificate = "certificate";
inline constexpr const char* transparency_log = "transparency-log";
inline constexpr const char* signed_entry_timestamp = "signed-entry-timestamp";
inline constexpr const char* inclusion_proof = "inclusion-proof";
inline constexpr const char* checkpoint = "checkpoint";
inline constexpr const char* log_entry_body = "log-entry";
inline constexpr const char* certificate_chain = "certificate-chain";
inline constexpr const char* sct = "sct";
inline constexpr const char* certificate_identity = "certificate-identity";
inline constexpr const char* certificate_issuer = "certificate-oidc-issuer";
inline constexpr const char* github_workflow = "github-workflow";
}  // namespace check

// Runs every keyless check, then the key-based ones under the certificate's key.
SignatureVerdict verify_keyless_signature(const SignatureCandidate& candidate, const KeylessPolicy& policy,
                                          const ExpectedSubject& expected);

// What a certificate says, for checks and messages.
struct CertificateClaims {
    std::vector<std::string> identities;  // SAN URIs and e-mail addresses
    std::string issuer;                   // 1.3.6.1.4.1.57264.1.8, else .1.1
    std::string github_workflow_trigger, github_workflow_sha, github_workflow_name, github_workflow_repository,
        github_workflow_ref;
};
CertificateClaims read_certificate_claims(X509* certificate);

}  // namespace karmor::signing
