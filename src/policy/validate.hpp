// Checks one policy document the way `kubectl apply --validate=strict` would (SPEC §5), as its
// nodes go by: a DocumentObserver of a DocumentWalk, against the tables of policy/schema.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/document_walk.hpp"
#include "policy/schema.hpp"

namespace karmor::policy {

// Collects the RuleFacts of the object a rule is attached to, from the events inside it.
class RuleFactsCollector {
public:
    void key(std::string_view name);
    void scalar(bool null);
    bool begin(bool mapping);  // false: it needs neither the children nor the end
    void end();
    // The collection it was just given begin() of will not be given after all.
    void not_given();
    const schema::RuleFacts& facts() const { return facts_; }

private:
    enum class Role : std::uint8_t { other, selector, node_selector, ingress, egress, match, limit, duration };
    enum class Level : std::uint8_t { object, selector, ingress_rules, egress_rules, rule };
    struct Open {
        Level level = Level::object;
        Role next = Role::other;  // what the next value is
        bool has_limit = false;
        bool has_duration = false;
        bool seen_first[4] = {};  // the first occurrence of each key this level looks at
    };
    void value_seen(Role role, bool null);

    schema::RuleFacts facts_;
    std::vector<Open> open_{Open{}};
    std::size_t skip_depth_ = 0;
};

class SchemaValidator final : public DocumentObserver {
public:
    explicit SchemaValidator(const DocumentWalk& walk) : walk_(walk) {}

    // For the next document, whose root must be a mapping of the kind `document_schema` is for.
    // `where` (the file and document) must outlive the document.
    void reset(const schema::Node& document_schema, const SourcePosition& where);
    // Every problem, each with the position of the offending node (the key of an unknown field,
    // the value of a bad one), its field path and what was expected, in document order.
    std::vector<Diagnostic>& problems() { return problems_; }

    void key(const YamlScalar& key) override;
    void bad_key(int, int) override {}  // not checked: conversion reports keys that are not strings
    void scalar(const YamlScalar& value) override;
    bool begin(const YamlCollection& value) override;
    void end() override;

private:
    struct Position {
        int line = 0;
        int column = 0;
    };
    // How the next value is checked; no schema: not at all.
    struct Check {
        const schema::Node* schema = nullptr;
        Position anchor;                          // where missing required fields of an object go
        const schema::Node* enclosing = nullptr;  // the object schema one level up, for messages
    };
    enum class FrameType : std::uint8_t { object, array, ignored };
    struct Frame {
        FrameType type = FrameType::ignored;
        const schema::Node* schema = nullptr;
        const schema::Node* enclosing = nullptr;
        Position anchor;                  // objects: missing required fields; arrays: the list itself
        std::uint64_t required_seen = 0;  // objects: bit i when required[i] has a value
        int required_key = -1;            // objects: the current key's index in required
        Check next;                       // objects: the current key's value
        std::size_t items = 0;            // arrays
        std::size_t problems_at = 0;      // arrays: where a maxItems problem goes
        bool collects_facts = false;
    };
    Check next_check(Position value, bool null);
    void report(Position at, std::string message);
    void report_type(const YamlScalar& value, const nlohmann::ordered_json& resolved, schema::Type expected);
    void check_scalar(const YamlScalar& value, const schema::Node& schema);
    void check_string(const YamlScalar& value, const schema::Node& schema);
    void check_enum(const YamlScalar& value, const std::vector<std::string>& allowed);
    void check_range(const YamlScalar& value, const nlohmann::ordered_json& resolved, const schema::Node& schema);
    void finish_object(const Frame& frame);

    const DocumentWalk& walk_;
    const schema::Node* document_schema_ = nullptr;
    const SourcePosition* where_ = nullptr;
    std::vector<Diagnostic> problems_;
    std::vector<Frame> frames_;
    std::vector<RuleFactsCollector> collectors_;  // of the open objects that have rules
    std::size_t visited_ = 0;
};

}  // namespace karmor::policy
