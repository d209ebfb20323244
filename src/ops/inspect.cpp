// SPEC §2 inspect, §6: what a reference is and, for an image, which KubeArmor artifacts are
// attached to it. Policies are read from the config's index; layers are never downloaded.
#include <algorithm>

#include "bundle/artifact.hpp"
#include "karmor/oci.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"
#include "ops/signatures.hpp"
#include "ops/referrers_index.hpp"

namespace karmor {
namespace {

std::string string_field(const nlohmann::json& object, const char* name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The config's index: {"formatVersion":1,"policies":[{apiVersion,kind,namespace?,name,file,
// action?,severity?}]} (src/bundle/artifact.cpp build_config).
// std::nullopt when the config has no index (e.g. the {} config of other tools).
Result<std::optional<std::vector<PolicyInfo>>> parse_policy_index(const std::string& bytes, const std::string& where) {
    const auto config = nlohmann::json::parse(bytes, nullptr, false);
    if (config.is_discarded() || !config.is_object())
        return unexpected(Error(ErrorKind::validation, where + ": the config is not a JSON object",
                                "the artifact is corrupt; push it again"));
    std::vector<PolicyInfo> policies;
    const auto list = config.find("policies");
    if (list == config.end() || !list->is_array()) return std::optional<std::vector<PolicyInfo>>();
    for (const auto& entry : *list) {
        if (!entry.is_object()) continue;
        PolicyInfo p;
        p.api_version = string_field(entry, "apiVersion");
        p.kind = string_field(entry, "kind");
        p.namespace_name = string_field(entry, "namespace");
        p.name = string_field(entry, "name");
        p.file = string_field(entry, "file");
        p.action = string_field(entry, "action");
        if (const auto s = entry.find("severity"); s != entry.end() && s->is_number_integer())
            p.severity = s->get<int>();
        policies.push_back(std::move(p));
    }
    return std::optional(std::move(policies));
}

ReferenceKind classify(const Manifest& m, const std::string& tag) {
    if (bundle::is_kubearmor_artifact(m)) return ReferenceKind::kubearmor_artifact;
    if (ops::is_referrers_index(m, tag)) return ReferenceKind::referrers_index;
    if (m.is_index()) return ReferenceKind::index;
    if (bundle::is_signature(m)) return ReferenceKind::signature;
    if (bundle::is_container_image(m)) return ReferenceKind::image;
    return ReferenceKind::other;
}

Result<ArtifactInfo> describe(oci::Target& target, const oci::FetchedManifest& fetched) {
    const auto& m = fetched.manifest;
    ArtifactInfo info;
    info.digest = fetched.digest;
    info.size = static_cast<std::int64_t>(fetched.bytes.size());
    info.media_type = m.media_type;
    info.artifact_type = m.artifact_type;
    if (m.config) info.config_media_type = m.config->media_type;
    info.annotations = m.annotations;
    if (const auto it = m.annotations.find(annotation::created); it != m.annotations.end()) info.created = it->second;
    info.subject = m.subject;
    info.layers = m.layers;
    info.manifests = m.manifests;
    if (bundle::is_kubearmor_artifact(m) && m.config && m.config->media_type == media_type::kubearmor_config &&
        m.config->size > 0) {
        auto config = target.fetch_blob(*m.config, bundle::max_config_bytes, {});
        if (!config) return unexpected(std::move(config).error());
        auto policies = parse_policy_index(*config, target.where() + "@" + fetched.digest.str());
        if (!policies) return unexpected(std::move(policies).error());
        info.has_policy_index = policies->has_value();
        if (*policies) info.policies = std::move(**policies);
    }
    return info;
}

// SPEC §9: the signatures of the digest, which of the given keys each verifies under, and with
// --trusted-root which checks each passed and at what time.
Result<void> list_signatures(oci::Target& target, const InspectOptions& options, const ops::Verifier& verifier,
                             const Digest& digest, InspectResult& result) {
    auto found = ops::find_signatures(target, digest);
    if (!found) return unexpected(std::move(found).error());
    result.signature_problems = found->problems;
    auto requirements = options.signature_keys;
    // A layout names no repository: without --signed-identity, check keys and digests only.
    std::string identity_note;
    signing::ExpectedSubject expected;
    auto subject = ops::expected_subject(options.reference, options.layout, requirements, digest,
                                         options.layout ? options.layout->tag : options.reference.tag());
    if (subject) {
        expected = std::move(*subject);
    } else if (options.layout && requirements.signed_identity.empty()) {
        expected.digest = digest;
        identity_note = "an OCI layout has no repository name; pass --signed-identity to check it";
    } else {
        return unexpected(std::move(subject).error());
    }
    for (const auto& candidate : found->candidates) {
        auto verdict = ops::verify_candidate(candidate, verifier, expected);
        if (!identity_note.empty() && verdict.failed_check == signing::check::identity) {
            verdict.reason = identity_note;
        }
        result.signatures.push_back(ops::to_report(verdict));
    }
    return {};
}

std::string describe_kind(ReferenceKind kind, const Manifest& m, const std::string& tag) {
    switch (kind) {
        case ReferenceKind::kubearmor_artifact: return "a KubeArmor policy artifact";
        case ReferenceKind::referrers_index: {
            const auto subject = ops::referrers_tag_subject(tag);
            return "the referrers index (OCI 1.1 fallback tag) listing what is attached to " +
                   (subject ? subject->str() : std::string("an image"));
        }
        case ReferenceKind::index: {
            const bool platforms = std::any_of(m.manifests.begin(), m.manifests.end(),
                                               [](const Descriptor& d) { return d.platform_json.has_value(); });
            return platforms ? "an image index (a multi-platform image)" : "an image index";
        }
        case ReferenceKind::signature: {
            const auto signed_digest = ops::signed_subject(m, tag);
            return bundle::describe_artifact(m) + (signed_digest ? " of " + signed_digest->str() : std::string());
        }
        default: return bundle::describe_artifact(m);
    }
}

}  // namespace

const char* to_string(ReferenceKind kind) {
    switch (kind) {
        case ReferenceKind::kubearmor_artifact: return "kubearmor-artifact";
        case ReferenceKind::image: return "image";
        case ReferenceKind::index: return "index";
        case ReferenceKind::other: return "other";
        case ReferenceKind::referrers_index: return "referrers-index";
        case ReferenceKind::signature: return "signature";
    }
    return "other";
}

Result<InspectResult> inspect_reference(const InspectOptions& options) {
    // Without --key and --trusted-root, signatures are listed, and none verified.
    ops::Verifier verifier;
    if (options.signature_keys.keyless) {
        auto loaded = ops::load_verifier(options.signature_keys, "--key");
        if (!loaded) return unexpected(std::move(loaded).error());
        verifier = std::move(*loaded);
    } else {
        auto keys = ops::load_public_keys(options.signature_keys.public_keys);
        if (!keys) return unexpected(std::move(keys).error());
        verifier.keys = std::move(*keys);
    }
    auto required =
        ops::fetch_required_manifest(options.reference, options.layout, options.remote, "check the repository and tag");
    if (!required) return unexpected(std::move(required).error());
    auto& target = *required->opened.target;
    const auto& fetched = required->manifest;

    InspectResult result;
    result.kind = classify(fetched.manifest, required->opened.tag);
    result.description = describe_kind(result.kind, fetched.manifest, required->opened.tag);
    result.location = target.where() + "@" + fetched.digest.str();
    auto info = describe(target, fetched);
    if (!info) return unexpected(std::move(info).error());
    result.artifact = std::move(*info);

    if (auto signatures = list_signatures(target, options, verifier, fetched.digest, result); !signatures)
        return unexpected(std::move(signatures).error());

    if (result.kind == ReferenceKind::image || result.kind == ReferenceKind::index) {
        auto listing = ops::find_referrers(target, fetched.digest, media_type::kubearmor_config);
        if (!listing) return unexpected(std::move(listing).error());
        result.referrers_source = listing->source;
        const auto now = ops::now_seconds();
        for (const auto& referrer : listing->referrers) {
            auto attached = target.fetch_manifest(referrer.digest.str());
            if (!attached) return unexpected(std::move(attached).error());
            if (!*attached) continue;  // listed but gone: a stale fallback index
            auto attached_info = describe(target, **attached);
            if (!attached_info) return unexpected(std::move(attached_info).error());
            attached_info->future_dated = ops::is_future_dated(referrer, now);
            result.attached.push_back(std::move(*attached_info));
        }
    }
    return result;
}

}  // namespace karmor
