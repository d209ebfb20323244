// SPEC §9 sign: the legacy `.sig` tag and the Sigstore bundle referrer, over the digest that
// REF resolves to once. Placing the bundle reuses the referrers machinery of --attach (§6).
#include <chrono>

#include "karmor/signing.hpp"
#include "oci/manifest_json.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"
#include "ops/referrers_index.hpp"
#include "ops/remote.hpp"
#include "ops/signatures.hpp"
#include "signing/keys.hpp"
#include "signing/legacy_signatures.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"
#include "signing/verification.hpp"

namespace karmor {
namespace {

// At most this many existing bundles are read to find out whether this key already signed.
constexpr std::size_t max_bundles_compared = 16;

struct SigningContext {
    oci::Target& target;
    Descriptor subject;  // the signed manifest
    std::string identity;
    const std::map<std::string, std::string>& annotations;
    const signing::SigningKey& key;
    const signing::PublicKey& public_key;
    bool layout = false;
    bool has_empty_config = false;  // a manifest stored in the repository already refers to it
};

Result<Descriptor> put_new_blob(oci::Target& target, const std::string& media_type, const std::string& bytes) {
    Descriptor blob;
    blob.media_type = media_type;
    blob.digest = Digest::sha256_of(bytes);
    blob.size = static_cast<std::int64_t>(bytes.size());
    if (auto put = target.put_blob(blob, bytes, {}); !put) return unexpected(std::move(put).error());
    return blob;
}

Result<WrittenSignature> sign_legacy(SigningContext& context) {
    auto& target = context.target;
    const auto tag = signing::legacy_signature_tag(context.subject.digest);
    WrittenSignature written;
    written.format = "legacy";
    written.location = target.describe(tag);
    const auto payload =
        signing::make_simple_signing_payload(context.identity, context.subject.digest, context.annotations);
    const auto payload_digest = Digest::sha256_of(payload);

    auto existing = target.fetch_manifest(tag);
    if (!existing) return unexpected(std::move(existing).error());
    std::optional<Manifest> current;
    bool payload_stored = false;
    if (*existing) {
        auto layers = signing::read_legacy_signature_layers((*existing)->manifest, written.location);
        if (!layers)
            return unexpected(Error(ErrorKind::validation, layers.error().message + "; cannot add a signature to it",
                                    layers.error().hint));
        for (const auto& layer : *layers) {
            if (layer.payload.digest != payload_digest) continue;
            payload_stored = true;
            // Same bytes, and this key's signature over them: signing again adds nothing.
            if (layer.problem.empty() && context.public_key.verify(payload, layer.der_signature)) {
                written.already_present = true;
                return written;
            }
        }
        current = (*existing)->manifest;
    }

    auto signature = context.key.sign(payload);
    if (!signature) return unexpected(std::move(signature).error());
    Descriptor payload_blob;
    payload_blob.media_type = signing::simple_signing_media_type;
    payload_blob.digest = payload_digest;
    payload_blob.size = static_cast<std::int64_t>(payload.size());
    if (!payload_stored)
        if (auto put = target.put_blob(payload_blob, payload, {}); !put) return unexpected(std::move(put).error());
    const auto manifest = signing::append_legacy_signature(current, payload_blob, *signature);
    if (auto put = target.put_blob(manifest.config.descriptor, manifest.config.bytes, {}); !put)
        return unexpected(std::move(put).error());
    if (auto stored = target.put_manifest(tag, media_type::oci_manifest, manifest.bytes); !stored)
        return unexpected(std::move(stored).error());
    return written;
}

// True when one of `referrers` is a bundle of exactly `statement` signed by this key.
Result<bool> bundle_already_present(SigningContext& context, const std::vector<Descriptor>& referrers,
                                    const std::string& statement) {
    std::size_t compared = 0;
    for (const auto& referrer : referrers) {
        const auto& type = referrer.artifact_type;
        if (!type.empty() && type != signing::bundle_media_type && type != media_type::oci_empty) continue;
        if (++compared > max_bundles_compared) break;
        // A referrer that cannot be read is not this signature: it is signed again.
        auto fetched = context.target.fetch_manifest(referrer.digest.str());
        if (!fetched && fetched.error().kind == ErrorKind::cancelled) return unexpected(std::move(fetched).error());
        if (!fetched || !*fetched) continue;
        const auto& m = (*fetched)->manifest;
        // The registry keeps what a stored manifest refers to: no need to ask for the empty config.
        if (m.config && m.config->digest == signing::empty_config_descriptor().digest) context.has_empty_config = true;
        if (m.artifact_type != signing::bundle_media_type || m.layers.size() != 1 ||
            m.layers.front().size > static_cast<std::int64_t>(signing::max_bundle_bytes))
            continue;
        auto bytes = context.target.fetch_blob(m.layers.front(), signing::max_bundle_bytes, {});
        if (!bytes && bytes.error().kind == ErrorKind::cancelled) return unexpected(std::move(bytes).error());
        if (!bytes) continue;
        auto bundle = signing::parse_dsse_bundle(*bytes);
        if (!bundle || bundle->payload != statement || bundle->payload_type != signing::in_toto_payload_type) continue;
        const auto pae = signing::dsse_pae(bundle->payload_type, bundle->payload);
        for (const auto& signature : bundle->der_signatures)
            if (context.public_key.verify(pae, signature)) return true;
    }
    return false;
}

Result<WrittenSignature> sign_bundle(SigningContext& context) {
    auto& target = context.target;
    const auto& subject_digest = context.subject.digest;
    WrittenSignature written;
    written.format = "bundle";
    const auto statement = signing::make_sign_statement(context.identity, subject_digest, context.annotations);

    auto listing = ops::find_referrers(target, subject_digest, "");
    if (!listing) return unexpected(std::move(listing).error());
    auto present = bundle_already_present(context, listing->referrers, statement);
    if (!present) return unexpected(std::move(present).error());
    if (*present) {
        written.already_present = true;
        written.location = target.where() + " (referrers of " + subject_digest.str() + ")";
        return written;
    }

    auto signature = context.key.sign(signing::dsse_pae(signing::in_toto_payload_type, statement));
    if (!signature) return unexpected(std::move(signature).error());
    const auto bundle =
        signing::make_sigstore_bundle(statement, *signature, signing::sigstore_key_hint(context.public_key));

    const auto empty_config = signing::empty_config_descriptor();
    if (!context.has_empty_config) {
        auto has_config = target.blob_exists(empty_config);
        if (!has_config) return unexpected(std::move(has_config).error());
        if (!*has_config)
            if (auto put = target.put_blob(empty_config, signing::empty_config_bytes, {}); !put)
                return unexpected(std::move(put).error());
    }
    auto bundle_blob = put_new_blob(target, signing::bundle_media_type, bundle);
    if (!bundle_blob) return unexpected(std::move(bundle_blob).error());

    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto referrer = signing::make_bundle_referrer(context.subject, *bundle_blob, ops::rfc3339(now));
    const auto bytes = oci::serialize_manifest(referrer);
    const auto digest = Digest::sha256_of(bytes);
    auto stored = target.put_manifest(digest.str(), media_type::oci_manifest, bytes);
    if (!stored) return unexpected(std::move(stored).error());
    written.location = target.where() + "@" + digest.str();
    if (context.layout) {
        written.indexing = "image layout";
    } else if (target.indexes_referrers_itself(*stored) || listing->target_indexes) {
        written.indexing = "referrers API";
    } else {
        auto tag = ops::add_to_fallback_tag(
            target, subject_digest, ops::referrer_descriptor(referrer, digest, static_cast<std::int64_t>(bytes.size())),
            &*listing);
        if (!tag) return unexpected(std::move(tag).error());
        written.indexing = "fallback tag " + *tag;
    }
    return written;
}

Result<std::string> signing_identity(const SignOptions& options) {
    if (!options.signed_identity.empty()) {
        auto identity = Reference::parse(options.signed_identity);
        if (!identity || signing::spells_a_tag(options.signed_identity) || identity->digest())
            return unexpected(
                Error(ErrorKind::usage,
                      "--signed-identity \"" + options.signed_identity + "\" is not a repository REGISTRY/REPO",
                      "for example --signed-identity registry.example.com/team/policies"));
        return identity->registry() + "/" + identity->repository();
    }
    if (options.layout)
        return unexpected(
            Error(ErrorKind::usage, "an OCI layout has no repository name for the signature to name",
                  "pass --signed-identity REGISTRY/REPO, the repository the artifact will be served from"));
    return options.reference.registry() + "/" + options.reference.repository();
}

}  // namespace

Result<LoadedSigningKey> load_key_for_signing(const std::filesystem::path& key_file,
                                              const KeyPasswordSource& password) {
    auto key =
        signing::load_signing_key(key_file, password ? signing::PasswordSource(password) : signing::PasswordSource());
    if (!key) return unexpected(std::move(key).error());
    return std::make_shared<const signing::SigningKey>(std::move(*key));
}

Result<SignResult> sign_artifact(const SignOptions& options) {
    auto identity = signing_identity(options);
    if (!identity) return unexpected(std::move(identity).error());
    // The key before the registry: a wrong path or password fails before any request.
    LoadedSigningKey key = options.loaded_key;
    if (!key) {
        auto loaded = load_key_for_signing(options.key_file, options.password);
        if (!loaded) return unexpected(std::move(loaded).error());
        key = std::move(*loaded);
    }
    const auto public_key = key->public_key();

    auto opened = ops::open_target(options.reference, options.layout, options.remote, ops::Access::push);
    if (!opened) return unexpected(std::move(opened).error());
    auto& target = *opened->target;
    const auto reference = opened->manifest_reference();
    auto fetched = target.fetch_manifest(reference);
    if (!fetched) return unexpected(std::move(fetched).error());
    if (!*fetched)
        return unexpected(Error(ErrorKind::not_found, "cannot sign " + target.describe(reference) + ": not found",
                                "push the artifact first, or check the repository and tag"));

    SignResult result;
    result.digest = (*fetched)->digest;
    result.location = target.where() + "@" + result.digest.str();
    result.signed_identity = *identity;
    result.key_hint = signing::sigstore_key_hint(public_key);
    SigningContext context{target, {}, *identity, options.annotations, *key, public_key, options.layout.has_value()};
    context.subject.media_type = (*fetched)->manifest.media_type;
    context.subject.digest = result.digest;
    context.subject.size = static_cast<std::int64_t>((*fetched)->bytes.size());

    if (options.formats != SignatureFormats::bundle) {
        auto legacy = sign_legacy(context);
        if (!legacy) return unexpected(std::move(legacy).error());
        result.signatures.push_back(std::move(*legacy));
    }
    if (options.formats != SignatureFormats::legacy) {
        auto bundle = sign_bundle(context);
        if (!bundle) return unexpected(std::move(bundle).error());
        result.signatures.push_back(std::move(*bundle));
    }
    return result;
}

}  // namespace karmor
