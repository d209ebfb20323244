#include "bundle/artifact.hpp"

#include "oci/manifest_json.hpp"

namespace karmor::bundle {
namespace {

constexpr int config_format_version = 1;
constexpr const char* bundle_title = "policies.tar.gz";

Blob make_blob(std::string media_type, std::string bytes, std::map<std::string, std::string> annotations = {}) {
    Blob blob;
    blob.descriptor.media_type = std::move(media_type);
    blob.descriptor.digest = Digest::sha256_of(bytes);
    blob.descriptor.size = static_cast<std::int64_t>(bytes.size());
    blob.descriptor.annotations = std::move(annotations);
    blob.bytes = std::move(bytes);
    return blob;
}

}  // namespace

std::string build_config(const std::vector<Policy>& policies, const std::vector<std::string>& file_names) {
    nlohmann::json index = nlohmann::json::array();
    for (std::size_t i = 0; i < policies.size(); ++i) {
        const auto& p = policies[i];
        nlohmann::json entry = {{"apiVersion", kubearmor_api_version},
                                {"kind", p.identity.kind},
                                {"name", p.identity.name},
                                {"file", file_names[i]}};
        if (!p.identity.namespace_name.empty()) entry["namespace"] = p.identity.namespace_name;
        // Shown by `inspect` without downloading the layer.
        const auto spec = p.document.find("spec");
        if (spec != p.document.end() && spec->is_object()) {
            if (auto action = spec->find("action"); action != spec->end() && action->is_string())
                entry["action"] = *action;
            if (auto severity = spec->find("severity"); severity != spec->end() && severity->is_number_integer())
                entry["severity"] = *severity;
        }
        index.push_back(std::move(entry));
    }
    // nlohmann::json keeps object keys sorted: this dump is canonical.
    return nlohmann::json{{"formatVersion", config_format_version}, {"policies", std::move(index)}}.dump();
}

Result<BuiltArtifact> build_artifact(const std::vector<Policy>& policies, const BuildOptions& options) {
    if (policies.empty()) return unexpected(Error(ErrorKind::validation, "there are no policies to push"));
    BuiltArtifact artifact;
    const auto file_names = policy_file_names(policies, options.format);
    artifact.config = make_blob(media_type::kubearmor_config, build_config(policies, file_names));

    if (policies.size() == 1) {
        const auto* type =
            options.format == PolicyFormat::json ? media_type::kubearmor_layer_json : media_type::kubearmor_layer_yaml;
        artifact.layers.push_back(make_blob(type, serialize_policy(policies.front(), options.format),
                                            {{annotation::title, file_names.front()}}));
    } else {
        std::vector<ArchiveEntry> entries;
        entries.reserve(policies.size());
        for (std::size_t i = 0; i < policies.size(); ++i)
            entries.push_back({file_names[i], serialize_policy(policies[i], options.format)});
        auto archive = write_tar_gz(entries, options.archive_mtime, options.compression_level);
        if (!archive) return unexpected(std::move(archive).error());
        artifact.layers.push_back(
            make_blob(media_type::kubearmor_layer_tar_gzip, std::move(*archive), {{annotation::title, bundle_title}}));
    }

    Manifest& m = artifact.manifest;
    m.media_type = media_type::oci_manifest;
    m.artifact_type = media_type::kubearmor_config;
    m.config = artifact.config.descriptor;
    for (const auto& layer : artifact.layers) m.layers.push_back(layer.descriptor);
    m.subject = options.subject;
    if (!options.created.empty()) m.annotations[annotation::created] = options.created;
    for (const auto& [k, v] : options.annotations) m.annotations[k] = v;
    artifact.manifest_bytes = oci::serialize_manifest(m);
    artifact.manifest_digest = Digest::sha256_of(artifact.manifest_bytes);
    return artifact;
}

bool is_policy_layer(const std::string& media_type) {
    return media_type == media_type::kubearmor_layer_yaml || media_type == media_type::kubearmor_layer_json ||
           media_type == media_type::kubearmor_layer_tar_gzip;
}

bool is_kubearmor_artifact(const Manifest& m) {
    if (m.is_index()) return false;
    if (m.artifact_type == media_type::kubearmor_config) return true;
    if (m.config && m.config->media_type == media_type::kubearmor_config) return true;
    // Tools that push with an empty config ({} with the OCI empty or a generic type) still
    // mark the layers with our media types.
    if (m.layers.empty()) return false;
    for (const auto& layer : m.layers)
        if (!is_policy_layer(layer.media_type)) return false;
    return true;
}

bool is_container_image(const Manifest& m) {
    if (m.is_index() || !m.config) return false;
    return m.config->media_type == media_type::oci_image_config ||
           m.config->media_type == media_type::docker_image_config;
}

std::string describe_artifact(const Manifest& m) {
    if (m.is_index()) return "an image index (a multi-platform image)";
    const std::string config = m.config ? m.config->media_type : "";
    const std::string type = !m.artifact_type.empty() ? m.artifact_type : config;
    if (config == media_type::oci_image_config || config == media_type::docker_image_config) return "a container image";
    if (type == media_type::helm_config) return "a Helm chart";
    if (type.find("cosign") != std::string::npos || type.find("sigstore") != std::string::npos) return "a signature";
    if (type.find("spdx") != std::string::npos || type.find("cyclonedx") != std::string::npos) return "an SBOM";
    return "an artifact of type " + (type.empty() ? std::string("(none)") : type);
}

std::vector<Policy> read_policy_layers(const std::vector<FetchedLayer>& layers, const LoadOptions& options,
                                       const ArchiveLimits& limits, std::vector<Diagnostic>& problems) {
    std::vector<Policy> policies;
    const auto add_text = [&](std::string_view text, const std::string& source) {
        auto parsed = parse_policy_text(text, source, options, problems);
        if (parsed.empty()) problems.push_back({{source}, "", "holds no policy"});
        std::move(parsed.begin(), parsed.end(), std::back_inserter(policies));
    };
    for (const auto& layer : layers) {
        const auto& d = layer.descriptor;
        const auto title = d.annotations.count(annotation::title) ? d.annotations.at(annotation::title) : "";
        const std::string source = "layer " + d.digest.str().substr(0, 19) + (title.empty() ? "" : " (" + title + ")");
        if (d.media_type == media_type::kubearmor_layer_tar_gzip) {
            auto entries = read_tar_gz(layer.bytes, source, limits);
            if (!entries) {
                problems.push_back({{source}, "", entries.error().message});
                continue;
            }
            for (const auto& entry : *entries) add_text(entry.content, source + ":" + entry.name);
        } else {
            add_text(layer.bytes, title.empty() ? source : title);
        }
    }
    find_duplicate_policies(policies, problems);
    sort_policies(policies);
    return policies;
}

}  // namespace karmor::bundle
