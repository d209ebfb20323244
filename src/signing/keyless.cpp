// The keyless checks of issue 16, in order; each says which link failed.
#include "signing/keyless.hpp"

#include <openssl/asn1.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "signing/sigstore_bundle.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

constexpr std::size_t max_claim_bytes = 4096;

struct ChainResult {
    CheckOutcome outcome;
    X509Ptr issuer;  // the certificate that issued the leaf, for the SCT
};

ChainResult check_chain(X509* leaf, const TrustedRoot& root, std::int64_t time) {
    const auto when = util::format_rfc3339_utc(time);
    std::string last_error;
    bool any_valid_authority = false;
    for (const auto& authority : root.certificate_authorities) {
        if (!authority.valid.contains(time) || authority.chain.empty()) continue;
        any_valid_authority = true;
        auto path = verify_certificate_path(leaf, authority.chain, time);
        if (path.valid) return {{}, path.chain.size() >= 2 ? path.chain[1] : nullptr};
        last_error = path.error;
        if (path.outside_validity) last_error += " at the signing time " + when;
    }
    if (!any_valid_authority)
        return {fail_check(check::certificate_chain,
                           "no certificate authority of the trusted root was valid at the signing time " + when),
                nullptr};
    return {fail_check(check::certificate_chain,
                       "the certificate does not chain to a certificate authority of the trusted root valid at " +
                           when + ": " + last_error),
            nullptr};
}

CheckOutcome check_code_signing(X509* leaf) {
    const auto usage = X509_get_extended_key_usage(leaf);
    if (usage == UINT32_MAX || (usage & XKU_CODE_SIGN) == 0)
        return fail_check(check::certificate_chain,
                          "the certificate is not for code signing (no codeSigning extended key "
                          "usage), so its CA did not issue it to sign artifacts");
    return {};
}

void put_u64(std::string& out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// RFC 6962 §3.2: the signed data of an SCT over a precertificate — the leaf's TBSCertificate
// without the SCT list, and the hash of its issuer's key.
CheckOutcome check_sct(X509* leaf, X509* issuer, const TrustedRoot& root) {
    using SctList = STACK_OF(SCT);
    std::unique_ptr<SctList, void (*)(SctList*)> scts(
        static_cast<SctList*>(X509_get_ext_d2i(leaf, NID_ct_precert_scts, nullptr, nullptr)),
        [](SctList* list) { SCT_LIST_free(list); });
    ERR_clear_error();
    if (!scts || sk_SCT_num(scts.get()) == 0)
        return fail_check(check::sct, "the certificate has no embedded SCT, so no CT log saw it issued (pass "
                                      "--insecure-ignore-sct to accept that, as cosign's flag does)");
    if (!issuer) return fail_check(check::sct, "the certificate's issuer is unknown, so its SCT cannot be checked");
    std::unique_ptr<X509, decltype(&X509_free)> copy(X509_dup(leaf), X509_free);
    if (!copy) return fail_check(check::sct, "out of memory");
    const int index = X509_get_ext_by_NID(copy.get(), NID_ct_precert_scts, -1);
    X509_EXTENSION_free(X509_delete_ext(copy.get(), index));
    unsigned char* tbs_der = nullptr;
    const int tbs_size = i2d_re_X509_tbs(copy.get(), &tbs_der);
    if (tbs_size <= 0) return fail_check(check::sct, "cannot encode the certificate without its SCT list");
    const std::string tbs(reinterpret_cast<const char*>(tbs_der), static_cast<std::size_t>(tbs_size));
    OPENSSL_free(tbs_der);
    unsigned char* key_der = nullptr;
    const int key_size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &key_der);
    if (key_size <= 0) return fail_check(check::sct, "cannot encode the issuer's key");
    const auto issuer_key_hash =
        util::sha256_raw(std::string_view(reinterpret_cast<const char*>(key_der), static_cast<std::size_t>(key_size)));
    OPENSSL_free(key_der);

    std::string reason;
    for (int i = 0; i < sk_SCT_num(scts.get()) && i < 16; ++i) {
        SCT* sct = sk_SCT_value(scts.get(), i);
        if (SCT_get_version(sct) != SCT_VERSION_V1) {
            reason = "its SCT is not version 1";
            continue;
        }
        unsigned char* id = nullptr;
        const auto id_size = SCT_get0_log_id(sct, &id);
        const std::string log_id(reinterpret_cast<const char*>(id), id_size);
        const auto* log = root.find_ctlog(log_id);
        if (!log) {
            reason = "its SCT is signed by CT log " + util::to_hex(log_id) + ", which is not in the trusted root";
            continue;
        }
        const auto timestamp = SCT_get_timestamp(sct);
        if (!log->valid.contains(static_cast<std::int64_t>(timestamp / 1000))) {
            reason = "the key of CT log " + log->base_url + " was not valid when it signed the SCT";
            continue;
        }
        unsigned char* extensions = nullptr;
        const auto extensions_size = SCT_get0_extensions(sct, &extensions);
        unsigned char* signature = nullptr;
        const auto signature_size = SCT_get0_signature(sct, &signature);
        std::string signed_data;
        put_u64(signed_data, 0, 1);  // version v1
        put_u64(signed_data, 0, 1);  // signature type: certificate_timestamp
        put_u64(signed_data, timestamp, 8);
        put_u64(signed_data, 1, 2);  // entry type: precert_entry
        signed_data += issuer_key_hash;
        put_u64(signed_data, tbs.size(), 3);
        signed_data += tbs;
        put_u64(signed_data, extensions_size, 2);
        signed_data.append(reinterpret_cast<const char*>(extensions), extensions_size);
        if (log->verify(signed_data, std::string_view(reinterpret_cast<const char*>(signature), signature_size)))
            return {};
        reason = "its SCT does not verify under the key of CT log " + log->base_url;
    }
    return fail_check(check::sct, reason);
}

}  // namespace

bool ValueMatcher::matches(const std::string& value) const {
    if (!exact.empty()) return value == exact;
    if (regex) return std::regex_search(value, *regex);
    return false;
}

std::string ValueMatcher::describe() const {
    return exact.empty() ? "a match of /" + pattern + "/" : "\"" + exact + "\"";
}

Result<ValueMatcher> make_value_matcher(const std::string& exact, const std::string& pattern, const std::string& flag) {
    ValueMatcher matcher;
    if (!exact.empty() && !pattern.empty())
        return unexpected(
            Error(ErrorKind::usage, "--" + flag + " and --" + flag + "-regexp exclude each other", "pass one of them"));
    matcher.exact = exact;
    matcher.pattern = pattern;
    if (!pattern.empty()) {
        if (pattern.size() > 1024)
            return unexpected(Error(ErrorKind::usage, "--" + flag + "-regexp is longer than 1024 characters"));
        try {
            matcher.regex = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& error) {
            return unexpected(Error(ErrorKind::usage, "--" + flag + "-regexp \"" + pattern +
                                                          "\" is not a regular expression: " + error.what()));
        }
    }
    return matcher;
}

CertificateClaims read_certificate_claims(X509* certificate) {
    CertificateClaims claims;
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    ERR_clear_error();
    if (names) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names) && i < 16; ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
            const ASN1_IA5STRING* text = nullptr;
            if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
            if (name->type == GEN_EMAIL) text = name->d.rfc822Name;
            if (text && ASN1_STRING_length(text) >= 0 &&
                static_cast<std::size_t>(ASN1_STRING_length(text)) <= max_claim_bytes)
                claims.identities.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                               static_cast<std::size_t>(ASN1_STRING_length(text)));
        }
        GENERAL_NAMES_free(names);
    }
    if (auto issuer = der_utf8_extension(certificate, "1.3.6.1.4.1.57264.1.8"))
        claims.issuer = *issuer;
    else if (auto legacy = extension_value(certificate, "1.3.6.1.4.1.57264.1.1"))
        claims.issuer = *legacy;
    claims.github_workflow_trigger = extension_value(certificate, "1.3.6.1.4.1.57264.1.2").value_or("");
    claims.github_workflow_sha = extension_value(certificate, "1.3.6.1.4.1.57264.1.3").value_or("");
    claims.github_workflow_name = extension_value(certificate, "1.3.6.1.4.1.57264.1.4").value_or("");
    claims.github_workflow_repository = extension_value(certificate, "1.3.6.1.4.1.57264.1.5").value_or("");
    claims.github_workflow_ref = extension_value(certificate, "1.3.6.1.4.1.57264.1.6").value_or("");
    return claims;
}

std::string describe_identities(const std::vector<std::string>& identities) {
    if (identities.empty()) return "no URI or e-mail identity";
    std::string out;
    for (const auto& identity : identities) out += (out.empty() ? "" : ", ") + identity;
    return out;
}

CheckOutcome check_certificate(X509* leaf, const TrustedRoot& root, const std::vector<SigningTime>& times,
                               const KeylessPolicy& policy, CertificateClaims& claims,
                               std::vector<std::string>& passed) {
    claims = read_certificate_claims(leaf);
    // Valid at every time something vouches for (sigstore-go's rule): each one is a claim about
    // when the signature was made, and a certificate used outside its life is refused whichever
    // witness says so.
    X509Ptr issuer;
    for (const auto& time : times) {
        auto chain = check_chain(leaf, root, time.time);
        if (!chain.outcome.passed) {
            if (times.size() > 1) chain.outcome.reason += " (the time of the " + time.source + ")";
            return chain.outcome;
        }
        if (!issuer) issuer = std::move(chain.issuer);
    }
    if (times.empty()) return fail_check(check::certificate_chain, "no time was established to check it at");
    if (auto usage = check_code_signing(leaf); !usage.passed) return usage;
    passed.push_back(check::certificate_chain);
    if (!policy.ignore_sct) {
        if (auto sct = check_sct(leaf, issuer.get(), root); !sct.passed) return sct;
        passed.push_back(check::sct);
    }
    bool identity_ok = false;
    for (const auto& identity : claims.identities) identity_ok = identity_ok || policy.identity.matches(identity);
    if (!identity_ok)
        return fail_check(check::certificate_identity, "the certificate is for " +
                                                           describe_identities(claims.identities) + ", not " +
                                                           policy.identity.describe());
    passed.push_back(check::certificate_identity);
    if (!policy.issuer.matches(claims.issuer))
        return fail_check(check::certificate_issuer,
                          "the certificate's OIDC issuer is " +
                              (claims.issuer.empty() ? std::string("missing") : "\"" + claims.issuer + "\"") +
                              ", not " + policy.issuer.describe());
    passed.push_back(check::certificate_issuer);
    const std::pair<const std::string*, const std::string*> github[] = {
        {&policy.github_workflow_trigger, &claims.github_workflow_trigger},
        {&policy.github_workflow_sha, &claims.github_workflow_sha},
        {&policy.github_workflow_name, &claims.github_workflow_name},
        {&policy.github_workflow_repository, &claims.github_workflow_repository},
        {&policy.github_workflow_ref, &claims.github_workflow_ref}};
    const char* github_names[] = {"trigger", "sha", "name", "repository", "ref"};
    bool any_workflow_claim = false;
    for (std::size_t i = 0; i < std::size(github); ++i) {
        if (github[i].first->empty()) continue;
        any_workflow_claim = true;
        if (*github[i].first == *github[i].second) continue;
        return fail_check(check::github_workflow, std::string("the certificate's GitHub workflow ") + github_names[i] +
                                                      " is \"" + *github[i].second + "\", not \"" + *github[i].first +
                                                      "\"");
    }
    if (any_workflow_claim) passed.push_back(check::github_workflow);
    return {};
}

SignatureVerdict verify_keyless_signature(const SignatureCandidate& candidate, const KeylessPolicy& policy,
                                          const ExpectedSubject& expected) {
    VerificationPolicy verification;
    verification.keyless = std::make_shared<const KeylessPolicy>(policy);
    verification.trusted_root = policy.trusted_root;
    return verify_image_signature(candidate, verification, expected);
}

}  // namespace karmor::signing
