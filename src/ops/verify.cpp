// SPEC §9 verify: resolve REF to a digest once, then find and check its signatures by digest.
#include "karmor/signing.hpp"
#include "ops/open_target.hpp"
#include "ops/signatures.hpp"

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

}  // namespace karmor
