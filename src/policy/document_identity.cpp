#include "policy/document_identity.hpp"

namespace karmor::policy {

void DocumentIdentity::reset() {
    *this = DocumentIdentity();
}

void DocumentIdentity::key(const YamlScalar& key) {
    role_ = Role::other;
    first_name_key_ = false;
    const auto name = key.text;
    if (depth_ == 1) {
        if (name == "apiVersion" && !api_version_.present) role_ = Role::api_version;
        if (name == "kind" && !kind_.present) role_ = Role::kind;
        if (name == "metadata" && !metadata_.present) role_ = Role::metadata;
        if (name == "spec" && !spec_seen_) role_ = Role::spec;
    } else if (depth_ == 2 && in_metadata_) {
        if (name == "name") {
            first_name_key_ = !first_name_.present;
            if (!name_.present) role_ = Role::name;
        }
        if (name == "namespace" && !namespace_.present) role_ = Role::namespace_name;
    } else if (depth_ == 2) {
        if (name == "action" && !action_.present) role_ = Role::action;
        if (name == "severity" && !severity_.present) role_ = Role::severity;
    }
}

void DocumentIdentity::take(const YamlScalar* scalar, const YamlCollection* collection) {
    const bool null = scalar && scalar->null;
    const auto fill = [&](Field& field) {
        field.present = true;
        field.null = null;
        field.scalar = scalar && !null;
        field.resolvable = scalar && scalar->resolvable;
        field.text = scalar ? std::string(scalar->text) : std::string();
        field.line = scalar ? scalar->line : collection->line;
        field.column = scalar ? scalar->column : collection->column;
    };
    if (first_name_key_) fill(first_name_);
    switch (role_) {
        case Role::api_version: fill(api_version_); break;
        case Role::kind: fill(kind_); break;
        case Role::metadata:
            fill(metadata_);
            metadata_mapping_ = collection && collection->mapping;
            break;
        case Role::spec: spec_seen_ = !null; break;
        case Role::name:
            if (!null) fill(name_);
            break;
        case Role::namespace_name:
            if (!null) fill(namespace_);
            break;
        case Role::action:
            if (!null) fill(action_);
            break;
        case Role::severity:
            if (!null) fill(severity_);
            break;
        case Role::other: break;
    }
    first_name_key_ = false;
}

void DocumentIdentity::scalar(const YamlScalar& value) {
    if (depth_ == 0) {
        root_ = value.null ? Root::null : Root::scalar;
        root_line_ = value.line;
        root_column_ = value.column;
        return;
    }
    take(&value, nullptr);
    role_ = Role::other;
}

bool DocumentIdentity::begin(const YamlCollection& value) {
    if (depth_ == 0) {
        root_ = value.mapping ? Root::mapping : Root::sequence;
        root_line_ = value.line;
        root_column_ = value.column;
        if (!value.mapping) return false;
        depth_ = 1;
        return true;
    }
    const auto role = role_;
    take(nullptr, &value);
    role_ = Role::other;
    if (depth_ == 1 && value.mapping && (role == Role::metadata || role == Role::spec)) {
        depth_ = 2;
        in_metadata_ = role == Role::metadata;
        return true;
    }
    return false;
}

void DocumentIdentity::end() {
    --depth_;
}

}  // namespace karmor::policy
