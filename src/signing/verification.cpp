// The checks of SPEC §9 in the order signing/checks.hpp lists them, one function (or module) each,
// run by verify_image_signature and verify_artifact_signature.
#include "signing/verification.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <functional>

#include "karmor/reference.hpp"
#include "signing/certificates.hpp"
#include "signing/keyless.hpp"
#include "signing/signature_schemes.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::signing {
namespace {

struct Claims {
    std::string digest;                          // legacy: as written
    std::map<std::string, std::string> digests;  // bundle: algorithm → hex
    std::string identity;                        // empty: the signature names no repository
    std::map<std::string, std::string> annotations;
};

// What a signature covers: bytes to verify it over, or (a message signature checked by the
// artifact's digest alone) a digest.
struct SignedMessage {
    std::optional<std::string> bytes;
    std::string hash_name;  // with a digest
    std::string digest;
};

bool signature_verifies(EVP_PKEY* key, const SignedMessage& message, bool message_signature,
                        std::string_view signature) {
    if (message.bytes) {
        if (verify_message_signature(key, *message.bytes, signature)) return true;
        // A hashedrekord (message) signature by an Ed25519 key is Ed25519ph.
        return message_signature && EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 &&
               verify_prehashed_signature(key, "sha512", util::digest_raw("sha512", *message.bytes), *message.bytes,
                                          signature);
    }
    return verify_prehashed_signature(key, message.hash_name, message.digest, {}, signature);
}

// Who signed: the certificate's key (keyless) or the given keys.
struct Signer {
    X509Ptr leaf;
    EvpPkeyPtr certificate_key;
    const PublicKey* key = nullptr;  // the given key the signature verifies under
    std::string signature;           // the signature that verified
};

CheckOutcome check_signer_material(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                                   Signer& signer) {
    if (!candidate.certificate_der.empty()) {
        if (!policy.keyless)
            return fail_check(check::certificate,
                              policy.keys.empty()
                                  ? "it carries a certificate, and no trusted root and identity were given to check it"
                                  : "it carries a certificate (a keyless signature): pass --trusted-root with "
                                    "--certificate-identity and --certificate-oidc-issuer to check it");
        if (candidate.der_signatures.size() != 1)
            return fail_check(check::well_formed, "a keyless signature carries exactly one signature, this one " +
                                                      std::to_string(candidate.der_signatures.size()));
        signer.leaf = parse_der_certificate(candidate.certificate_der);
        if (!signer.leaf) return fail_check(check::certificate, "its certificate is not DER X.509");
        signer.certificate_key.reset(X509_get_pubkey(signer.leaf.get()));
        ERR_clear_error();
        if (!signer.certificate_key) return fail_check(check::certificate, "its certificate has no readable key");
        if (auto type = supported_key_type(signer.certificate_key.get(), "its certificate's key"); !type)
            return fail_check(check::certificate, type.error().message);
        return {};
    }
    if (policy.keys.empty())
        return fail_check(policy.keyless ? check::certificate : check::signature,
                          policy.keyless ? "it carries no certificate (it was made with a key; pass --key to check it)"
                                         : "no public key was given");
    return {};
}

CheckOutcome check_signature(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                             const SignedMessage& message, Signer& signer, std::vector<std::string>& verified_by) {
    if (signer.certificate_key) {
        if (!signature_verifies(signer.certificate_key.get(), message, candidate.message_signature,
                                candidate.der_signatures.front()))
            return fail_check(check::signature, "the signature does not verify under the certificate's key");
        signer.signature = candidate.der_signatures.front();
        return {};
    }
    for (const auto& key : policy.keys) {
        for (const auto& signature : candidate.der_signatures) {
            if (signature_verifies(key.evp(), message, candidate.message_signature, signature)) {
                verified_by.push_back(key.source.empty() ? key.hint() : key.source);
                if (!signer.key) {
                    signer.key = &key;
                    signer.signature = signature;
                }
                break;
            }
        }
    }
    if (verified_by.empty())
        return fail_check(check::signature, candidate.der_signatures.size() == 1
                                                ? "the signature does not verify under any given key"
                                                : "none of its signatures verifies under any given key");
    return {};
}

// The content a log entry must record: the same signature, signer and content.
SignedContent logged_content(const SignatureCandidate& candidate, const Signer& signer) {
    SignedContent content;
    content.dsse = candidate.format == SignatureFormat::bundle && !candidate.message_signature;
    content.payload = candidate.payload;
    content.payload_type = candidate.payload_type;
    if (candidate.message_signature) {
        content.message_digest = candidate.message_digest;
        content.message_digest_algorithm = candidate.message_digest_algorithm;
    }
    content.signature = signer.signature;
    if (signer.leaf)
        content.certificate_der = certificate_der(signer.leaf.get());
    else if (signer.key)
        content.public_key_der = public_key_der(signer.key->evp());
    return content;
}

// ---- what a cosign image signature says ----

CheckOutcome check_payload(const SignatureCandidate& candidate, Claims& claims) {
    if (candidate.format == SignatureFormat::legacy) {
        auto parsed = parse_simple_signing_payload(candidate.payload);
        if (!parsed) return fail_check(check::payload, parsed.error().message);
        claims.digest = parsed->digest;
        claims.identity = parsed->identity;
        claims.annotations = parsed->annotations;
        return {};
    }
    if (candidate.message_signature)
        return fail_check(check::payload, "it is a message signature (of a blob), which names no manifest");
    if (candidate.payload_type != in_toto_payload_type)
        return fail_check(check::payload, "the DSSE payload type is \"" + candidate.payload_type + "\", not \"" +
                                              in_toto_payload_type + "\"");
    auto parsed = parse_sign_statement(candidate.payload);
    if (!parsed) return fail_check(check::payload, parsed.error().message);
    claims.digests = parsed->digests;
    claims.identity = parsed->name;
    claims.annotations = parsed->annotations;
    return {};
}

CheckOutcome check_digest(const SignatureCandidate& candidate, const Claims& claims, const Digest& expected) {
    if (candidate.format == SignatureFormat::legacy) {
        if (claims.digest != expected.str())
            return fail_check(check::digest, "it signs " +
                                                 (claims.digest.empty() ? std::string("no digest") : claims.digest) +
                                                 ", not " + expected.str());
        return {};
    }
    const auto it = claims.digests.find(expected.algorithm());
    if (it == claims.digests.end())
        return fail_check(check::digest, "its subject has no " + expected.algorithm() +
                                             " digest, so it does not name " + expected.str());
    if (it->second != expected.hex())
        return fail_check(check::digest,
                          "its subject is " + expected.algorithm() + ":" + it->second + ", not " + expected.str());
    return {};
}

CheckOutcome check_identity(const SignatureCandidate& candidate, const Claims& claims,
                            const ExpectedSubject& expected) {
    // Cosign's bundles name no repository: the digest is their only claim.
    if (candidate.format == SignatureFormat::bundle && claims.identity.empty()) return {};
    std::string why;
    if (!identity_matches(claims.identity, expected, why)) return fail_check(check::identity, why);
    return {};
}

CheckOutcome check_annotations(const Claims& claims, const ExpectedSubject& expected) {
    for (const auto& [key, value] : expected.annotations) {
        const auto it = claims.annotations.find(key);
        if (it == claims.annotations.end())
            return fail_check(check::annotations, "it does not carry the annotation " + key);
        if (it->second != value)
            return fail_check(check::annotations,
                              "its annotation " + key + " is \"" + it->second + "\", not \"" + value + "\"");
    }
    return {};
}

// ---- what a bundle of a blob or attestation covers ----

CheckOutcome check_artifact(const SignatureCandidate& candidate, const ExpectedArtifact& expected) {
    if (candidate.format != SignatureFormat::bundle)
        return fail_check(check::artifact, "a legacy cosign signature signs an image manifest, not an artifact");
    if (candidate.message_signature) {
        // The digest is a hint the signature already covered; a wrong one is still refused.
        const auto recomputed =
            expected.bytes ? util::digest_raw(candidate.message_digest_algorithm, *expected.bytes)
                           : (candidate.message_digest_algorithm == "sha256" ? expected.sha256 : std::string());
        if (recomputed.empty() || recomputed != candidate.message_digest)
            return fail_check(check::artifact, "the bundle's message digest is not the artifact's " +
                                                   candidate.message_digest_algorithm);
        return {};
    }
    if (candidate.payload_type != in_toto_payload_type)
        return fail_check(check::artifact, "the DSSE payload type is \"" + candidate.payload_type +
                                               "\", not an in-toto statement about the artifact");
    auto subjects = parse_statement_subjects(candidate.payload);
    if (!subjects) return fail_check(check::artifact, subjects.error().message);
    const auto sha256 = util::to_hex(expected.sha256);
    for (const auto& subject : *subjects) {
        const auto digest = subject.find("sha256");
        if (digest != subject.end() && digest->second == sha256) return {};
        for (const char* algorithm : {"sha384", "sha512"}) {
            const auto other = subject.find(algorithm);
            if (expected.bytes && other != subject.end() &&
                other->second == util::to_hex(util::digest_raw(algorithm, *expected.bytes)))
                return {};
        }
    }
    return fail_check(check::artifact, "no subject of its statement has the artifact's digest sha256:" + sha256);
}

// ---- the pipeline ----

using ContentCheck = std::function<CheckOutcome(SignatureVerdict&)>;

SignatureVerdict run_checks(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                            const SignedMessage& message, const ContentCheck& content_checks) {
    SignatureVerdict verdict;
    verdict.candidate = candidate;
    const auto passed = [&](const CheckOutcome& outcome, const char* name) {
        if (outcome.passed) {
            if (name) verdict.passed_checks.push_back(name);
            return true;
        }
        verdict.failed_check = outcome.check;
        verdict.reason = outcome.reason;
        return false;
    };
    if (!candidate.problem.empty() && !passed(fail_check(check::well_formed, candidate.problem), nullptr))
        return verdict;
    if (candidate.der_signatures.empty() && !passed(fail_check(check::well_formed, "it carries no signature"), nullptr))
        return verdict;
    verdict.passed_checks.push_back(check::well_formed);
    Signer signer;
    const auto material = check_signer_material(candidate, policy, signer);
    if (!passed(material, signer.leaf ? check::certificate : nullptr)) return verdict;
    if (!passed(check_signature(candidate, policy, message, signer, verdict.keys), check::signature)) return verdict;

    const auto* root = policy.trusted_root.get();
    if (!root && policy.keyless) root = policy.keyless->trusted_root.get();
    if (root) {
        TimeEvidence evidence;
        TimeMaterial evidence_material{&candidate.tlog_entries, &candidate.rfc3161_timestamps,
                                       candidate.bundle_version};
        const auto outcome = check_logs_and_timestamps(evidence_material, logged_content(candidate, signer), *root,
                                                       policy.transparency, signer.leaf != nullptr, evidence);
        verdict.passed_checks.insert(verdict.passed_checks.end(), evidence.passed.begin(), evidence.passed.end());
        if (!passed(outcome, nullptr)) return verdict;
        verdict.signing_times = evidence.times;
        if (!evidence.times.empty()) verdict.logged_at = evidence.times.front().time;
    }
    if (signer.leaf) {
        CertificateClaims claims;
        std::vector<std::string> certificate_checks;
        const auto outcome = check_certificate(signer.leaf.get(), *root, verdict.signing_times, *policy.keyless, claims,
                                               certificate_checks);
        verdict.passed_checks.insert(verdict.passed_checks.end(), certificate_checks.begin(), certificate_checks.end());
        verdict.certificate_identity = describe_identities(claims.identities);
        verdict.certificate_issuer = claims.issuer;
        if (!passed(outcome, nullptr)) return verdict;
        verdict.keys.push_back("certificate of " + verdict.certificate_identity + " (issuer " + claims.issuer +
                               (verdict.signing_times.empty()
                                    ? std::string()
                                    : ", signed " + util::format_rfc3339_utc(verdict.signing_times.front().time)) +
                               ")");
    }
    if (!passed(content_checks(verdict), nullptr)) return verdict;
    verdict.verified = true;
    return verdict;
}

std::string fold_docker_hub(const std::string& registry) {
    if (registry == "index.docker.io" || registry == "registry-1.docker.io") return "docker.io";
    return registry;
}

}  // namespace

const char* to_string(SignatureFormat format) {
    return format == SignatureFormat::bundle ? "bundle" : "legacy";
}

SignatureVerdict verify_image_signature(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                                        const ExpectedSubject& expected) {
    SignedMessage message;
    message.bytes = candidate.format == SignatureFormat::bundle && !candidate.message_signature
                        ? dsse_pae(candidate.payload_type, candidate.payload)
                        : candidate.payload;
    return run_checks(candidate, policy, message, [&](SignatureVerdict& verdict) {
        Claims claims;
        if (auto outcome = check_payload(candidate, claims); !outcome.passed) return outcome;
        verdict.passed_checks.push_back(check::payload);
        verdict.signed_identity = claims.identity;
        verdict.signed_annotations = claims.annotations;
        for (const auto& [outcome, name] : {std::pair{check_digest(candidate, claims, expected.digest), check::digest},
                                            std::pair{check_identity(candidate, claims, expected), check::identity},
                                            std::pair{check_annotations(claims, expected), check::annotations}}) {
            if (!outcome.passed) return outcome;
            verdict.passed_checks.push_back(name);
        }
        return CheckOutcome{};
    });
}

SignatureVerdict verify_artifact_signature(const SignatureCandidate& candidate, const VerificationPolicy& policy,
                                           const ExpectedArtifact& expected) {
    ExpectedArtifact artifact = expected;
    if (artifact.bytes) artifact.sha256 = util::sha256_raw(*artifact.bytes);
    SignedMessage message;
    if (!candidate.message_signature) {
        message.bytes = dsse_pae(candidate.payload_type, candidate.payload);
    } else if (artifact.bytes) {
        message.bytes = *artifact.bytes;
    } else {
        message.hash_name = "sha256";
        message.digest = artifact.sha256;
    }
    return run_checks(candidate, policy, message, [&](SignatureVerdict& verdict) {
        auto outcome = check_artifact(candidate, artifact);
        if (outcome.passed) verdict.passed_checks.push_back(check::artifact);
        return outcome;
    });
}

SignatureVerdict verify_signature(const SignatureCandidate& candidate, const std::vector<PublicKey>& keys,
                                  const ExpectedSubject& expected) {
    VerificationPolicy policy;
    policy.keys = keys;
    return verify_image_signature(candidate, policy, expected);
}

bool spells_a_tag(const std::string& reference) {
    const auto name = reference.substr(0, reference.find('@'));
    const auto slash = name.rfind('/');
    return name.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos;
}

std::string canonical_repository(const std::string& registry, const std::string& repository) {
    return fold_docker_hub(registry) + "/" + repository;
}

bool identity_matches(const std::string& claimed, const ExpectedSubject& expected, std::string& why) {
    if (claimed.empty()) {
        why = "it names no repository";
        return false;
    }
    auto reference = Reference::parse(claimed);
    if (!reference) {
        why = "it names \"" + claimed + "\", which is not a reference";
        return false;
    }
    const auto repository = canonical_repository(reference->registry(), reference->repository());
    auto wanted = Reference::parse(expected.repository);
    const auto wanted_repository =
        wanted ? canonical_repository(wanted->registry(), wanted->repository()) : expected.repository;
    if (repository != wanted_repository) {
        why = "it names the repository " + repository + ", not " + wanted_repository;
        return false;
    }
    if (spells_a_tag(claimed) && !expected.tag.empty() && reference->tag() != expected.tag) {
        why = "it names the tag " + reference->tag() + ", not " + expected.tag;
        return false;
    }
    if (reference->digest() && *reference->digest() != expected.digest) {
        why = "it names " + reference->digest()->str() + ", not " + expected.digest.str();
        return false;
    }
    return true;
}

}  // namespace karmor::signing
