#include "kube/objects.hpp"

#include <set>

#include "karmor/digest.hpp"
#include "karmor/kube.hpp"

namespace karmor::kube {
namespace {

using Json = nlohmann::json;
using Ordered = nlohmann::ordered_json;

// `live` holds `intended`: objects key by key, arrays element by element, scalars equal.
bool contains(const Json& live, const Ordered& intended) {
    if (intended.is_object()) {
        if (!live.is_object()) return false;
        for (const auto& [key, value] : intended.items()) {
            const auto found = live.find(key);
            if (found == live.end() || !contains(*found, value)) return false;
        }
        return true;
    }
    if (intended.is_array()) {
        if (!live.is_array() || live.size() != intended.size()) return false;
        for (std::size_t i = 0; i < intended.size(); ++i)
            if (!contains(live[i], intended[i])) return false;
        return true;
    }
    // 5 and 5.0 are one number to the API server.
    if (intended.is_number() && live.is_number()) return intended.get<double>() == live.get<double>();
    return Json(intended) == live;
}

Ordered without_provenance(Ordered object) {
    if (object.contains("metadata") && object["metadata"].contains("annotations")) {
        auto& annotations = object["metadata"]["annotations"];
        for (const char* key :
             {kube_reference_annotation, kube_tag_annotation, kube_digest_annotation, kube_applied_annotation})
            annotations.erase(key);
    }
    return object;
}

}  // namespace

const std::vector<ResourceType>& resource_types() {
    static const std::vector<ResourceType> types{
        {"KubeArmorPolicy", "kubearmorpolicies", true},
        {"KubeArmorHostPolicy", "kubearmorhostpolicies", false},
        {"KubeArmorClusterPolicy", "kubearmorclusterpolicies", false},
        {"KubeArmorNetworkPolicy", "kubearmornetworkpolicies", false},
    };
    return types;
}

const ResourceType* resource_for_kind(std::string_view kind) {
    for (const auto& type : resource_types())
        if (kind == type.kind) return &type;
    return nullptr;
}

std::string resource_path(const ResourceType& type, const std::string& namespace_name, const std::string& name) {
    std::string path = std::string("/apis/") + kubearmor_group + "/v1";
    if (type.namespaced && !namespace_name.empty()) path += "/namespaces/" + namespace_name;
    path += std::string("/") + type.plural;
    if (!name.empty()) path += "/" + name;
    return path;
}

Ordered applied_object(const Ordered& document, const std::string& namespace_name, const Provenance& provenance) {
    Ordered object = document;
    auto& metadata = object["metadata"];
    if (!namespace_name.empty()) metadata["namespace"] = namespace_name;
    auto& labels = metadata["labels"];
    if (!labels.is_object()) labels = Ordered::object();
    labels[kube_managed_by_label] = kube_field_manager;
    labels[kube_set_label] = provenance.set;
    auto& annotations = metadata["annotations"];
    if (!annotations.is_object()) annotations = Ordered::object();
    annotations[kube_reference_annotation] = provenance.reference;
    if (!provenance.tag.empty()) annotations[kube_tag_annotation] = provenance.tag;
    annotations[kube_digest_annotation] = provenance.digest;
    annotations[kube_applied_annotation] = Digest::sha256_of(without_provenance(object).dump()).hex();
    return object;
}

bool is_unchanged(const Json& live, const Ordered& intended) {
    const auto& annotations = intended["metadata"]["annotations"];
    const auto live_annotations =
        live.contains("metadata") ? live["metadata"].value("annotations", Json::object()) : Json::object();
    if (!live_annotations.is_object() ||
        live_annotations.value(kube_applied_annotation, "") != annotations.value(kube_applied_annotation, ""))
        return false;
    Ordered compared = intended;
    for (const char* key : {kube_reference_annotation, kube_tag_annotation, kube_digest_annotation})
        compared["metadata"]["annotations"].erase(key);
    return contains(live, compared);
}

std::string set_of(const Json& live) {
    if (!live.contains("metadata") || !live["metadata"].is_object()) return {};
    const auto labels = live["metadata"].value("labels", Json::object());
    if (!labels.is_object()) return {};
    const auto found = labels.find(kube_set_label);
    return found != labels.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::vector<std::string> field_managers(const Json& live) {
    std::vector<std::string> managers;
    std::set<std::string> seen;
    if (!live.contains("metadata") || !live["metadata"].contains("managedFields")) return managers;
    const auto& fields = live["metadata"]["managedFields"];
    if (!fields.is_array()) return managers;
    for (const auto& entry : fields) {
        if (!entry.is_object() || !entry.contains("manager") || !entry["manager"].is_string()) continue;
        const auto manager = entry["manager"].get<std::string>();
        if (seen.insert(manager).second) managers.push_back(manager);
    }
    return managers;
}

std::string label_value(const std::string& text) {
    std::string value;
    for (const char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
            value += c;
        else
            value += c == '/' ? '.' : '-';
    }
    if (value.size() > 63) {
        // Keep it unique: the end of the path and a short hash of the whole.
        const auto hash = Digest::sha256_of(text).hex().substr(0, 8);
        value = value.substr(value.size() - 54) + "-" + hash;
    }
    // Begins and ends with an alphanumeric character.
    while (!value.empty() && !std::isalnum(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
    while (!value.empty() && !std::isalnum(static_cast<unsigned char>(value.back()))) value.pop_back();
    return value.empty() ? "policies" : value;
}

}  // namespace karmor::kube
