// What identifies a policy document (SPEC §5), noted as its nodes go by: the kind of its root,
// the apiVersion and kind, metadata's name and namespace, and the spec's action and severity
// that the config index shows. Only the first two levels below the root are looked at.
#pragma once

#include <string>

#include "policy/document_walk.hpp"

namespace karmor::policy {

class DocumentIdentity final : public DocumentObserver {
public:
    enum class Root : std::uint8_t { none, null, scalar, sequence, mapping };
    // A field's value: `present` when the key is there; `scalar` when its value is a scalar
    // that is not null (then `text`, as written, and `resolvable`).
    struct Field {
        bool present = false;
        bool null = false;
        bool scalar = false;
        bool resolvable = false;
        std::string text;
        int line = 0;
        int column = 0;
    };

    void reset();

    Root root() const { return root_; }
    int root_line() const { return root_line_; }
    int root_column() const { return root_column_; }
    // As a lookup by key finds them: the first entry with the key, even when its value is null.
    const Field& api_version() const { return api_version_; }
    const Field& kind() const { return kind_; }
    const Field& metadata() const { return metadata_; }  // not `scalar`; `text` unused
    bool metadata_is_mapping() const { return metadata_mapping_; }
    const Field& first_name() const { return first_name_; }  // in the first metadata, when a mapping
    // As the API server's JSON has them (nulls pruned): the first entry with a value.
    const Field& name() const { return name_; }
    const Field& namespace_name() const { return namespace_; }
    const Field& action() const { return action_; }
    const Field& severity() const { return severity_; }

    void key(const YamlScalar& key) override;
    void bad_key(int, int) override {}
    void scalar(const YamlScalar& value) override;
    bool begin(const YamlCollection& value) override;
    void end() override;

private:
    // What the value of the current key is to this observer.
    enum class Role : std::uint8_t { other, api_version, kind, metadata, spec, name, namespace_name, action, severity };
    void take(const YamlScalar* scalar, const YamlCollection* collection);

    Root root_ = Root::none;
    int root_line_ = 0;
    int root_column_ = 0;
    int depth_ = 0;             // 1: in the root mapping; 2: in metadata or spec
    bool in_metadata_ = false;  // at depth 2: metadata, else spec
    Role role_ = Role::other;
    bool first_name_key_ = false;  // the current key is metadata's first `name`
    bool spec_seen_ = false;       // a spec with a value was found
    Field api_version_, kind_, metadata_, first_name_, name_, namespace_, action_, severity_;
    bool metadata_mapping_ = false;
};

}  // namespace karmor::policy
