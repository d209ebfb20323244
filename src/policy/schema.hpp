// The OpenAPI schemas of the four KubeArmor kinds, encoded by hand from KubeArmor's CRDs
// (shared/kubearmor/crds, SPEC §5), plus the ObjectMeta fields the API server accepts in
// `metadata`. tests/unit/schema_drift_test.cpp compares these tables with the CRDs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karmor::policy::schema {

enum class Type { string, integer, boolean, object, array };

std::string_view type_name(Type type);  // as in the CRD: "string", "integer", ...

// A rule a string value must follow: either a CRD `pattern` or one of the Kubernetes name
// rules the API server applies to metadata. Patterns are matched by hand-written functions, not
// a regex engine: every path of every policy goes through them, and std::regex cost more than
// the rest of validation (issue 26). tests/unit/string_rules_test.cpp checks each matcher against
// its pattern with std::regex.
class StringRule {
public:
    // `crd_pattern` is the CRD's, in Go RE2 syntax, matched anywhere in the value as Go's
    // regexp.MatchString does (the CRD anchors it with ^ and $ where it means to); `matches` is
    // its hand-written equivalent.
    static StringRule pattern(std::string crd_pattern, bool (*matches)(std::string_view), std::string expectation);
    // A CRD pattern of the form `(word|word|...)$`: the value ends with one of the words.
    static StringRule ends_with_alternative(std::string crd_pattern, std::string expectation);
    static StringRule predicate(bool (*accepts)(std::string_view), std::string expectation);

    bool accepts(std::string_view value) const;
    const std::string& crd_pattern() const { return crd_pattern_; }  // empty for predicates
    const std::string& expectation() const { return expectation_; }  // "an absolute path ..."

private:
    std::string crd_pattern_;
    std::string expectation_;
    bool (*accepts_)(std::string_view) = nullptr;
    std::vector<std::string> endings_;  // ends_with_alternative
};

// What the CRDs' `x-kubernetes-validations` rules read of the object they are attached to (a
// KubeArmorNetworkPolicy's spec), collected while its events go by. `has(x)` in CEL is true
// when the field is there and not null (the API server prunes nulls first); the first of
// repeated keys counts, as the API server's decoder would have refused the repetition anyway.
struct RuleFacts {
    bool selector = false;          // has(self.selector)
    bool selector_matches = false;  // has(self.selector.matchLabels) || has(self.selector.matchExpressions)
    bool node_selector = false;     // has(self.nodeSelector)
    bool ingress = false;           // has(self.ingress)
    bool ingress_quotas = true;     // self.ingress.all(i, has(i.limit) && has(i.duration)) (true if not a list)
    bool egress = false;
    bool egress_quotas = true;
};

// An `x-kubernetes-validations` rule of the CRD, implemented by hand over RuleFacts.
struct CrossFieldRule {
    std::string cel;      // the CRD's rule text, for the drift test
    std::string message;  // the CRD's message, reported when the rule does not hold
    bool (*holds)(const RuleFacts& object);
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Property {
    std::string name;
    NodePtr schema;
};

struct Node {
    Type type = Type::string;

    // type object
    std::vector<Property> properties;
    std::vector<std::string> required;
    NodePtr additional_properties;         // a map: any key, values of this schema
    const StringRule* key_rule = nullptr;  // for maps whose keys Kubernetes checks (labels)
    bool preserve_unknown_fields = false;  // x-kubernetes-preserve-unknown-fields
    std::vector<CrossFieldRule> rules;     // x-kubernetes-validations
    std::string why_required;              // added to "required field is missing"

    // type array
    NodePtr items;
    std::optional<std::size_t> max_items;

    // scalars
    std::vector<std::string> enum_values;
    std::optional<std::int64_t> minimum;
    std::optional<std::int64_t> maximum;
    std::optional<std::size_t> max_length;  // in characters (UTF-8 code points)
    std::string format;                     // recorded, not checked: the API server checks no integer format
    const StringRule* string_rule = nullptr;

    const Property* find(std::string_view name) const;
};

// The schema of a whole document of `kind` (apiVersion, kind, metadata, spec, status), or
// nullptr for a kind that is not KubeArmor's. The tables are built on first use and shared.
const Node* document_schema(std::string_view kind);

}  // namespace karmor::policy::schema
