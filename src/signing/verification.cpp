// The checks of SPEC §9, one function each, run in order by verify_signature.
#include "signing/verification.hpp"

#include "karmor/reference.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"

namespace karmor::signing {
namespace {

struct Claims {
    std::string digest;                          // legacy: as written
    std::map<std::string, std::string> digests;  // bundle: algorithm → hex
    std::string identity;                        // empty: the signature names no repository
    std::map<std::string, std::string> annotations;
};

struct Outcome {
    bool passed = true;
    std::string reason;
};

Outcome fail(std::string reason) {
    return {false, std::move(reason)};
}

// The bytes a signature covers: the payload itself (legacy), its DSSE PAE (bundle).
std::string signed_bytes(const SignatureCandidate& candidate) {
    if (candidate.format == SignatureFormat::bundle) return dsse_pae(candidate.payload_type, candidate.payload);
    return candidate.payload;
}

Outcome check_signature(const SignatureCandidate& candidate, const std::vector<PublicKey>& keys,
                        std::vector<std::string>& verified_by) {
    if (keys.empty()) return fail("no public key was given");
    const auto message = signed_bytes(candidate);
    for (const auto& key : keys) {
        for (const auto& signature : candidate.der_signatures) {
            if (key.verify(message, signature)) {
                verified_by.push_back(key.source.empty() ? key.hint() : key.source);
                break;
            }
        }
    }
    if (verified_by.empty())
        return fail(candidate.der_signatures.size() == 1 ? "the signature does not verify under any given key"
                                                         : "none of its signatures verifies under any given key");
    return {};
}

Outcome check_payload(const SignatureCandidate& candidate, Claims& claims) {
    if (candidate.format == SignatureFormat::legacy) {
        auto parsed = parse_simple_signing_payload(candidate.payload);
        if (!parsed) return fail(parsed.error().message);
        claims.digest = parsed->digest;
        claims.identity = parsed->identity;
        claims.annotations = parsed->annotations;
        return {};
    }
    if (candidate.payload_type != in_toto_payload_type)
        return fail("the DSSE payload type is \"" + candidate.payload_type + "\", not \"" + in_toto_payload_type +
                    "\"");
    auto parsed = parse_sign_statement(candidate.payload);
    if (!parsed) return fail(parsed.error().message);
    claims.digests = parsed->digests;
    claims.identity = parsed->name;
    claims.annotations = parsed->annotations;
    return {};
}

Outcome check_digest(const SignatureCandidate& candidate, const Claims& claims, const Digest& expected) {
    if (candidate.format == SignatureFormat::legacy) {
        if (claims.digest != expected.str())
            return fail("it signs " + (claims.digest.empty() ? std::string("no digest") : claims.digest) + ", not " +
                        expected.str());
        return {};
    }
    const auto it = claims.digests.find(expected.algorithm());
    if (it == claims.digests.end())
        return fail("its subject has no " + expected.algorithm() + " digest, so it does not name " + expected.str());
    if (it->second != expected.hex())
        return fail("its subject is " + expected.algorithm() + ":" + it->second + ", not " + expected.str());
    return {};
}

Outcome check_identity(const SignatureCandidate& candidate, const Claims& claims, const ExpectedSubject& expected) {
    // Cosign's bundles name no repository: the digest is their only claim.
    if (candidate.format == SignatureFormat::bundle && claims.identity.empty()) return {};
    std::string why;
    if (!identity_matches(claims.identity, expected, why)) return fail(why);
    return {};
}

Outcome check_annotations(const Claims& claims, const ExpectedSubject& expected) {
    for (const auto& [key, value] : expected.annotations) {
        const auto it = claims.annotations.find(key);
        if (it == claims.annotations.end()) return fail("it does not carry the annotation " + key);
        if (it->second != value)
            return fail("its annotation " + key + " is \"" + it->second + "\", not \"" + value + "\"");
    }
    return {};
}

std::string fold_docker_hub(const std::string& registry) {
    if (registry == "index.docker.io" || registry == "registry-1.docker.io") return "docker.io";
    return registry;
}

}  // namespace

const char* to_string(SignatureFormat format) {
    return format == SignatureFormat::bundle ? "bundle" : "legacy";
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

SignatureVerdict verify_signature(const SignatureCandidate& candidate, const std::vector<PublicKey>& keys,
                                  const ExpectedSubject& expected) {
    SignatureVerdict verdict;
    verdict.candidate = candidate;
    const auto stop = [&](const char* name, Outcome outcome) {
        if (outcome.passed) return false;
        verdict.failed_check = name;
        verdict.reason = std::move(outcome.reason);
        return true;
    };
    if (!candidate.problem.empty() && stop(check::well_formed, fail(candidate.problem))) return verdict;
    if (candidate.der_signatures.empty() && stop(check::well_formed, fail("it carries no signature"))) return verdict;
    if (stop(check::signature, check_signature(candidate, keys, verdict.keys))) return verdict;
    Claims claims;
    if (stop(check::payload, check_payload(candidate, claims))) return verdict;
    verdict.signed_identity = claims.identity;
    verdict.signed_annotations = claims.annotations;
    if (stop(check::digest, check_digest(candidate, claims, expected.digest))) return verdict;
    if (stop(check::identity, check_identity(candidate, claims, expected))) return verdict;
    if (stop(check::annotations, check_annotations(claims, expected))) return verdict;
    verdict.verified = true;
    return verdict;
}

}  // namespace karmor::signing
