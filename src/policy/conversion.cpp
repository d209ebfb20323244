#include "policy/conversion.hpp"

#include <algorithm>

#include "policy/scalars.hpp"

namespace karmor::policy {
namespace {

// Aliases let a small document expand exponentially ("billion laughs"); a policy has a few
// hundred nodes, so this bound is generous and still stops the attack early.
constexpr std::size_t max_nodes_per_document = 1'000'000;
// Mappings with more keys than this look repetitions up in a hash set.
constexpr std::size_t linear_lookup_keys = 16;

}  // namespace

bool DocumentConversion::Open::contains(std::string_view name) const {
    if (!lookup.empty()) return lookup.find(std::string(name)) != lookup.end();
    return std::find(keys.begin(), keys.end(), name) != keys.end();
}

void DocumentConversion::Open::add(std::string name) {
    if (keys.size() >= linear_lookup_keys) {
        if (lookup.empty()) lookup.insert(keys.begin(), keys.end());
        lookup.insert(name);
    }
    keys.push_back(std::move(name));
}

void DocumentConversion::reset(const SourcePosition& where, ValueWriter* writer) {
    where_ = &where;
    writer_ = writer;
    problems_.clear();
    depth_ = 0;
    nodes_ = 0;
    exhausted_ = false;
}

void DocumentConversion::report(int line, int column, std::string message) {
    Diagnostic problem;
    problem.where.file = where_->file;
    problem.where.document = where_->document;
    problem.where.line = line;
    problem.where.column = column;
    problem.field_path = walk_.path();
    problem.message = std::move(message);
    problems_.push_back(std::move(problem));
    writer_ = nullptr;  // the document is refused: what was written so far is not used
}

void DocumentConversion::key(const YamlScalar& key) {
    auto& top = open_[depth_ - 1];
    if (top.contains(key.text)) {
        report(key.line, key.column, "duplicate field \"" + std::string(key.text) + "\"");
        top.skip_value = true;
        return;
    }
    top.key.assign(key.text);
}

void DocumentConversion::bad_key(int line, int column) {
    report(line, column, "mapping keys must be strings");
}

bool DocumentConversion::take_value(int line, int column, bool null) {
    Open* parent = depth_ > 0 ? &open_[depth_ - 1] : nullptr;
    const bool in_mapping = parent && parent->mapping;
    if (in_mapping && parent->skip_value) {
        parent->skip_value = false;
        return false;
    }
    if (++nodes_ > max_nodes_per_document) {
        if (!exhausted_) report(line, column, "the document expands to more than 1,000,000 nodes (aliases?)");
        exhausted_ = true;
        return false;
    }
    if (in_mapping) {
        if (null) return false;  // pruned, as the API server does
        if (writer_) writer_->key(parent->key);
        parent->add(std::move(parent->key));
    }
    return true;
}

void DocumentConversion::scalar(const YamlScalar& value) {
    if (!take_value(value.line, value.column, value.null) || !writer_) return;
    if (value.null)
        writer_->value(nullptr);  // a list item or the root
    else if (!value.resolvable || resolves_to_string(value.text))
        writer_->string(value.text);
    else
        writer_->value(resolve_plain_scalar(value.text));
}

bool DocumentConversion::begin(const YamlCollection& value) {
    if (!take_value(value.line, value.column, false)) return false;
    if (depth_ == open_.size()) open_.emplace_back();
    auto& open = open_[depth_++];
    open.mapping = value.mapping;
    open.skip_value = false;
    open.key.clear();
    open.keys.clear();
    open.lookup.clear();
    if (writer_) {
        if (value.mapping)
            writer_->begin_object();
        else
            writer_->begin_array();
    }
    return true;
}

void DocumentConversion::end() {
    --depth_;
    if (writer_) writer_->end();
}

}  // namespace karmor::policy
