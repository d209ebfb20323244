// karmor oci inspect (SPEC §2, §6): what a reference is, text for people, JSON for scripts.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "util/json_text.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/oci.hpp"
#include "oci/manifest_json.hpp"

namespace karmor::cli {
namespace {

struct InspectFlags {
    TargetFlags target;
    OutputFlags output;
    std::vector<std::string> keys;
    std::string signed_identity;
    KeylessFlags keyless;
    RemoteFlags remote;
};

nlohmann::ordered_json policies_json(const std::vector<PolicyInfo>& policies) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& p : policies) {
        nlohmann::ordered_json entry = {{"apiVersion", p.api_version}, {"kind", p.kind}};
        if (!p.namespace_name.empty()) entry["namespace"] = p.namespace_name;
        entry["name"] = p.name;
        entry["file"] = p.file;
        if (!p.action.empty()) entry["action"] = p.action;
        if (p.severity) entry["severity"] = *p.severity;
        out.push_back(std::move(entry));
    }
    return out;
}

nlohmann::ordered_json artifact_json(const ArtifactInfo& a) {
    nlohmann::ordered_json out = {{"digest", a.digest.str()}, {"mediaType", a.media_type}, {"size", a.size}};
    if (!a.artifact_type.empty()) out["artifactType"] = a.artifact_type;
    if (!a.config_media_type.empty()) out["configMediaType"] = a.config_media_type;
    if (!a.created.empty()) out["created"] = a.created;
    if (a.future_dated) out["futureDated"] = true;
    out["annotations"] = a.annotations;
    if (a.subject) out["subject"] = oci::descriptor_to_json(*a.subject);
    if (!a.layers.empty()) {
        auto layers = nlohmann::ordered_json::array();
        for (const auto& layer : a.layers) layers.push_back(oci::descriptor_to_json(layer));
        out["layers"] = std::move(layers);
    }
    if (!a.manifests.empty()) {
        auto manifests = nlohmann::ordered_json::array();
        for (const auto& entry : a.manifests) manifests.push_back(oci::descriptor_to_json(entry));
        out["manifests"] = std::move(manifests);
    }
    out["policyIndex"] = a.has_policy_index;
    out["policies"] = policies_json(a.policies);
    return out;
}

std::string title_of(const Descriptor& d) {
    const auto it = d.annotations.find("org.opencontainers.image.title");
    return it == d.annotations.end() ? std::string("(no title)") : it->second;
}

// "linux/arm64/v8" from an index entry's platform object.
std::string platform_text(const Descriptor& d) {
    if (!d.platform_json) return "(no platform)";
    const auto platform = nlohmann::json::parse(*d.platform_json, nullptr, false);
    if (!platform.is_object()) return "(unreadable platform)";
    std::string text;
    for (const char* field : {"os", "architecture", "variant"}) {
        const auto it = platform.find(field);
        if (it == platform.end() || !it->is_string()) continue;
        text += (text.empty() ? "" : "/") + it->get<std::string>();
    }
    return text.empty() ? "(empty platform)" : text;
}

std::string policy_line(const PolicyInfo& p) {
    std::string line = p.kind + " " + (p.namespace_name.empty() ? "" : p.namespace_name + "/") + p.name;
    if (!p.action.empty()) line += "  action=" + p.action;
    if (p.severity) line += "  severity=" + std::to_string(*p.severity);
    return line;
}

void print_policies(const ArtifactInfo& a, const std::string& indent, std::ostream& out) {
    if (!a.has_policy_index) {
        // Pull reads the layers, not the index; without one, the layers' titles are what is known.
        out << indent << "Policies:  not listed (no index in the config; `karmor oci pull` reads the layers)\n"
            << indent << "Layers:    " << a.layers.size() << "\n";
        for (const auto& layer : a.layers)
            out << indent << "  " << title_of(layer) << "  " << layer.media_type << "  " << layer.size << " bytes\n";
        return;
    }
    out << indent << "Policies:  " << a.policies.size() << "\n";
    for (const auto& p : a.policies) out << indent << "  " << policy_line(p) << "\n";
}

void print_text(const InspectResult& r, std::ostream& out) {
    const auto& a = r.artifact;
    out << "Reference:     " << r.location << "\n"
        << "Kind:          " << to_string(r.kind) << " (" << r.description << ")\n"
        << "Digest:        " << a.digest.str() << "\n"
        << "Media type:    " << a.media_type << "\n";
    if (!a.artifact_type.empty()) out << "Artifact type: " << a.artifact_type << "\n";
    if (!a.config_media_type.empty()) out << "Config type:   " << a.config_media_type << "\n";
    out << "Size:          " << a.size << " bytes\n";
    if (!a.created.empty()) out << "Created:       " << a.created << "\n";
    if (a.subject) out << "Subject:       " << a.subject->digest.str() << " (" << a.subject->media_type << ")\n";
    if (!a.annotations.empty()) {
        out << "Annotations:\n";
        for (const auto& [k, v] : a.annotations) out << "  " << k << ": " << v << "\n";
    }
    if (r.kind == ReferenceKind::kubearmor_artifact) print_policies(a, "", out);
    if (r.kind == ReferenceKind::index) {
        out << "Platforms:     " << a.manifests.size() << "\n";
        for (const auto& m : a.manifests) out << "  " << platform_text(m) << "  " << m.digest.str() << "\n";
    }
    if (r.kind == ReferenceKind::referrers_index) {
        out << "Referrers:     " << a.manifests.size() << "\n";
        for (const auto& m : a.manifests) {
            const auto created = m.annotations.find("org.opencontainers.image.created");
            out << "  " << m.digest.str() << "  " << (m.artifact_type.empty() ? "(no artifact type)" : m.artifact_type)
                << "  created " << (created == m.annotations.end() ? "?" : created->second) << "\n";
        }
    }
    if (r.kind == ReferenceKind::image || r.kind == ReferenceKind::index) {
        out << "Attached KubeArmor artifacts: " << r.attached.size() << " (from " << r.referrers_source << ")\n";
        for (const auto& attached : r.attached) {
            out << "  " << attached.digest.str() << "  created " << (attached.created.empty() ? "?" : attached.created)
                << (attached.future_dated ? "  (in the future: ranks after the others)" : "") << "\n";
            print_policies(attached, "    ", out);
        }
    }
    out << "Signatures:    " << r.signatures.size() << "\n";
    print_signature_reports(r.signatures, "  ", out);
    for (const auto& problem : r.signature_problems) out << "  unreadable  " << problem << "\n";
}

int run_inspect(const InspectFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    InspectOptions options;
    if (auto target = flags.target.resolve(options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    for (const auto& key : flags.keys) options.signature_keys.public_keys.emplace_back(key);
    options.signature_keys.signed_identity = flags.signed_identity;
    auto keyless = flags.keyless.resolve();
    if (!keyless) return report_error(keyless.error(), io);
    options.signature_keys.keyless = std::move(*keyless);

    auto result = inspect_reference(options);
    if (!result) {
        auto error = std::move(result).error();
        flags.target.explain(error);
        return report_error(error, io);
    }
    if (flags.output.json()) {
        nlohmann::ordered_json out = {
            {"reference", result->location}, {"kind", to_string(result->kind)}, {"description", result->description}};
        const auto artifact = artifact_json(result->artifact);
        for (const auto& [key, value] : artifact.items()) out[key] = value;
        if (result->kind == ReferenceKind::image || result->kind == ReferenceKind::index) {
            out["referrersSource"] = result->referrers_source;
            out["attached"] = nlohmann::ordered_json::array();
            for (const auto& a : result->attached) out["attached"].push_back(artifact_json(a));
        }
        out["signatures"] = nlohmann::ordered_json::array();
        for (const auto& s : result->signatures) out["signatures"].push_back(signature_report_json(s));
        out["signatureProblems"] = result->signature_problems;
        io.out << util::dump_json(out, 2) << "\n";
    } else {
        print_text(*result, io.out);
    }
    return exit_ok;
}

}  // namespace

void add_inspect_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<InspectFlags>();
    auto* cmd = oci.add_subcommand("inspect", "show what a reference holds, and the policies attached to an image");
    flags->target.add_to(*cmd, "reference to inspect, e.g. localhost:5000/shop/cart:1.4");
    flags->output.add_to(*cmd, "what the reference is, its annotations, policies, attachments and signatures");
    cmd->add_option("--key", flags->keys, "public key NAME.pub: show which signatures verify under it (repeatable)")
        ->check(existing_file());
    cmd->add_option("--signed-identity", flags->signed_identity,
                    "with --key: REGISTRY/REPO the signatures must name instead of REF's");
    flags->keyless.add_to(*cmd);
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci inspect localhost:5000/myimage:latest\n"
                "  karmor oci inspect registry.example.com/team/policies:v3 --output json | jq .policies\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_inspect(*flags, io); }; });
}

}  // namespace karmor::cli
