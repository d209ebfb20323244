// Strict schema validation (SPEC §5): what the API server does with a KubeArmor CRD under
// `kubectl apply --validate=strict`, against the tables of policy/schema.cpp, one node at a time.
#include "policy/validate.hpp"

#include <cmath>

#include "policy/field_suggestion.hpp"
#include "policy/scalars.hpp"

namespace karmor::policy {
namespace {

using json = nlohmann::ordered_json;
using schema::Node;
using schema::Type;

// The same bound as conversion's, which reports documents that aliases blow up.
constexpr std::size_t max_checked_nodes = 1'000'000;
// Enums longer than this (the 335 syscalls) are not listed in full in messages.
constexpr std::size_t max_listed_enum_values = 12;

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

std::string describe(const YamlScalar& value, const json& resolved) {
    if (resolved.is_null()) return "null";
    if (resolved.is_boolean()) return std::string("the boolean ") + (resolved.get<bool>() ? "true" : "false");
    if (resolved.is_number_integer()) return "the integer " + std::string(value.text);
    if (resolved.is_number()) return "the number " + std::string(value.text);
    return "the string " + in_quotes(value.text);
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

std::size_t utf8_length(std::string_view text) {
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
std::string unknown_field_message(std::string_view name, const Node& object, const Node* enclosing) {
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

int index_of(const std::vector<std::string>& names, std::string_view name) {
    for (std::size_t i = 0; i < names.size() && i < 64; ++i)
        if (names[i] == name) return static_cast<int>(i);
    return -1;
}

}  // namespace

// ---- RuleFactsCollector

void RuleFactsCollector::key(std::string_view name) {
    if (skip_depth_ > 0) return;
    auto& top = open_.back();
    top.next = Role::other;
    const auto first = [&top](int slot, Role role) {
        if (top.seen_first[slot]) return;
        top.seen_first[slot] = true;
        top.next = role;
    };
    switch (top.level) {
        case Level::object:
            if (name == "selector") first(0, Role::selector);
            if (name == "nodeSelector") first(1, Role::node_selector);
            if (name == "ingress") first(2, Role::ingress);
            if (name == "egress") first(3, Role::egress);
            return;
        case Level::selector:
            if (name == "matchLabels") first(0, Role::match);
            if (name == "matchExpressions") first(1, Role::match);
            return;
        case Level::rule:
            if (name == "limit") first(0, Role::limit);
            if (name == "duration") first(1, Role::duration);
            return;
        case Level::ingress_rules:
        case Level::egress_rules: return;
    }
}

void RuleFactsCollector::value_seen(Role role, bool null) {
    if (null) return;
    switch (role) {
        case Role::selector: facts_.selector = true; return;
        case Role::node_selector: facts_.node_selector = true; return;
        case Role::ingress: facts_.ingress = true; return;
        case Role::egress: facts_.egress = true; return;
        case Role::match: facts_.selector_matches = true; return;
        case Role::limit: open_.back().has_limit = true; return;
        case Role::duration: open_.back().has_duration = true; return;
        case Role::other: return;
    }
}

void RuleFactsCollector::scalar(bool null) {
    if (skip_depth_ > 0) return;
    auto& top = open_.back();
    if (top.level == Level::ingress_rules || top.level == Level::egress_rules) return;  // an item, not a rule object
    const auto role = top.next;
    top.next = Role::other;
    value_seen(role, null);
}

bool RuleFactsCollector::begin(bool mapping) {
    if (skip_depth_ > 0) {
        ++skip_depth_;
        return false;
    }
    auto& top = open_.back();
    if (top.level == Level::ingress_rules || top.level == Level::egress_rules) {
        if (mapping) {
            open_.push_back({Level::rule});
            return true;
        }
        skip_depth_ = 1;
        return false;
    }
    const auto role = top.next;
    top.next = Role::other;
    value_seen(role, false);
    if (role == Role::selector && mapping) {
        open_.push_back({Level::selector});
        return true;
    }
    if ((role == Role::ingress || role == Role::egress) && !mapping) {
        open_.push_back({role == Role::ingress ? Level::ingress_rules : Level::egress_rules});
        return true;
    }
    skip_depth_ = 1;
    return false;
}

void RuleFactsCollector::not_given() {
    --skip_depth_;
}

void RuleFactsCollector::end() {
    if (skip_depth_ > 0) {
        --skip_depth_;
        return;
    }
    const auto done = open_.back();
    open_.pop_back();
    if (done.level == Level::rule && !(done.has_limit && done.has_duration)) {
        if (open_.back().level == Level::ingress_rules)
            facts_.ingress_quotas = false;
        else
            facts_.egress_quotas = false;
    }
}

// ---- SchemaValidator

void SchemaValidator::reset(const Node& document_schema, const SourcePosition& where) {
    document_schema_ = &document_schema;
    where_ = &where;
    problems_.clear();
    frames_.clear();
    collectors_.clear();
    visited_ = 0;
}

void SchemaValidator::report(Position at, std::string message) {
    Diagnostic problem;
    problem.where.file = where_->file;
    problem.where.document = where_->document;
    problem.where.line = at.line;
    problem.where.column = at.column;
    problem.field_path = walk_.path();
    problem.message = std::move(message);
    problems_.push_back(std::move(problem));
}

void SchemaValidator::report_type(const YamlScalar& value, const json& resolved, Type expected) {
    std::string message = "expected " + expected_type(expected) + ", got " + describe(value, resolved);
    if (expected == Type::string && !value.null && !resolved.is_null()) {
        message += " (put it in quotes to make it a string)";
    } else if (resolved.is_string() && !value.null) {
        const auto unquoted = resolve_plain_scalar(value.text);
        if ((expected == Type::integer && is_integral(unquoted)) ||
            (expected == Type::boolean && unquoted.is_boolean()))
            message += " (remove the quotes)";
    }
    report({value.line, value.column}, std::move(message));
}

SchemaValidator::Check SchemaValidator::next_check(Position value, bool null) {
    if (frames_.empty()) return {document_schema_, value, nullptr};  // the root
    auto& top = frames_.back();
    switch (top.type) {
        case FrameType::object: {
            // Any entry with a value counts for `required`, repeated keys included.
            if (top.required_key >= 0 && !null) top.required_seen |= std::uint64_t{1} << top.required_key;
            top.required_key = -1;
            Check check = top.next;
            top.next = {};
            // The API server prunes null values before validating: a null field is absent.
            if (null) check.schema = nullptr;
            return check;
        }
        case FrameType::array: ++top.items; return {top.schema->items.get(), value, top.enclosing};
        case FrameType::ignored: return {};
    }
    return {};
}

void SchemaValidator::key(const YamlScalar& key) {
    for (auto& collector : collectors_) collector.key(key.text);
    auto& top = frames_.back();
    if (top.type != FrameType::object) return;
    const auto& schema = *top.schema;
    const auto name = key.text;
    const Position at{key.line, key.column};
    top.required_key = index_of(schema.required, name);
    if (const auto* property = schema.find(name)) {
        top.next = {property->schema.get(), at, &schema};
    } else if (schema.additional_properties) {
        if (schema.key_rule && !schema.key_rule->accepts(name))
            report(at, "invalid key " + in_quotes(name) + ": expected " + schema.key_rule->expectation());
        top.next = {schema.additional_properties.get(), at, &schema};
    } else {
        if (!schema.preserve_unknown_fields) report(at, unknown_field_message(name, schema, top.enclosing));
        top.next = {};
    }
}

void SchemaValidator::scalar(const YamlScalar& value) {
    for (auto& collector : collectors_) collector.scalar(value.null);
    const auto check = next_check({value.line, value.column}, value.null);
    if (!check.schema || ++visited_ > max_checked_nodes) return;
    switch (check.schema->type) {
        case Type::object:
        case Type::array: return report_type(value, scalar_value(value), check.schema->type);
        default: return check_scalar(value, *check.schema);
    }
}

bool SchemaValidator::begin(const YamlCollection& value) {
    bool collectors_want = false;
    for (auto& collector : collectors_) collectors_want = collector.begin(value.mapping) || collectors_want;
    const Position at{value.line, value.column};
    const auto check = next_check(at, false);
    if (check.schema && ++visited_ <= max_checked_nodes) {
        const auto type = check.schema->type;
        if (type == Type::object && value.mapping) {
            Frame frame;
            frame.type = FrameType::object;
            frame.schema = check.schema;
            frame.enclosing = check.enclosing;
            frame.anchor = check.anchor;
            frame.collects_facts = !check.schema->rules.empty();
            frames_.push_back(frame);
            if (frame.collects_facts) collectors_.emplace_back();
            return true;
        }
        if (type == Type::array && !value.mapping) {
            Frame frame;
            frame.type = FrameType::array;
            frame.schema = check.schema;
            frame.enclosing = check.enclosing;
            frame.anchor = at;
            frame.problems_at = problems_.size();
            frames_.push_back(frame);
            return true;
        }
        report(at, "expected " + expected_type(type) + ", got " + (value.mapping ? "an object" : "a list"));
    }
    if (collectors_want) {
        frames_.push_back({});  // ignored: only the rule facts need what is inside
        return true;
    }
    for (auto& collector : collectors_) collector.not_given();
    return false;
}

void SchemaValidator::end() {
    const Frame done = frames_.back();
    frames_.pop_back();
    if (done.collects_facts) {
        finish_object(done);
        collectors_.pop_back();
        for (auto& collector : collectors_) collector.end();
        return;
    }
    for (auto& collector : collectors_) collector.end();
    if (done.type == FrameType::object) {
        finish_object(done);
    } else if (done.type == FrameType::array && done.schema->max_items && done.items > *done.schema->max_items) {
        // Reported before the problems of the items, where the list starts.
        Diagnostic problem;
        problem.where = *where_;
        problem.where.line = done.anchor.line;
        problem.where.column = done.anchor.column;
        problem.field_path = walk_.path();
        problem.message = "has " + std::to_string(done.items) + " items: at most " +
                          std::to_string(*done.schema->max_items) + " are allowed";
        problems_.insert(problems_.begin() + static_cast<std::ptrdiff_t>(done.problems_at), std::move(problem));
    }
}

void SchemaValidator::finish_object(const Frame& frame) {
    const auto& schema = *frame.schema;
    for (std::size_t i = 0; i < schema.required.size(); ++i) {
        if (i < 64 && (frame.required_seen & (std::uint64_t{1} << i))) continue;
        std::string message = "required field is missing";
        if (!schema.why_required.empty()) message += ": " + schema.why_required;
        report(frame.anchor, std::move(message));
        auto& path = problems_.back().field_path;
        if (!path.empty()) path += '.';
        path += schema.required[i];
    }
    if (schema.rules.empty()) return;
    const auto& facts = collectors_.back().facts();
    for (const auto& rule : schema.rules)
        if (!rule.holds(facts)) report(frame.anchor, rule.message);
}

void SchemaValidator::check_scalar(const YamlScalar& value, const Node& schema) {
    if (schema.type == Type::string && scalar_is_string(value)) return check_string(value, schema);
    const json resolved = scalar_value(value);
    switch (schema.type) {
        case Type::string:
            if (value.null || !resolved.is_string()) return report_type(value, resolved, schema.type);
            return check_string(value, schema);
        case Type::integer:
            if (value.null || !is_integral(resolved)) return report_type(value, resolved, schema.type);
            return check_range(value, resolved, schema);
        case Type::boolean:
            if (value.null || !resolved.is_boolean()) return report_type(value, resolved, schema.type);
            return;
        default: return;
    }
}

void SchemaValidator::check_string(const YamlScalar& value, const Node& schema) {
    const auto text = value.text;
    const Position at{value.line, value.column};
    if (!schema.enum_values.empty()) check_enum(value, schema.enum_values);
    if (schema.max_length && utf8_length(text) > *schema.max_length)
        report(at, "is " + std::to_string(utf8_length(text)) + " characters long: at most " +
                       std::to_string(*schema.max_length) + " are allowed");
    if (const auto* rule = schema.string_rule; rule && !rule->accepts(text)) {
        if (rule->crd_pattern().empty())
            report(at, in_quotes(text) + " is invalid: expected " + rule->expectation());
        else
            report(at, in_quotes(text) + " does not match the pattern " + rule->crd_pattern() + ": expected " +
                           rule->expectation());
    }
}

void SchemaValidator::check_enum(const YamlScalar& value, const std::vector<std::string>& allowed) {
    const auto text = value.text;
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
    report({value.line, value.column}, std::move(message));
}

void SchemaValidator::check_range(const YamlScalar& value, const json& resolved, const Node& schema) {
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
    report({value.line, value.column}, std::string(value.text) + " is out of range: expected an integer " + expected);
}

}  // namespace karmor::policy
