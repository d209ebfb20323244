// The tree-building path of policy loading (issue 26): kept only until the event-driven path
// in loader.cpp has been shown to agree with it on every input, then removed.
#include "policy/tree_loader.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "policy/field_suggestion.hpp"
#include "policy/tree_validate.hpp"
#include "policy/yaml_document.hpp"
#include "policy/yaml_tree.hpp"

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;

// Built member by member rather than from a braced temporary: GCC 12 at -O3 takes the strings
// of such a temporary for uninitialized (-Wmaybe-uninitialized, a false positive).
void add_problem(std::vector<Diagnostic>& problems, SourcePosition where, std::string field_path, std::string message) {
    Diagnostic problem;
    problem.where = std::move(where);
    problem.field_path = std::move(field_path);
    problem.message = std::move(message);
    problems.push_back(std::move(problem));
}

struct KindInfo {
    const char* kind;
    const char* abbreviation;
    bool namespaced;
};

constexpr KindInfo kinds[] = {
    {"KubeArmorPolicy", "ksp", true},
    {"KubeArmorHostPolicy", "hsp", false},
    {"KubeArmorClusterPolicy", "csp", false},
    {"KubeArmorNetworkPolicy", "knp", false},
};

const KindInfo* find_kind(std::string_view kind) {
    for (const auto& info : kinds)
        if (kind == info.kind) return &info;
    return nullptr;
}

std::string scalar_or_empty(const YamlNode* node) {
    return node && node->is_scalar() ? node->text : std::string();
}

// Reads what identifies the document and checks that it is a KubeArmor policy at all.
bool check_kind(const YamlNode& doc, const SourcePosition& where, std::vector<Diagnostic>& problems) {
    const auto api_version = scalar_or_empty(doc.find("apiVersion"));
    const auto* kind_node = doc.find("kind");
    const auto kind = scalar_or_empty(kind_node);
    if (kind.empty()) {
        add_problem(problems, position_of(doc, where), "kind",
                    "document " + std::to_string(where.document) +
                        " has no kind: expected one of KubeArmorPolicy, KubeArmorHostPolicy, "
                        "KubeArmorClusterPolicy, KubeArmorNetworkPolicy");
        return false;
    }
    const std::string document = "document " + std::to_string(where.document);
    if (!find_kind(kind)) {
        std::vector<std::string_view> names;
        for (const auto& info : kinds) names.push_back(info.kind);
        const auto near = closest_name(kind, names);
        std::string what = kind + (api_version.empty() ? "" : " (" + api_version + ")");
        add_problem(problems, position_of(*kind_node, where), "kind",
                    near.empty() ? document + " is a " + what +
                                       ", not a KubeArmor policy: expected kind KubeArmorPolicy, "
                                       "KubeArmorHostPolicy, KubeArmorClusterPolicy or KubeArmorNetworkPolicy"
                                 : "unknown kind \"" + kind + "\"; did you mean " + near + "?");
        return false;
    }
    if (api_version != kubearmor_api_version) {
        // The kind is ours: the apiVersion line is the one to fix, so point at it.
        const auto* api_node = doc.find("apiVersion");
        add_problem(problems, position_of(api_node ? *api_node : doc, where), "apiVersion",
                    (api_version.empty() ? "missing; " : "\"" + api_version + "\" is not KubeArmor's API version; ") +
                        std::string("a ") + kind + " has apiVersion " + kubearmor_api_version);
        return false;
    }
    return true;
}

}  // namespace

DocumentsRead read_documents_with_tree(std::string_view text, const std::string& source_name,
                                       const LoadOptions& options, std::vector<Diagnostic>& problems) {
    DocumentsRead read;
    auto& policies = read.policies;
    YamlDocumentReader reader(text, options.limits.max_depth, options.cancel);
    int index = 0;
    while (const auto* root = reader.next()) {
        const auto& doc = *root;
        ++index;
        SourcePosition where{source_name, index, 0, 0};
        if (static_cast<std::uint64_t>(index) > options.limits.max_policies) {
            problems.push_back(
                {where, "",
                 "more than " + std::to_string(options.limits.max_policies) + " documents (raise --max-policies)"});
            policies.clear();
            read.too_many = true;
            return read;
        }
        if (doc.is_null()) continue;  // an empty document between two `---`
        where = position_of(doc, where);
        if (!doc.is_mapping()) {
            add_problem(problems, where, "", "document " + std::to_string(index) + " is not a mapping");
            continue;
        }
        if (!check_kind(doc, where, problems)) continue;

        const auto problems_before = problems.size();
        if (options.skip_validation) {
            const auto* metadata = doc.find("metadata");
            const auto* name = metadata && metadata->is_mapping() ? metadata->find("name") : nullptr;
            if (!name || !name->is_scalar() || name->text.empty())
                add_problem(problems, where, "metadata.name", "required field is missing");
        } else {
            validate_policy_document(doc, where, problems);
        }
        Policy policy;
        policy.document = yaml_to_json(doc, where, problems);
        if (problems.size() != problems_before) continue;

        policy.identity.kind = policy.document["kind"].get<std::string>();
        const auto& metadata = policy.document["metadata"];
        policy.identity.name =
            metadata["name"].is_string() ? metadata["name"].get<std::string>() : metadata["name"].dump();
        if (is_namespaced_kind(policy.identity.kind)) {
            // An empty namespace is the request's, as with none (issue 22).
            policy.identity.namespace_name = metadata.contains("namespace") && metadata["namespace"].is_string() &&
                                                     !metadata["namespace"].get_ref<const std::string&>().empty()
                                                 ? metadata["namespace"].get<std::string>()
                                                 : "default";
        }
        if (const auto spec = policy.document.find("spec"); spec != policy.document.end() && spec->is_object()) {
            if (const auto action = spec->find("action"); action != spec->end() && action->is_string())
                policy.action = action->get<std::string>();
            if (const auto severity = spec->find("severity"); severity != spec->end() && severity->is_number_integer())
                policy.severity = severity->get<std::int64_t>();
        }
        if (options.serialize_as) {
            policy.serialized = *options.serialize_as == PolicyFormat::json
                                    ? escape_unsafe_characters(policy.document.dump(2)) + "\n"
                                    : emit_yaml(policy.document);
            // Kept until the end of the command: the emitter's doubling left up to twice the
            // bytes allocated (100,000 policies: about 50 MB of slack, issue 18).
            policy.serialized.shrink_to_fit();
            policy.document = nullptr;
        }
        policy.origin = where;
        policies.push_back(std::move(policy));
    }
    read.syntax_error = reader.error();
    return read;
}

bool differential_check_enabled() {
    static const bool enabled = [] {
        const char* value = std::getenv("KARMOR_POLICY_DIFFERENTIAL");
        return value && std::string_view(value) == "1";
    }();
    return enabled;
}

namespace {

std::string describe_policy(const Policy& p) {
    std::string out = p.identity.str() + " at " + p.origin.str() + " doc " + std::to_string(p.origin.document) +
                      " action=" + p.action + " severity=" + (p.severity ? std::to_string(*p.severity) : "-");
    out += "\n  document: " + p.document.dump();
    out += "\n  serialized: " + json(p.serialized).dump(-1, ' ', false, json::error_handler_t::replace);
    return out;
}

std::string describe_problem(const Diagnostic& d) {
    return d.str() + " [doc " + std::to_string(d.where.document) + "]";
}

}  // namespace

std::string compare_paths(const std::vector<Policy>& tree_policies, const std::vector<Diagnostic>& tree_problems,
                          const std::vector<Policy>& policies, const std::vector<Diagnostic>& problems) {
    std::string a, b;
    for (const auto& p : tree_policies) a += "policy " + describe_policy(p) + "\n";
    for (const auto& d : tree_problems) a += "problem " + describe_problem(d) + "\n";
    for (const auto& p : policies) b += "policy " + describe_policy(p) + "\n";
    for (const auto& d : problems) b += "problem " + describe_problem(d) + "\n";
    if (a == b) return "";
    return "tree path:\n" + a + "event path:\n" + b;
}

void check_against_tree_path(std::string_view text, const std::string& source_name, const LoadOptions& options,
                             const std::vector<Policy>& policies, const std::vector<Diagnostic>& problems) {
    std::vector<Diagnostic> tree_problems;
    const auto tree_policies = parse_policy_text_with_tree(text, source_name, options, tree_problems);
    const auto difference = compare_paths(tree_policies, tree_problems, policies, problems);
    // KARMOR_POLICY_DIFFERENTIAL_LOG=FILE: one line per comparison, for counting them.
    if (const char* log = std::getenv("KARMOR_POLICY_DIFFERENTIAL_LOG")) {
        if (FILE* out = std::fopen(log, "a")) {
            std::fprintf(out, "%s %zu policies %zu problems %s\n", difference.empty() ? "same" : "DIFFERENT",
                         policies.size(), problems.size(), source_name.c_str());
            std::fclose(out);
        }
    }
    if (difference.empty()) return;
    std::fprintf(stderr, "KARMOR_POLICY_DIFFERENTIAL: the paths differ on %s:\n%s\n--- input ---\n%.*s\n---\n",
                 source_name.c_str(), difference.c_str(), static_cast<int>(text.size()), text.data());
    std::abort();
}

}  // namespace karmor::policy
