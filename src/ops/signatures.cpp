// SPEC §9 verification: collecting signatures by digest, then the checks of src/signing.
#include "ops/signatures.hpp"

#include "ops/referrers.hpp"
#include "signing/legacy_signatures.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"
#include "util/time.hpp"

namespace karmor::ops {
namespace {

bool may_be_bundle(const Descriptor& referrer) {
    // Registries without artifactType report the config's media type (the empty one).
    const auto& type = referrer.artifact_type;
    return type.empty() || type == signing::bundle_media_type || type == signing::bundle_media_type_alternate ||
           type == media_type::oci_empty;
}

bool is_bundle_layer_type(const std::string& type) {
    return type == signing::bundle_media_type || type == signing::bundle_media_type_alternate;
}

Result<void> add_legacy(oci::Target& target, const Digest& digest, FoundSignatures& found) {
    const auto tag = signing::legacy_signature_tag(digest);
    const auto where = target.describe(tag);
    auto manifest = target.fetch_manifest(tag);
    if (!manifest) {
        if (manifest.error().kind == ErrorKind::cancelled) return unexpected(std::move(manifest).error());
        found.problems.push_back(where + ": " + manifest.error().message);
        return {};
    }
    if (!*manifest) return {};
    auto layers = signing::read_legacy_signature_layers((*manifest)->manifest, where);
    if (!layers) {
        found.problems.push_back(layers.error().message);
        return {};
    }
    for (std::size_t i = 0; i < layers->size(); ++i) {
        auto& layer = (*layers)[i];
        signing::SignatureCandidate candidate;
        candidate.format = signing::SignatureFormat::legacy;
        candidate.source = where + " layer " + std::to_string(i + 1) + " (" + layer.payload.digest.str() + ")";
        candidate.problem = layer.problem;
        if (candidate.problem.empty()) {
            auto payload = target.fetch_blob(layer.payload, signing::max_payload_bytes, {});
            if (!payload) {
                if (payload.error().kind == ErrorKind::cancelled) return unexpected(std::move(payload).error());
                candidate.problem = "cannot read the payload: " + payload.error().message;
            } else {
                candidate.payload = std::move(*payload);
                candidate.der_signatures.push_back(std::move(layer.der_signature));
                candidate.certificate_der = std::move(layer.certificate_der);
                candidate.tlog_entries = std::move(layer.tlog_entries);
            }
        }
        found.candidates.push_back(std::move(candidate));
    }
    return {};
}

// A referrer that turns out not to be a Sigstore bundle (another kind of artifact) is skipped;
// one that claims to be and cannot be read is a candidate with a problem.
Result<void> add_bundle(oci::Target& target, const Descriptor& referrer, FoundSignatures& found) {
    const auto where = target.where() + "@" + referrer.digest.str();
    auto fetched = target.fetch_manifest(referrer.digest.str());
    if (!fetched) {
        if (fetched.error().kind == ErrorKind::cancelled) return unexpected(std::move(fetched).error());
        if (referrer.artifact_type == signing::bundle_media_type)
            found.problems.push_back(where + ": " + fetched.error().message);
        return {};
    }
    if (!*fetched) return {};
    const auto& m = (*fetched)->manifest;
    const bool claims_bundle = m.artifact_type == signing::bundle_media_type ||
                               (!m.layers.empty() && is_bundle_layer_type(m.layers.front().media_type));
    if (m.is_index() || !claims_bundle) return {};
    signing::SignatureCandidate candidate;
    candidate.format = signing::SignatureFormat::bundle;
    candidate.source = where;
    if (m.layers.size() != 1 || !is_bundle_layer_type(m.layers.front().media_type)) {
        candidate.problem =
            "a bundle referrer has exactly one layer of type " + std::string(signing::bundle_media_type);
    } else if (m.layers.front().size < 0 ||
               static_cast<std::uint64_t>(m.layers.front().size) > signing::max_bundle_bytes) {
        candidate.problem = "the bundle is " + std::to_string(m.layers.front().size) + " bytes, more than the " +
                            std::to_string(signing::max_bundle_bytes) + " allowed";
    } else {
        auto bytes = target.fetch_blob(m.layers.front(), signing::max_bundle_bytes, {});
        if (!bytes) {
            if (bytes.error().kind == ErrorKind::cancelled) return unexpected(std::move(bytes).error());
            candidate.problem = "cannot read the bundle: " + bytes.error().message;
        } else if (auto bundle = signing::parse_dsse_bundle(*bytes); !bundle) {
            candidate.problem = bundle.error().message;
        } else {
            candidate = bundle_candidate(std::move(*bundle), where);
        }
    }
    found.candidates.push_back(std::move(candidate));
    return {};
}

}  // namespace

Result<FoundSignatures> find_signatures(oci::Target& target, const Digest& digest) {
    FoundSignatures found;
    if (auto legacy = add_legacy(target, digest, found); !legacy) return unexpected(std::move(legacy).error());

    auto listing = find_referrers(target, digest, "");
    if (!listing) {
        if (listing.error().kind == ErrorKind::cancelled) return unexpected(std::move(listing).error());
        found.problems.push_back("the referrers of " + digest.str() + ": " + listing.error().message);
        return found;
    }
    std::size_t read = 0;
    for (const auto& referrer : listing->referrers) {
        if (!may_be_bundle(referrer)) continue;
        if (++read > max_bundle_referrers) {
            found.problems.push_back(listing->source + " lists more than " + std::to_string(max_bundle_referrers) +
                                     " possible bundles; only the newest " + std::to_string(max_bundle_referrers) +
                                     " were read");
            break;
        }
        if (auto bundle = add_bundle(target, referrer, found); !bundle) return unexpected(std::move(bundle).error());
    }
    return found;
}

Result<std::vector<signing::PublicKey>> load_public_keys(const std::vector<std::filesystem::path>& files) {
    std::vector<signing::PublicKey> keys;
    for (const auto& file : files) {
        auto key = signing::load_public_key(file);
        if (!key) return unexpected(std::move(key).error());
        keys.push_back(std::move(*key));
    }
    return keys;
}

Result<Verifier> load_verifier(const SignatureRequirements& requirements, const std::string& key_flag) {
    Verifier verifier;
    auto keys = load_public_keys(requirements.public_keys);
    if (!keys) return unexpected(std::move(keys).error());
    verifier.keys = std::move(*keys);
    if (requirements.keyless) {
        const auto& wanted = *requirements.keyless;
        auto root = signing::load_trusted_root(wanted.trusted_root);
        if (!root) {
            // The file is the user's configuration, not the artifact: a root that cannot be used
            // is a usage error (exit 2), never a signature that failed (exit 8).
            auto error = std::move(root).error();
            if (error.kind == ErrorKind::verification) {
                error.kind = ErrorKind::usage;
                error.message = "--trusted-root " + wanted.trusted_root.string() + " cannot be used: " + error.message;
                if (error.hint.empty())
                    error.hint = "give the trusted_root.json of the Sigstore that issued the certificates (`cosign "
                                 "trusted-root create` writes one; the public one comes from Sigstore's TUF "
                                 "repository)";
            }
            return unexpected(std::move(error));
        }
        verifier.trusted_root = std::make_shared<const signing::TrustedRoot>(std::move(*root));
        verifier.transparency.ignore_tlog = wanted.insecure_ignore_tlog;
        verifier.transparency.use_signed_timestamps = wanted.use_signed_timestamps;
        // With keys, a trusted root alone says which logs and timestamp authorities to check.
        if (wanted.checks_certificates() || verifier.keys.empty()) {
            signing::KeylessPolicy policy;
            policy.trusted_root = verifier.trusted_root;
            auto identity =
                signing::make_value_matcher(wanted.identity, wanted.identity_regexp, "certificate-identity");
            if (!identity) return unexpected(std::move(identity).error());
            auto issuer =
                signing::make_value_matcher(wanted.oidc_issuer, wanted.oidc_issuer_regexp, "certificate-oidc-issuer");
            if (!issuer) return unexpected(std::move(issuer).error());
            if (identity->empty() || issuer->empty())
                return unexpected(Error(
                    ErrorKind::usage, "--trusted-root needs the identity and the issuer a certificate must name",
                    "pass --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer (or "
                    "--certificate-oidc-issuer-regexp), e.g. --certificate-oidc-issuer "
                    "https://token.actions.githubusercontent.com; or " +
                        key_flag + " NAME.pub to check key-based signatures against the root's logs"));
            policy.identity = std::move(*identity);
            policy.issuer = std::move(*issuer);
            policy.github_workflow_trigger = wanted.github_workflow_trigger;
            policy.github_workflow_sha = wanted.github_workflow_sha;
            policy.github_workflow_name = wanted.github_workflow_name;
            policy.github_workflow_repository = wanted.github_workflow_repository;
            policy.github_workflow_ref = wanted.github_workflow_ref;
            policy.ignore_sct = wanted.insecure_ignore_sct;
            verifier.keyless = std::make_shared<const signing::KeylessPolicy>(std::move(policy));
        }
    }
    if (verifier.keys.empty() && !verifier.keyless)
        return unexpected(Error(ErrorKind::usage, "no public key or trusted root to verify with",
                                "pass " + key_flag +
                                    " NAME.pub, or --trusted-root FILE with --certificate-identity and "
                                    "--certificate-oidc-issuer"));
    return verifier;
}

signing::SignatureVerdict verify_candidate(const signing::SignatureCandidate& candidate, const Verifier& verifier,
                                           const signing::ExpectedSubject& expected) {
    return signing::verify_image_signature(candidate, verifier, expected);
}

signing::SignatureCandidate bundle_candidate(signing::SigstoreBundle bundle, std::string source) {
    signing::SignatureCandidate candidate;
    candidate.format = signing::SignatureFormat::bundle;
    candidate.source = std::move(source);
    candidate.payload = std::move(bundle.payload);
    candidate.payload_type = std::move(bundle.payload_type);
    candidate.message_signature = bundle.message_signature;
    candidate.message_digest_algorithm = std::move(bundle.message_digest_algorithm);
    candidate.message_digest = std::move(bundle.message_digest);
    candidate.der_signatures = std::move(bundle.der_signatures);
    candidate.key_hint = std::move(bundle.key_hint);
    candidate.certificate_der = std::move(bundle.certificate_der);
    candidate.tlog_entries = std::move(bundle.tlog_entries);
    candidate.rfc3161_timestamps = std::move(bundle.rfc3161_timestamps);
    candidate.bundle_version = bundle.version;
    return candidate;
}

Result<signing::ExpectedSubject> expected_subject(const Reference& reference,
                                                  const std::optional<LayoutReference>& layout,
                                                  const SignatureRequirements& requirements, const Digest& digest,
                                                  const std::string& tag) {
    signing::ExpectedSubject expected;
    expected.digest = digest;
    expected.tag = tag;
    expected.annotations = requirements.annotations;
    if (!requirements.signed_identity.empty()) {
        auto identity = Reference::parse(requirements.signed_identity);
        if (!identity || signing::spells_a_tag(requirements.signed_identity) || identity->digest())
            return unexpected(
                Error(ErrorKind::usage,
                      "--signed-identity \"" + requirements.signed_identity + "\" is not a repository REGISTRY/REPO",
                      "for example --signed-identity registry.example.com/team/policies"));
        expected.repository = signing::canonical_repository(identity->registry(), identity->repository());
    } else if (layout) {
        return unexpected(Error(ErrorKind::usage, "an OCI layout has no repository name for signatures to name",
                                "pass --signed-identity REGISTRY/REPO, the repository the signatures were made for"));
    } else {
        expected.repository = signing::canonical_repository(reference.registry(), reference.repository());
    }
    return expected;
}

SignatureReport to_report(const signing::SignatureVerdict& verdict) {
    SignatureReport report;
    report.format = signing::to_string(verdict.candidate.format);
    report.source = verdict.candidate.source;
    report.key_hint = verdict.candidate.key_hint;
    report.verified = verdict.verified;
    report.keys = verdict.keys;
    report.failed_check = verdict.failed_check;
    report.certificate_identity = verdict.certificate_identity;
    report.certificate_issuer = verdict.certificate_issuer;
    if (verdict.logged_at != 0) report.logged_at = util::format_rfc3339_utc(verdict.logged_at);
    report.checks_passed = verdict.passed_checks;
    for (const auto& time : verdict.signing_times)
        report.signing_times.push_back(util::format_rfc3339_utc(time.time) + " (" + time.source + ")");
    report.reason = verdict.reason;
    if (!verdict.keys.empty()) {
        report.signed_identity = verdict.signed_identity;
        report.signed_annotations = verdict.signed_annotations;
    }
    return report;
}

Result<VerifyResult> verify_signatures(oci::Target& target, const signing::ExpectedSubject& expected,
                                       const Verifier& verifier, const std::string& location) {
    auto found = find_signatures(target, expected.digest);
    if (!found) return unexpected(std::move(found).error());
    VerifyResult result;
    result.location = location;
    result.digest = expected.digest;
    result.problems = found->problems;
    for (const auto& candidate : found->candidates)
        result.signatures.push_back(to_report(verify_candidate(candidate, verifier, expected)));
    if (result.verified()) return result;

    Error error(ErrorKind::verification,
                location + ": no signature verifies" +
                    (result.signatures.empty()
                         ? " (none was found)"
                         : " (" + std::to_string(result.signatures.size()) + " found, none passed every check)"),
                verifier.keyless ? "check --trusted-root, --certificate-identity and --certificate-oidc-issuer (each "
                                   "signature's line says which check failed), -a and --signed-identity"
                                 : "sign it with `karmor oci sign " + location +
                                       " --key KEY`, or check --key, -a and --signed-identity");
    // A signature made for another repository, whose key verified it: this is most likely a copy
    // (a mirror, `copy`, `oras cp`), which --signed-identity accepts by name (issue 22).
    for (const auto& report : result.signatures) {
        if (report.failed_check != signing::check::identity || report.keys.empty()) continue;
        const auto signed_for = Reference::parse(report.signed_identity);
        if (!signed_for) continue;
        const auto repository = signing::canonical_repository(signed_for->registry(), signed_for->repository());
        error.hint = "a signature under your key names " + repository +
                     ": if this is a copy of it, pass "
                     "--signed-identity " +
                     repository + " (and check -a)";
        break;
    }
    for (const auto& report : result.signatures)
        error.details.push_back(report.format + " " + report.source + ": " + report.failed_check + ": " +
                                report.reason);
    for (const auto& problem : result.problems) error.details.push_back(problem);
    return unexpected(std::move(error));
}

}  // namespace karmor::ops

namespace karmor {

bool VerifyResult::verified() const {
    for (const auto& s : signatures)
        if (s.verified) return true;
    return false;
}

}  // namespace karmor
