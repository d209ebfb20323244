#include "bundle/artifact.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <thread>

#include "oci/manifest_json.hpp"
#include "util/json_string.hpp"
#include "util/parallel.hpp"

namespace karmor::bundle {
namespace {

constexpr int config_format_version = 1;
constexpr std::size_t config_thread_policies = 256;
// The archive's entries lie under this directory, and the layer is titled after it and marked
// for unpacking: what `oras push REF dir/` makes, so that `oras pull` writes the policy files
// into ./policies/ instead of leaving a tarball (issue 22). Archives of earlier versions have
// the files at the top and the title "policies.tar.gz"; both read the same.
constexpr std::string_view bundle_directory = "policies";
constexpr const char* oras_unpack_annotation = "io.deis.oras.content.unpack";

Blob make_blob(std::string media_type, std::string bytes, std::map<std::string, std::string> annotations = {}) {
    Blob blob;
    blob.descriptor.media_type = std::move(media_type);
    blob.descriptor.digest = Digest::sha256_of(bytes);
    blob.descriptor.size = static_cast<std::int64_t>(bytes.size());
    blob.descriptor.annotations = std::move(annotations);
    blob.bytes = std::move(bytes);
    return blob;
}

// A problem with the whole of `source`. Built member by member rather than from a braced
// temporary: GCC 12 at -O3 takes the strings of such a temporary for uninitialized
// (-Wmaybe-uninitialized, a false positive).
Diagnostic problem_in(const std::string& source, std::string message) {
    Diagnostic problem;
    problem.where.file = source;
    problem.message = std::move(message);
    return problem;
}

}  // namespace

// Written directly rather than through a JSON tree, which took three times the memory of
// the text for 100,000 policies. The output is what nlohmann::json would dump: no spaces,
// object keys in sorted order (tests/unit/artifact_test.cpp checks both).
std::string build_config(const std::vector<Policy>& policies, const std::vector<std::string>& file_names) {
    const auto quoted = [](std::string& out, std::string_view text) { util::append_json_string(out, text); };
    std::string out = "{\"formatVersion\":" + std::to_string(config_format_version) + ",\"policies\":[";
    out.reserve(policies.size() * 200 + out.size() + 2);
    for (std::size_t i = 0; i < policies.size(); ++i) {
        const auto& p = policies[i];
        if (i > 0) out += ',';
        // Shown by `inspect` without downloading the layer: action and severity.
        out += '{';
        if (!p.action.empty()) {
            out += "\"action\":";
            quoted(out, p.action);
            out += ',';
        }
        out += "\"apiVersion\":";
        quoted(out, kubearmor_api_version);
        out += ",\"file\":";
        quoted(out, file_names[i]);
        out += ",\"kind\":";
        quoted(out, p.identity.kind);
        out += ",\"name\":";
        quoted(out, p.identity.name);
        if (!p.identity.namespace_name.empty()) {
            out += ",\"namespace\":";
            quoted(out, p.identity.namespace_name);
        }
        if (p.severity) out += ",\"severity\":" + std::to_string(*p.severity);
        out += '}';
    }
    out += "]}";
    return out;
}

Result<BuiltArtifact> build_artifact(const std::vector<Policy>& policies, const BuildOptions& options) {
    if (policies.empty()) return unexpected(Error(ErrorKind::validation, "there are no policies to push"));
    BuiltArtifact artifact;
    artifact.file_names = policy_file_names(policies, options.format);
    const auto& file_names = artifact.file_names;
    // Many policies: the config is built while the layer is compressed, the longest step of
    // building. A thread is not worth it for a few.
    const auto make_config = [&] {
        artifact.config = make_blob(media_type::kubearmor_config, build_config(policies, file_names));
    };
    std::optional<std::jthread> config_builder;
    if (policies.size() >= config_thread_policies)
        config_builder.emplace(make_config);
    else
        make_config();

    if (policies.size() == 1 && !options.tar_layer) {
        const auto* type =
            options.format == PolicyFormat::json ? media_type::kubearmor_layer_json : media_type::kubearmor_layer_yaml;
        artifact.layers.push_back(make_blob(type, serialize_policy(policies.front(), options.format),
                                            {{annotation::title, file_names.front()}}));
    } else {
        // Policies loaded with LoadOptions::serialize_as are already text; the others are
        // serialized here, on every core.
        std::vector<std::string> texts(policies.size());
        util::parallel_for(policies.size(), [&](std::size_t i) {
            if (!serialized_text(policies[i], options.format)) texts[i] = serialize_policy(policies[i], options.format);
        });
        const std::string directory_entry = std::string(bundle_directory) + "/";
        std::vector<std::string> entry_names(policies.size());
        std::vector<ArchiveFile> files(policies.size() + 1);
        files[0] = {directory_entry, {}, /*directory=*/true};
        for (std::size_t i = 0; i < policies.size(); ++i) {
            const auto* ready = serialized_text(policies[i], options.format);
            entry_names[i] = directory_entry + file_names[i];
            files[i + 1] = {entry_names[i], ready ? *ready : texts[i]};
        }
        auto archive = write_tar_gz(files, options.archive_mtime, options.compression_level, options.cancel);
        if (!archive) return unexpected(std::move(archive).error());
        artifact.layers.push_back(
            make_blob(media_type::kubearmor_layer_tar_gzip, std::move(*archive),
                      {{annotation::title, std::string(bundle_directory)}, {oras_unpack_annotation, "true"}}));
    }

    if (config_builder) config_builder->join();
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

namespace {

// cosign's legacy `.sig` and `.att` manifests are image manifests (an image config, so they
// would pass for images): their layers say what they are.
const char* cosign_kind(const Manifest& m) {
    for (const auto& layer : m.layers) {
        if (layer.media_type == "application/vnd.dev.cosign.simplesigning.v1+json") return "a cosign signature";
        if (layer.media_type == "application/vnd.dsse.envelope.v1+json") return "a cosign attestation";
    }
    return nullptr;
}

}  // namespace

bool is_container_image(const Manifest& m) {
    if (m.is_index() || !m.config || cosign_kind(m)) return false;
    return m.config->media_type == media_type::oci_image_config ||
           m.config->media_type == media_type::docker_image_config;
}

bool is_signature(const Manifest& m) {
    if (m.is_index()) return false;
    if (cosign_kind(m)) return true;
    const std::string type = !m.artifact_type.empty() ? m.artifact_type : m.config ? m.config->media_type : "";
    return type.find("sigstore.bundle") != std::string::npos || type.find("cosign") != std::string::npos;
}

std::string describe_artifact(const Manifest& m) {
    if (m.is_index()) return "an image index (a multi-platform image)";
    if (const auto* kind = cosign_kind(m)) return kind;
    const std::string config = m.config ? m.config->media_type : "";
    const std::string type = !m.artifact_type.empty() ? m.artifact_type : config;
    if (type.find("sigstore.bundle") != std::string::npos) return "a Sigstore signature bundle";
    if (config == media_type::oci_image_config || config == media_type::docker_image_config) return "a container image";
    if (type == media_type::helm_config) return "a Helm chart";
    if (type.find("cosign") != std::string::npos || type.find("sigstore") != std::string::npos) return "a signature";
    if (type.find("spdx") != std::string::npos || type.find("cyclonedx") != std::string::npos) return "an SBOM";
    return "an artifact of type " + (type.empty() ? std::string("(none)") : type);
}

std::vector<Policy> read_policy_layers(std::vector<FetchedLayer>& layers, const LoadOptions& options,
                                       const ArchiveLimits& limits, std::vector<Diagnostic>& problems,
                                       const std::function<void(Policy&)>& parsed) {
    // Every text to parse, with the name it is reported under; a YAML layer's own bytes, which
    // its policy may take (parse_policy_text_taking), instead of a copy. Texts are independent:
    // they are parsed and validated on every core as soon as they are read, an archive's first
    // files while the rest are still decompressed, and their results stay in their order.
    struct Text {
        std::string_view content;
        std::string source;
        std::string* layer_bytes = nullptr;
        std::size_t archive = 0;  // 1 + the index of the archive it came from; 0: a YAML layer
        std::vector<Policy> policies;
        std::vector<Diagnostic> problems;
        bool taken = false;  // it took its layer's bytes
    };
    const auto parse = [&](Text& text) {
        if (auto* bytes = text.layer_bytes) {
            const bool had_bytes = !bytes->empty();
            text.policies = parse_policy_text_taking(*bytes, text.source, options, text.problems);
            text.taken = had_bytes && bytes->empty();
        } else {
            text.policies = parse_policy_text(text.content, text.source, options, text.problems);
        }
        // A text whose only policy was refused already says why; "holds no policy" would be noise.
        if (text.policies.empty() && text.problems.empty())
            text.problems.push_back(problem_in(text.source, "holds no policy"));
        if (parsed)
            for (auto& policy : text.policies) parsed(policy);
    };
    // Deques: what was handed to the parsing threads stays where it is while more is added.
    std::deque<Text> texts;
    std::deque<ArchiveEntry> entries;    // owns the contents of archive entries
    std::vector<char> refused_archives;  // an archive refused part-way: what was read of it is dropped
    util::ParallelStream<Text, decltype(parse)> parsing(parse);
    for (auto& layer : layers) {
        const auto& d = layer.descriptor;
        const auto title = d.annotations.count(annotation::title) ? d.annotations.at(annotation::title) : "";
        const std::string source = "layer " + d.digest.str().substr(0, 19) + (title.empty() ? "" : " (" + title + ")");
        if (d.media_type == media_type::kubearmor_layer_tar_gzip) {
            refused_archives.push_back(0);
            const std::size_t archive = refused_archives.size();
            auto read = read_tar_gz_each(layer.bytes, source, limits, [&](ArchiveEntry&& entry) {
                entries.push_back(std::move(entry));
                auto& text = texts.emplace_back();
                text.content = entries.back().content;
                text.source = source + ":" + entries.back().name;
                text.archive = archive;
                parsing.add(text);
            });
            if (!read) {
                refused_archives[archive - 1] = 1;
                // The archive reader names the layer already; the diagnostic adds it again.
                auto message = read.error().message;
                if (message.rfind(source + ": ", 0) == 0) message.erase(0, source.size() + 2);
                problems.push_back(problem_in(source, std::move(message)));
            }
        } else {
            auto& text = texts.emplace_back();
            text.content = layer.bytes;
            text.source = title.empty() ? source : title;
            text.layer_bytes = &layer.bytes;
            parsing.add(text);
        }
    }
    parsing.finish();
    const auto dropped = [&](const Text& text) { return text.archive != 0 && refused_archives[text.archive - 1]; };

    // A refused artifact's layers may be read again (pull's hint that --skip-validation would
    // help): the texts taken go back to their layers.
    const bool refused = !problems.empty() || std::any_of(texts.begin(), texts.end(), [&](const Text& text) {
        return !dropped(text) && !text.problems.empty();
    });
    for (auto& text : texts)
        if (refused && text.taken) *text.layer_bytes = std::move(text.policies.front().serialized);
    std::vector<Policy> policies;
    std::size_t count = 0;
    for (const auto& text : texts) count += dropped(text) ? 0 : text.policies.size();
    policies.reserve(count);  // a text may hold many policies: texts.size() would regrow it
    for (auto& text : texts) {
        if (dropped(text)) continue;
        std::move(text.problems.begin(), text.problems.end(), std::back_inserter(problems));
        std::move(text.policies.begin(), text.policies.end(), std::back_inserter(policies));
    }
    if (policies.size() > options.limits.max_policies)
        problems.push_back(
            problem_in("the artifact", "holds " + std::to_string(policies.size()) + " policies, more than " +
                                           std::to_string(options.limits.max_policies) + " (raise --max-policies)"));
    sort_policies_finding_duplicates(policies, problems);
    return policies;
}

}  // namespace karmor::bundle
