// The keyless checks of issue 16, in order; each says which link failed.
#include "signing/keyless.hpp"

#include <openssl/asn1.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "util/encoding.hpp"
#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

struct Outcome {
    bool passed = true;
    const char* check = nullptr;
    std::string reason;
};

Outcome fail(const char* check_name, std::string reason) {
    return {false, check_name, std::move(reason)};
}

constexpr std::size_t max_claim_bytes = 4096;

Outcome check_log_entry(const TlogEntry& entry, const TrustedRoot& root, const SignedContent& content) {
    const auto* log = root.find_tlog(entry.log_id);
    if (!log)
        return fail(check::transparency_log, "its log entry is from log " + util::to_hex(entry.log_id) +
                                                 ", which is not in the trusted root " + root.source);
    if (!log->key)
        return fail(check::transparency_log, "the log " + log->base_url + " cannot be used: " + log->unusable);
    if (entry.signed_entry_timestamp.empty())
        return fail(check::signed_entry_timestamp,
                    std::string("its log entry has no signed entry timestamp (SET), so its integrated time is signed "
                                "by nobody") +
                        (entry.inclusion_proof ? " (an inclusion proof proves membership, not time)" : ""));
    if (!log->verify(set_signed_payload(entry), entry.signed_entry_timestamp))
        return fail(check::signed_entry_timestamp,
                    "its signed entry timestamp (SET) does not verify under the key of log " + log->base_url +
                        " from the trusted root");
    if (!log->valid.contains(entry.integrated_time))
        return fail(check::signed_entry_timestamp, "the key of log " + log->base_url + " was not valid at " +
                                                       util::format_rfc3339_utc(entry.integrated_time) +
                                                       " per the trusted root");
    if (entry.inclusion_proof) {
        const auto& proof = *entry.inclusion_proof;
        auto checkpoint = verify_checkpoint(proof.checkpoint, *log);
        if (!checkpoint) return fail(check::checkpoint, checkpoint.error().message);
        if (checkpoint->size != proof.tree_size || checkpoint->root_hash != proof.root_hash)
            return fail(check::checkpoint, "the signed checkpoint is of another tree (size " +
                                               std::to_string(checkpoint->size) + ") than the inclusion proof's (" +
                                               std::to_string(proof.tree_size) + ")");
        if (!verify_inclusion(proof.log_index, proof.tree_size, merkle_leaf_hash(entry.canonical_body), proof.hashes,
                              proof.root_hash))
            return fail(check::inclusion_proof, "the inclusion proof of entry " + std::to_string(proof.log_index) +
                                                    " does not lead to the signed root hash of a tree of " +
                                                    std::to_string(proof.tree_size));
    }
    std::string why;
    if (!entry_records(entry, content, why))
        return fail(check::log_entry_body,
                    "the log entry " + std::to_string(entry.log_index) + " does not record this signature: " + why);
    return {};
}

struct ChainResult {
    Outcome outcome;
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
        return {fail(check::certificate_chain,
                     "no certificate authority of the trusted root was valid at the signing time " + when),
                nullptr};
    return {fail(check::certificate_chain,
                 "the certificate does not chain to a certificate authority of the trusted root valid at " + when +
                     ": " + last_error),
            nullptr};
}

Outcome check_code_signing(X509* leaf) {
    const auto usage = X509_get_extended_key_usage(leaf);
    if (usage == UINT32_MAX || (usage & XKU_CODE_SIGN) == 0)
        return fail(check::certificate_chain, "the certificate is not for code signing (no codeSigning extended key "
                                              "usage), so its CA did not issue it to sign artifacts");
    return {};
}

void put_u64(std::string& out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// RFC 6962 §3.2: the signed data of an SCT over a precertificate — the leaf's TBSCertificate
// without the SCT list, and the hash of its issuer's key.
Outcome check_sct(X509* leaf, X509* issuer, const TrustedRoot& root) {
    using SctList = STACK_OF(SCT);
    std::unique_ptr<SctList, void (*)(SctList*)> scts(
        static_cast<SctList*>(X509_get_ext_d2i(leaf, NID_ct_precert_scts, nullptr, nullptr)),
        [](SctList* list) { SCT_LIST_free(list); });
    ERR_clear_error();
    if (!scts || sk_SCT_num(scts.get()) == 0)
        return fail(check::sct, "the certificate has no embedded SCT, so no CT log saw it issued (pass "
                                "--insecure-ignore-sct to accept that, as cosign's flag does)");
    if (!issuer) return fail(check::sct, "the certificate's issuer is unknown, so its SCT cannot be checked");
    std::unique_ptr<X509, decltype(&X509_free)> copy(X509_dup(leaf), X509_free);
    if (!copy) return fail(check::sct, "out of memory");
    const int index = X509_get_ext_by_NID(copy.get(), NID_ct_precert_scts, -1);
    X509_EXTENSION_free(X509_delete_ext(copy.get(), index));
    unsigned char* tbs_der = nullptr;
    const int tbs_size = i2d_re_X509_tbs(copy.get(), &tbs_der);
    if (tbs_size <= 0) return fail(check::sct, "cannot encode the certificate without its SCT list");
    const std::string tbs(reinterpret_cast<const char*>(tbs_der), static_cast<std::size_t>(tbs_size));
    OPENSSL_free(tbs_der);
    unsigned char* key_der = nullptr;
    const int key_size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &key_der);
    if (key_size <= 0) return fail(check::sct, "cannot encode the issuer's key");
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
    return fail(check::sct, reason);
}

std::string identities_text(const std::vector<std::string>& identities) {
    if (identities.empty()) return "no URI or e-mail identity";
    std::string out;
    for (const auto& identity : identities) out += (out.empty() ? "" : ", ") + identity;
    return out;
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

SignatureVerdict verify_keyless_signature(const SignatureCandidate& candidate, const KeylessPolicy& policy,
                                          const ExpectedSubject& expected) {
    SignatureVerdict verdict;
    verdict.candidate = candidate;
    const auto stop = [&](const Outcome& outcome) {
        if (outcome.passed) return false;
        verdict.failed_check = outcome.check;
        verdict.reason = outcome.reason;
        return true;
    };
    if (!candidate.problem.empty() && stop(fail(check::well_formed, candidate.problem))) return verdict;
    if (candidate.der_signatures.size() != 1 &&
        stop(fail(check::well_formed, "a keyless signature carries exactly one signature, this one " +
                                          std::to_string(candidate.der_signatures.size()))))
        return verdict;
    if (!policy.trusted_root) {
        stop(fail(check::certificate, "no trusted root was given (--trusted-root)"));
        return verdict;
    }
    const auto& root = *policy.trusted_root;
    auto leaf = parse_der_certificate(candidate.certificate_der);
    if (!leaf) {
        stop(fail(check::certificate, "its certificate is not DER X.509"));
        return verdict;
    }
    EvpPkeyPtr key(X509_get_pubkey(leaf.get()));
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
        stop(fail(check::certificate, "its certificate's key is not an ECDSA key"));
        return verdict;
    }

    // The signing time: the integrated time of an entry whose SET verifies and which records this
    // signature and certificate.
    if (candidate.tlog_entries.empty()) {
        stop(fail(check::transparency_log,
                  "it has no transparency-log entry, so nothing says when it was made while the short-lived "
                  "certificate was valid"));
        return verdict;
    }
    SignedContent content;
    content.dsse = candidate.format == SignatureFormat::bundle;
    content.payload = candidate.payload;
    content.payload_type = candidate.payload_type;
    content.signature = candidate.der_signatures.front();
    content.certificate_der = certificate_der(leaf.get());
    std::optional<std::int64_t> signing_time;
    Outcome first_failure;
    for (const auto& entry : candidate.tlog_entries) {
        auto outcome = check_log_entry(entry, root, content);
        if (outcome.passed) {
            signing_time = entry.integrated_time;
            break;
        }
        if (first_failure.passed) first_failure = std::move(outcome);
    }
    if (!signing_time) {
        stop(first_failure);
        return verdict;
    }

    auto chain = check_chain(leaf.get(), root, *signing_time);
    if (stop(chain.outcome)) return verdict;
    if (stop(check_code_signing(leaf.get()))) return verdict;
    if (!policy.ignore_sct && stop(check_sct(leaf.get(), chain.issuer.get(), root))) return verdict;

    const auto claims = read_certificate_claims(leaf.get());
    verdict.certificate_identity = identities_text(claims.identities);
    verdict.certificate_issuer = claims.issuer;
    verdict.logged_at = *signing_time;
    bool identity_ok = false;
    for (const auto& identity : claims.identities) identity_ok = identity_ok || policy.identity.matches(identity);
    if (!identity_ok &&
        stop(fail(check::certificate_identity, "the certificate is for " + identities_text(claims.identities) +
                                                   ", not " + policy.identity.describe())))
        return verdict;
    if (!policy.issuer.matches(claims.issuer) &&
        stop(fail(check::certificate_issuer,
                  "the certificate's OIDC issuer is " +
                      (claims.issuer.empty() ? std::string("missing") : "\"" + claims.issuer + "\"") + ", not " +
                      policy.issuer.describe())))
        return verdict;
    const std::pair<const std::string*, const std::string*> github[] = {
        {&policy.github_workflow_trigger, &claims.github_workflow_trigger},
        {&policy.github_workflow_sha, &claims.github_workflow_sha},
        {&policy.github_workflow_name, &claims.github_workflow_name},
        {&policy.github_workflow_repository, &claims.github_workflow_repository},
        {&policy.github_workflow_ref, &claims.github_workflow_ref}};
    const char* github_names[] = {"trigger", "sha", "name", "repository", "ref"};
    for (std::size_t i = 0; i < std::size(github); ++i) {
        if (github[i].first->empty() || *github[i].first == *github[i].second) continue;
        stop(fail(check::github_workflow, std::string("the certificate's GitHub workflow ") + github_names[i] +
                                              " is \"" + *github[i].second + "\", not \"" + *github[i].first + "\""));
        return verdict;
    }

    PublicKey certificate_key(std::move(key));
    certificate_key.source = "certificate of " + identities_text(claims.identities) + " (issuer " + claims.issuer +
                             ", logged " + util::format_rfc3339_utc(*signing_time) + ")";
    auto checked = verify_signature(candidate, {certificate_key}, expected);
    checked.certificate_identity = verdict.certificate_identity;
    checked.certificate_issuer = verdict.certificate_issuer;
    checked.logged_at = verdict.logged_at;
    return checked;
}

}  // namespace karmor::signing
