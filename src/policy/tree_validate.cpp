// Strict schema validation (SPEC §5): what the API server does with a KubeArmor CRD under
// `kubectl apply --validate=strict`, against the tables of policy/schema.cpp.
#include "policy/tree_validate.hpp"

#include <algorithm>
#include <cmath>

#include "policy/field_suggestion.hpp"
#include "policy/schema.hpp"
#include "policy/yaml_document.hpp"

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;
using schema::Node;
using schema::Type;

// The same bound as yaml_to_json, which reports documents that aliases blow up.
constexpr std::size_t max_checked_nodes = 1'000'000;
// Enums longer than this (the 335 syscalls) are not listed in full in messages.
constexpr std::size_t max_listed_enum_values = 12;

// The API server prunes null values before validating, so a null field counts as absent.
bool is_absent(const YamlNode* node) {
    return !node || node->is_null();
}

// Appended piece by piece: GCC 12 at -O3 reports `"\"" + std::string(...)` as an
// overlapping copy (-Wrestrict, a false positive).
std::string in_quotes(std::string_view text) {
    constexpr std::size_t limit = 80;
    std::string out = "\"";
    out.append(text.substr(0, limit));
    if (text.size() > limit) out += "...";
    out += '"';
    return out;
}

std::string expected_type(Type type) {
    switch (type) {
        case Type::string: return "a string";
        case Type::integer: return "an integer";
        case Type::boolean: return "a boolean (true or false)";
        case Type::object: return "an object";
        case Type::array: return "a list";
    }
    return "?";
}

std::string describe(const YamlNode& node, const json& value) {
    if (node.is_mapping()) return "an object";
    if (node.is_sequence()) return "a list";
    if (value.is_null()) return "null";
    if (value.is_boolean()) return std::string("the boolean ") + (value.get<bool>() ? "true" : "false");
    if (value.is_number_integer()) return "the integer " + node.text;
    if (value.is_number()) return "the number " + node.text;
    return "the string " + in_quotes(node.text);
}

bool is_integral(const json& value) {
    if (value.is_number_integer()) return true;
    // YAML `5.0` reaches the API server as the JSON number 5, which is an integer.
    if (!value.is_number_float()) return false;
    const double d = value.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
}

// -1, 0 or 1 as an integral JSON number (see is_integral) is below, at or above `bound`.
int compare(const json& number, std::int64_t bound) {
    if (number.is_number_unsigned()) {
        const auto value = number.get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(INT64_MAX)) return 1;
        const auto signed_value = static_cast<std::int64_t>(value);
        return signed_value < bound ? -1 : signed_value > bound ? 1 : 0;
    }
    if (number.is_number_integer()) {
        const auto value = number.get<std::int64_t>();
        return value < bound ? -1 : value > bound ? 1 : 0;
    }
    const auto value = number.get<double>();
    const auto limit = static_cast<double>(bound);
    return value < limit ? -1 : value > limit ? 1 : 0;
}

std::size_t utf8_length(const std::string& text) {
    std::size_t count = 0;
    for (char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    return count;
}

std::string join_quoted(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& value : values) out += (out.empty() ? "" : ", ") + in_quotes(value);
    return out;
}

std::vector<std::string_view> field_names(const Node& object) {
    std::vector<std::string_view> names;
    for (const auto& property : object.properties) names.push_back(property.name);
    return names;
}

const Node* object_schema_of(const Node& node) {
    if (node.type == Type::object) return &node;
    if (node.type == Type::array && node.items && node.items->type == Type::object) return node.items.get();
    return nullptr;
}

// Why a field is unknown, with the likely fix: a typo, a block indented under the wrong key,
// or the list of fields that are allowed here.
std::string unknown_field_message(const std::string& name, const Node& object, const Node* enclosing) {
    const auto names = field_names(object);
    if (auto typo = closest_name(name, names); !typo.empty()) return "unknown field (did you mean \"" + typo + "\"?)";
    std::string owners;
    for (const auto& property : object.properties) {
        const auto* child = object_schema_of(*property.schema);
        if (child && child->find(name)) owners += (owners.empty() ? "\"" : " or \"") + property.name + "\"";
    }
    if (!owners.empty()) return "unknown field (it is a field of " + owners + ": is it indented too little?)";
    if (enclosing && enclosing->find(name)) return "unknown field (it belongs one level up: is it indented too much?)";
    if (names.empty()) return "unknown field (no fields are allowed here)";
    std::string allowed;
    for (const auto field : names) allowed += (allowed.empty() ? "" : ", ") + std::string(field);
    return "unknown field (expected one of: " + allowed + ")";
}

bool has_field(const YamlNode& object, const std::string& name) {
    for (const auto& [key, value] : object.entries)
        if (key->is_scalar() && key->text == name && !is_absent(value)) return true;
    return false;
}

bool has(const YamlNode& object, const char* key) {
    if (!object.is_mapping()) return false;
    const auto* value = object.find(key);
    return value && !value->is_null();
}

bool every_rule_has_limit_and_duration(const YamlNode& spec, const char* direction) {
    if (!has(spec, direction)) return true;
    const auto& rules = *spec.find(direction);
    if (!rules.is_sequence()) return true;
    return std::all_of(rules.items.begin(), rules.items.end(), [](const YamlNode* rule) {
        return !rule->is_mapping() || (has(*rule, "limit") && has(*rule, "duration"));
    });
}

schema::RuleFacts facts_of(const YamlNode& object) {
    schema::RuleFacts facts;
    facts.selector = has(object, "selector");
    if (facts.selector) {
        const auto& selector = *object.find("selector");
        facts.selector_matches = has(selector, "matchLabels") || has(selector, "matchExpressions");
    }
    facts.node_selector = has(object, "nodeSelector");
    facts.ingress = has(object, "ingress");
    facts.ingress_quotas = every_rule_has_limit_and_duration(object, "ingress");
    facts.egress = has(object, "egress");
    facts.egress_quotas = every_rule_has_limit_and_duration(object, "egress");
    return facts;
}

// Appends a segment to the field path for the lifetime of the object.
class PathSegment {
public:
    PathSegment(std::string& path, std::string_view field) : path_(path), size_(path.size()) {
        if (!path_.empty()) path_ += '.';
        path_ += field;
    }
    PathSegment(std::string& path, std::size_t index) : path_(path), size_(path.size()) {
        path_ += '[' + std::to_string(index) + ']';
    }
    ~PathSegment() { path_.resize(size_); }
    PathSegment(const PathSegment&) = delete;
    PathSegment& operator=(const PathSegment&) = delete;

private:
    std::string& path_;
    std::size_t size_;
};

class Walker {
public:
    Walker(const SourcePosition& where, std::vector<Diagnostic>& problems) : where_(where), problems_(problems) {}

    // `anchor` is where the value was introduced (its key, or the list item): required fields
    // that are missing are reported there. `enclosing` is the object schema one level up.
    void check(const YamlNode& value, const Node& schema, const YamlNode& anchor, const Node* enclosing) {
        if (++visited_ > max_checked_nodes) return;
        switch (schema.type) {
            case Type::object: return check_object(value, schema, anchor, enclosing);
            case Type::array: return check_array(value, schema, enclosing);
            default: return check_scalar(value, schema);
        }
    }

private:
    // Positions are built only for problems: copying the file name for every node would
    // cost more than the checks themselves.
    SourcePosition at(const YamlNode& node) const { return position_of(node, where_); }

    void report(const YamlNode& node, std::string message) {
        problems_.push_back({at(node), path_, std::move(message)});
    }

    void report_type(const YamlNode& value, const json& resolved, Type expected) {
        std::string message = "expected " + expected_type(expected) + ", got " + describe(value, resolved);
        if (expected == Type::string && value.is_scalar() && !resolved.is_null()) {
            message += " (put it in quotes to make it a string)";
        } else if (resolved.is_string() && value.is_scalar()) {
            const auto unquoted = resolve_plain_scalar(value.text);
            if ((expected == Type::integer && is_integral(unquoted)) ||
                (expected == Type::boolean && unquoted.is_boolean()))
                message += " (remove the quotes)";
        }
        report(value, std::move(message));
    }

    void check_object(const YamlNode& value, const Node& schema, const YamlNode& anchor, const Node* enclosing) {
        if (!value.is_mapping()) return report_type(value, scalar_value(value), Type::object);
        for (const auto& [key, child] : value.entries) {
            if (!key->is_scalar()) continue;  // yaml_to_json reports non-string keys
            const auto& name = key->text;
            PathSegment segment(path_, name);
            if (const auto* property = schema.find(name)) {
                if (!is_absent(child)) check(*child, *property->schema, *key, &schema);
            } else if (schema.additional_properties) {
                if (schema.key_rule && !schema.key_rule->accepts(name))
                    report(*key, "invalid key " + in_quotes(name) + ": expected " + schema.key_rule->expectation());
                if (!is_absent(child)) check(*child, *schema.additional_properties, *key, &schema);
            } else if (!schema.preserve_unknown_fields) {
                report(*key, unknown_field_message(name, schema, enclosing));
            }
        }
        for (const auto& required : schema.required) {
            if (has_field(value, required)) continue;
            PathSegment segment(path_, required);
            std::string message = "required field is missing";
            if (!schema.why_required.empty()) message += ": " + schema.why_required;
            problems_.push_back({at(anchor), path_, std::move(message)});
        }
        if (!schema.rules.empty()) {
            const auto facts = facts_of(value);
            for (const auto& rule : schema.rules)
                if (!rule.holds(facts)) problems_.push_back({at(anchor), path_, rule.message});
        }
    }

    void check_array(const YamlNode& value, const Node& schema, const Node* enclosing) {
        if (!value.is_sequence()) return report_type(value, scalar_value(value), Type::array);
        if (schema.max_items && value.items.size() > *schema.max_items)
            report(value, "has " + std::to_string(value.items.size()) + " items: at most " +
                              std::to_string(*schema.max_items) + " are allowed");
        std::size_t index = 0;
        for (const auto* item : value.items) {
            PathSegment segment(path_, index++);
            check(*item, *schema.items, *item, enclosing);
        }
    }

    void check_scalar(const YamlNode& value, const Node& schema) {
        if (schema.type == Type::string && value.is_scalar() && scalar_is_string(value))
            return check_string(value, schema);
        const json resolved = scalar_value(value);
        switch (schema.type) {
            case Type::string:
                if (!value.is_scalar() || !resolved.is_string()) return report_type(value, resolved, schema.type);
                return check_string(value, schema);
            case Type::integer:
                if (!value.is_scalar() || !is_integral(resolved)) return report_type(value, resolved, schema.type);
                return check_range(value, resolved, schema);
            case Type::boolean:
                if (!value.is_scalar() || !resolved.is_boolean()) return report_type(value, resolved, schema.type);
                return;
            default: return;
        }
    }

    void check_string(const YamlNode& value, const Node& schema) {
        const auto& text = value.text;
        if (!schema.enum_values.empty()) check_enum(value, schema.enum_values);
        if (schema.max_length && utf8_length(text) > *schema.max_length)
            report(value, "is " + std::to_string(utf8_length(text)) + " characters long: at most " +
                              std::to_string(*schema.max_length) + " are allowed");
        if (const auto* rule = schema.string_rule; rule && !rule->accepts(text)) {
            if (rule->crd_pattern().empty())
                report(value, in_quotes(text) + " is invalid: expected " + rule->expectation());
            else
                report(value, in_quotes(text) + " does not match the pattern " + rule->crd_pattern() + ": expected " +
                                  rule->expectation());
        }
    }

    void check_enum(const YamlNode& value, const std::vector<std::string>& allowed) {
        const auto& text = value.text;
        for (const auto& candidate : allowed)
            if (candidate == text) return;
        std::string message = "unsupported value " + in_quotes(text) + ": expected ";
        if (allowed.size() <= max_listed_enum_values) {
            message += "one of " + join_quoted(allowed) + " (case-sensitive)";
        } else {
            message += "one of " + std::to_string(allowed.size()) + " values";
            const std::vector<std::string_view> names(allowed.begin(), allowed.end());
            if (auto close = closest_name(text, names); !close.empty()) message += " (did you mean \"" + close + "\"?)";
        }
        report(value, std::move(message));
    }

    void check_range(const YamlNode& value, const json& resolved, const Node& schema) {
        const bool too_small = schema.minimum && compare(resolved, *schema.minimum) < 0;
        const bool too_large = schema.maximum && compare(resolved, *schema.maximum) > 0;
        if (!too_small && !too_large) return;
        std::string expected;
        if (schema.minimum && schema.maximum)
            expected = "from " + std::to_string(*schema.minimum) + " to " + std::to_string(*schema.maximum);
        else if (schema.minimum)
            expected = "of at least " + std::to_string(*schema.minimum);
        else
            expected = "of at most " + std::to_string(*schema.maximum);
        report(value, value.text + " is out of range: expected an integer " + expected);
    }

    const SourcePosition& where_;
    std::vector<Diagnostic>& problems_;
    std::string path_;
    std::size_t visited_ = 0;
};

}  // namespace

void validate_policy_document(const YamlNode& document, const SourcePosition& where,
                              std::vector<Diagnostic>& problems) {
    const auto* kind = document.find("kind");
    const auto* schema = schema::document_schema(kind && kind->is_scalar() ? kind->text : std::string());
    if (!schema) return;  // the loader reports documents that are not KubeArmor policies
    // The CRD does not list metadata as required, but a name is, and it lives there.
    if (is_absent(document.find("metadata")))
        problems.push_back({position_of(document, where), "metadata", "required field is missing"});
    Walker(where, problems).check(document, *schema, document, nullptr);
}

}  // namespace karmor::policy
