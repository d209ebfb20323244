// SPEC §9 verify: resolve REF to a digest once, then find and check its signatures by digest; and
// one Sigstore bundle on its own (issue 24).
#include "karmor/signing.hpp"
#include "ops/open_target.hpp"
#include "ops/signatures.hpp"
#include "signing/sigstore_bundle.hpp"
#include "util/encoding.hpp"

namespace karmor {

Result<VerifyResult> verify_artifact(const VerifyOptions& options) {
    // Keys first: a wrong path fails before any request.
    auto verifier = ops::load_verifier(options.requirements, "--key");
    if (!verifier) return unexpected(std::move(verifier).error());
    auto required =
        ops::fetch_required_manifest(options.reference, options.layout, options.remote, "check the repository and tag");
    if (!required) return unexpected(std::move(required).error());
    auto& target = *required->opened.target;
    const auto digest = required->manifest.digest;
    auto expected = ops::expected_subject(options.reference, options.layout, options.requirements, digest,
                                          options.layout ? options.layout->tag : options.reference.tag());
    if (!expected) return unexpected(std::move(expected).error());
    return ops::verify_signatures(target, *expected, *verifier, target.where() + "@" + digest.str());
}

Result<BundleVerifyResult> verify_sigstore_bundle(const BundleVerifyOptions& options) {
    auto verifier = ops::load_verifier(options.requirements, "a public key");
    if (!verifier) return unexpected(std::move(verifier).error());
    signing::ExpectedArtifact artifact;
    if (options.artifact) {
        artifact.bytes = *options.artifact;
    } else if (options.artifact_digest && options.artifact_digest->algorithm() == "sha256") {
        artifact.sha256 = util::hex_decode(options.artifact_digest->hex()).value_or("");
    } else {
        return unexpected(Error(ErrorKind::usage, "a bundle is verified against an artifact",
                                "give the artifact's bytes or its sha256 digest"));
    }
    signing::SignatureCandidate candidate;
    if (auto bundle = signing::parse_sigstore_bundle(options.bundle); !bundle) {
        candidate.format = signing::SignatureFormat::bundle;
        candidate.source = options.source;
        candidate.problem = bundle.error().message;
    } else {
        candidate = ops::bundle_candidate(std::move(*bundle), options.source);
    }
    BundleVerifyResult result;
    result.signature = ops::to_report(signing::verify_artifact_signature(candidate, *verifier, artifact));
    if (result.signature.verified) return result;
    Error error(ErrorKind::verification,
                options.source + ": " + result.signature.failed_check + ": " + result.signature.reason,
                "check the artifact, the keys or identity, and the trusted root");
    return unexpected(std::move(error));
}

}  // namespace karmor
