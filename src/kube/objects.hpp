// KubeArmor's custom resources as the API server serves them, and the objects karmor applies:
// the policy with karmor's labels and provenance annotations, and how a live object is told to
// be karmor's, and unchanged.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/policy.hpp"

namespace karmor::kube {

inline constexpr const char* kubearmor_group = "security.kubearmor.com";

struct ResourceType {
    const char* kind;
    const char* plural;
    bool namespaced;
    std::string resource() const { return std::string(plural) + "." + kubearmor_group; }
};

// The four kinds, in a fixed order; nullptr for another kind.
const std::vector<ResourceType>& resource_types();
const ResourceType* resource_for_kind(std::string_view kind);

// /apis/security.kubearmor.com/v1[/namespaces/NS]/PLURAL[/NAME]; the collection of every
// namespace when `namespace_name` and `name` are empty.
std::string resource_path(const ResourceType& type, const std::string& namespace_name, const std::string& name);

struct Provenance {
    std::string set;
    std::string reference;  // REPO@DIGEST
    std::string tag;
    std::string digest;
};

// What karmor server-side applies for `document`: the policy in its own key order with
// metadata.namespace set (namespaced kinds), karmor's labels and annotations added, and the
// sha256 of it without the provenance annotations in kube_applied_annotation.
nlohmann::ordered_json applied_object(const nlohmann::ordered_json& document, const std::string& namespace_name,
                                      const Provenance& provenance);

// The live object holds what `intended` says (every field of it with the same value; lists
// alike element by element), the provenance annotations aside, and was applied with the same
// content hash: then applying it again would change nothing.
bool is_unchanged(const nlohmann::json& live, const nlohmann::ordered_json& intended);

// The set label's value on a live object, "" when it has none.
std::string set_of(const nlohmann::json& live);
// The field managers of a live object (metadata.managedFields[].manager), for messages.
std::vector<std::string> field_managers(const nlohmann::json& live);

// A valid label value from `text` ('/' as '.', other characters as '-', at most 63).
std::string label_value(const std::string& text);

}  // namespace karmor::kube
