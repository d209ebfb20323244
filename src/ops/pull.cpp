// SPEC §2 pull, §4 reading artifacts of other tools, §5 file names, §8 verification.
#include "bundle/artifact.hpp"
#include "karmor/oci.hpp"
#include "ops/output_directory.hpp"
#include "ops/remote.hpp"

namespace karmor {
namespace {

constexpr std::uint64_t max_config_bytes = 4ull << 20;

Error invalid_artifact(const std::string& where, std::vector<Diagnostic> problems) {
    Error error(ErrorKind::validation,
                where + ": the artifact holds " + std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems") + "; nothing was written",
                "push a corrected policy set, or pass --skip-validation to pull it as it is");
    for (const auto& p : problems) error.details.push_back(p.str());
    return error;
}

}  // namespace

Result<PullResult> pull_policies(const PullOptions& options) {
    auto remote = ops::connect(options.reference, options.remote, false);
    auto& client = *remote.client;
    const auto where = options.reference.str();

    auto fetched = client.fetch_manifest(options.reference.manifest_reference());
    if (!fetched) return unexpected(std::move(fetched).error());
    if (!*fetched)
        return unexpected(Error(ErrorKind::not_found, where + ": not found in the registry",
                                "check the repository and tag; `karmor oci inspect` shows what a reference holds"));
    const auto& manifest = (*fetched)->manifest;
    if (!bundle::is_kubearmor_artifact(manifest))
        return unexpected(Error(ErrorKind::validation,
                                where + " is " + bundle::describe_artifact(manifest) + ", not a KubeArmor policy artifact",
                                "pull a reference that was pushed with `karmor oci push`"));

    PullResult result;
    result.manifest_digest = (*fetched)->digest;
    result.reference = options.reference.with_digest(result.manifest_digest);

    // The config is verified like every blob; its index is informative, the layers are the truth.
    if (manifest.config && manifest.config->size > 0) {
        auto config = client.fetch_blob(*manifest.config, max_config_bytes);
        if (!config) return unexpected(std::move(config).error());
        if (manifest.config->media_type == media_type::kubearmor_config) {
            const auto parsed = nlohmann::json::parse(*config, nullptr, false);
            if (parsed.is_discarded() || !parsed.is_object())
                return unexpected(Error(ErrorKind::validation, where + ": the config is not a JSON object",
                                        "the artifact is corrupt; push it again"));
        }
    }

    const bundle::ArchiveLimits limits;
    std::vector<bundle::FetchedLayer> layers;
    for (const auto& layer : manifest.layers) {
        if (!bundle::is_policy_layer(layer.media_type))
            return unexpected(Error(ErrorKind::validation,
                                    where + ": layer " + layer.digest.str() + " has media type " + layer.media_type +
                                        ", which is not a KubeArmor policy layer",
                                    "pull with a tool that understands this artifact"));
        const std::uint64_t max_bytes = layer.media_type == media_type::kubearmor_layer_tar_gzip
                                            ? limits.max_total_bytes
                                            : limits.max_entry_bytes;
        auto bytes = client.fetch_blob(layer, max_bytes);
        if (!bytes) return unexpected(std::move(bytes).error());
        layers.push_back({layer, std::move(*bytes)});
    }

    std::vector<Diagnostic> problems;
    auto policies = bundle::read_policy_layers(layers, options.load, limits, problems);
    if (!problems.empty()) return unexpected(invalid_artifact(where, std::move(problems)));
    if (policies.empty())
        return unexpected(Error(ErrorKind::validation, where + ": the artifact holds no policy"));

    const auto names = policy_file_names(policies, PolicyFormat::yaml);
    for (std::size_t i = 0; i < policies.size(); ++i) result.policies.push_back({policies[i].identity, names[i]});

    if (options.stream) {
        for (std::size_t i = 0; i < policies.size(); ++i) {
            if (i > 0) *options.stream << "---\n";
            *options.stream << to_yaml(policies[i].document);
        }
        options.stream->flush();
        if (!*options.stream) return unexpected(Error(ErrorKind::io, "cannot write the policies to standard output"));
        return result;
    }

    std::vector<ops::OutputFile> files;
    files.reserve(policies.size());
    for (std::size_t i = 0; i < policies.size(); ++i) files.push_back({names[i], to_yaml(policies[i].document)});
    auto written = ops::write_output_files(options.output_directory, files, options.force, options.remote.cancel);
    if (!written) return unexpected(std::move(written).error());
    result.files_written = std::move(written->written);
    result.files_unchanged = std::move(written->unchanged);
    return result;
}

}  // namespace karmor
