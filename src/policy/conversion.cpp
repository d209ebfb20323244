#include "policy/conversion.hpp"

#include "policy/scalars.hpp"

namespace karmor::policy {
namespace {

// Aliases let a small document expand exponentially ("billion laughs"); a policy has a few
// hundred nodes, so this bound is generous and still stops the attack early.
constexpr std::size_t max_nodes_per_document = 1'000'000;
// Mappings with more keys than this look repetitions up in a hash set.
constexpr std::size_t linear_lookup_keys = 16;

}  // namespace

bool DocumentConversion::contains(const Open& open, std::string_view name) const {
    if (!open.lookup.empty()) return open.lookup.find(std::string(name)) != open.lookup.end();
    for (const auto key : open.keys)
        if (text_of(key) == name) return true;
    return false;
}

void DocumentConversion::add(Open& open, KeyText key) {
    if (open.keys.size() >= linear_lookup_keys) {
        if (open.lookup.empty())
            for (const auto earlier : open.keys) open.lookup.emplace(text_of(earlier));
        open.lookup.emplace(text_of(key));
    }
    open.keys.push_back(key);
}

void DocumentConversion::reset(const SourcePosition& where, ValueWriter* writer) {
    where_ = &where;
    writer_ = writer;
    problems_.clear();
    depth_ = 0;
    keys_.clear();
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
    if (contains(top, key.text)) {
        report(key.line, key.column, "duplicate field \"" + std::string(key.text) + "\"");
        top.skip_value = true;
        return;
    }
    top.key = {keys_.size(), key.text.size()};
    keys_.append(key.text);
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
        if (writer_) writer_->key(text_of(parent->key));
        add(*parent, parent->key);
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
    open.keys_start = keys_.size();
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
    // Its keys are not needed once it is closed: the text of the keys stays as large as the
    // open mappings' keys, not the document's (a big document's keys were megabytes).
    keys_.resize(open_[depth_ - 1].keys_start);
    --depth_;
    if (writer_) writer_->end();
}

JsonDocuments read_json_documents(std::string_view text, const SourcePosition& where, std::size_t max_documents,
                                  std::vector<Diagnostic>& problems) {
    JsonDocuments read;
    YamlEventReader reader(text);
    DocumentWalk walk;
    DocumentConversion conversion(walk);
    while (read.documents.size() < max_documents) {
        SourcePosition document = where;
        document.document = static_cast<int>(read.documents.size()) + 1;
        JsonTreeBuilder builder;
        walk.clear();
        walk.add(conversion);
        conversion.reset(document, &builder);
        if (!reader.next(walk)) {
            read.syntax_error = reader.error();
            break;
        }
        auto& found = conversion.problems();
        std::move(found.begin(), found.end(), std::back_inserter(problems));
        read.documents.push_back(builder.take());
    }
    return read;
}

}  // namespace karmor::policy
