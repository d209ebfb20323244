// karmor oci inspect (SPEC §2, §6): what a reference is, text for people, JSON for scripts.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/oci.hpp"
#include "oci/manifest_json.hpp"

namespace karmor::cli {
namespace {

struct InspectFlags {
    std::string reference;
    std::string output = "text";
    bool oci_layout = false;
    std::vector<std::string> keys;
    std::string signed_identity;
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
    out["annotations"] = a.annotations;
    if (a.subject) out["subject"] = oci::descriptor_to_json(*a.subject);
    out["policies"] = policies_json(a.policies);
    return out;
}

std::string policy_line(const PolicyInfo& p) {
    std::string line = p.kind + " " + (p.namespace_name.empty() ? "" : p.namespace_name + "/") + p.name;
    if (!p.action.empty()) line += "  action=" + p.action;
    if (p.severity) line += "  severity=" + std::to_string(*p.severity);
    return line;
}

void print_policies(const std::vector<PolicyInfo>& policies, const std::string& indent, std::ostream& out) {
    out << indent << "Policies:  " << policies.size() << "\n";
    for (const auto& p : policies) out << indent << "  " << policy_line(p) << "\n";
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
    if (r.kind == ReferenceKind::kubearmor_artifact) print_policies(a.policies, "", out);
    if (r.kind == ReferenceKind::image || r.kind == ReferenceKind::index) {
        out << "Attached KubeArmor artifacts: " << r.attached.size() << " (from " << r.referrers_source << ")\n";
        for (const auto& attached : r.attached) {
            out << "  " << attached.digest.str() << "  created " << (attached.created.empty() ? "?" : attached.created)
                << "\n";
            print_policies(attached.policies, "    ", out);
        }
    }
    out << "Signatures:    " << r.signatures.size() << "\n";
    print_signature_reports(r.signatures, "  ", out);
    for (const auto& problem : r.signature_problems) out << "  unreadable  " << problem << "\n";
}

int run_inspect(const InspectFlags& flags, Streams& io) {
    InspectOptions options;
    if (auto target = parse_target(flags.reference, flags.oci_layout, options.reference, options.layout); !target)
        return report_error(target.error(), io);
    auto remote = flags.remote.resolve(io, options.reference.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    for (const auto& key : flags.keys) options.signature_keys.public_keys.emplace_back(key);
    options.signature_keys.signed_identity = flags.signed_identity;

    auto result = inspect_reference(options);
    if (!result) return report_error(result.error(), io);
    if (flags.output == "json") {
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
        io.out << out.dump(2) << "\n";
    } else {
        print_text(*result, io.out);
    }
    return exit_ok;
}

}  // namespace

void add_inspect_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<InspectFlags>();
    auto* cmd = oci.add_subcommand("inspect", "show what a reference holds, and the policies attached to an image");
    cmd->add_option("-i,--image", flags->reference, "reference to inspect, e.g. localhost:5000/shop/cart:1.4")
        ->required();
    cmd->add_option("--output", flags->output, "text for people, json for scripts")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->add_flag("--oci-layout", flags->oci_layout, "REF is a local OCI image layout DIR[:TAG|@DIGEST]");
    cmd->add_option("--key", flags->keys, "public key NAME.pub: show which signatures verify under it (repeatable)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--signed-identity", flags->signed_identity,
                    "with --key: REGISTRY/REPO the signatures must name instead of REF's");
    flags->remote.add_to(*cmd);
    cmd->footer(
        "\nExamples:\n"
        "  karmor oci inspect -i localhost:5000/myimage:latest\n"
        "  karmor oci inspect -i registry.example.com/team/policies:v3 --output json | jq .artifact.policies\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_inspect(*flags, io); }; });
}

}  // namespace karmor::cli
