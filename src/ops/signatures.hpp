// Finding the signatures of a manifest on a target and running the checks of src/signing on
// them (SPEC §9); shared by verify, pull --verify-key and inspect.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "karmor/layout.hpp"
#include "karmor/reference.hpp"
#include "karmor/signing.hpp"
#include "oci/target.hpp"
#include "signing/keyless.hpp"
#include "signing/keys.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/verification.hpp"

namespace karmor::ops {

// At most this many referrers of a manifest are read as possible bundles.
inline constexpr std::size_t max_bundle_referrers = 64;

struct FoundSignatures {
    std::vector<signing::SignatureCandidate> candidates;
    std::vector<std::string> problems;  // stores that could not be read at all
};

// The legacy signatures at the .sig tag of `digest` and the bundles among its referrers, each
// read by digest and with bounds. Problems with one store do not hide the other.
Result<FoundSignatures> find_signatures(oci::Target& target, const Digest& digest);

Result<std::vector<signing::PublicKey>> load_public_keys(const std::vector<std::filesystem::path>& files);

// What signatures are checked against: public keys, a keyless policy for certificates, the
// trusted root (for keys too: its logs and timestamp authorities) and cosign's log and timestamp
// rules.
using Verifier = signing::VerificationPolicy;
// Loads the keys and the trusted root ahead of any request; a usage error when neither is given.
// `key_flag` names the key option in the hint (--key, --verify-key).
Result<Verifier> load_verifier(const SignatureRequirements& requirements, const std::string& key_flag);
signing::SignatureVerdict verify_candidate(const signing::SignatureCandidate& candidate, const Verifier& verifier,
                                           const signing::ExpectedSubject& expected);
// A candidate read from a Sigstore bundle (the image referrer's, or a bundle file).
signing::SignatureCandidate bundle_candidate(signing::SigstoreBundle bundle, std::string source);

// The subject a signature must name: `digest`, the repository of `reference` (or the
// requirements' signed identity; a layout has no repository of its own), `tag`, the annotations.
Result<signing::ExpectedSubject> expected_subject(const Reference& reference,
                                                  const std::optional<LayoutReference>& layout,
                                                  const SignatureRequirements& requirements, const Digest& digest,
                                                  const std::string& tag);

SignatureReport to_report(const signing::SignatureVerdict& verdict);

// Finds and checks every signature of `digest`. An error of kind verification when none
// passes every check (fails closed), with one detail line per signature.
Result<VerifyResult> verify_signatures(oci::Target& target, const signing::ExpectedSubject& expected,
                                       const Verifier& verifier, const std::string& location);

}  // namespace karmor::ops
