// Keyless (certificate-based) signatures against a Sigstore trusted root (SPEC §9, issue 16): the
// certificate chains to a trusted CA at every verified signing time and is for code signing, it
// carries a valid SCT, and it names the expected identity, issuer and GitHub workflow claims.
// The signature, log and timestamp checks around these run in verification.cpp.
#pragma once

#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "karmor/result.hpp"
#include "signing/checks.hpp"
#include "signing/signing_time.hpp"
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

// What a certificate says, for checks and messages.
struct CertificateClaims {
    std::vector<std::string> identities;  // SAN URIs and e-mail addresses
    std::string issuer;                   // 1.3.6.1.4.1.57264.1.8, else .1.1
    std::string github_workflow_trigger, github_workflow_sha, github_workflow_name, github_workflow_repository,
        github_workflow_ref;
};
CertificateClaims read_certificate_claims(X509* certificate);
std::string describe_identities(const std::vector<std::string>& identities);

// The certificate checks, in order: certificate-chain (at every time of `times`, to a CA of the
// root valid then, for code signing), sct (unless ignored), certificate-identity,
// certificate-oidc-issuer, github-workflow. `passed` gets the names of those that passed.
CheckOutcome check_certificate(X509* leaf, const TrustedRoot& root, const std::vector<SigningTime>& times,
                               const KeylessPolicy& policy, CertificateClaims& claims,
                               std::vector<std::string>& passed);

// verify_image_signature with this keyless policy and its trusted root, and no key.
SignatureVerdict verify_keyless_signature(const SignatureCandidate& candidate, const KeylessPolicy& policy,
                                          const ExpectedSubject& expected);

}  // namespace karmor::signing
