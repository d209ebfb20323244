#include "policy/document_check.hpp"

#include <algorithm>

#include "policy/field_suggestion.hpp"
#include "policy/scalars.hpp"

namespace karmor::policy {
namespace {

constexpr std::string_view kind_names[] = {"KubeArmorPolicy", "KubeArmorHostPolicy", "KubeArmorClusterPolicy",
                                           "KubeArmorNetworkPolicy"};

// While the first document is compared with the text, what was written is compared and
// dropped whenever it reaches this size.
constexpr std::size_t compared_chunk_bytes = 64 * 1024;

// Serialized documents up to this size are copied out of the reused buffer at their exact size;
// larger ones take the buffer itself, so that a big document is never held twice.
constexpr std::size_t copied_text_bytes = 64 * 1024;

SourcePosition at(const SourcePosition& document, int line, int column) {
    SourcePosition out = document;
    out.line = line;
    out.column = column;
    return out;
}

std::string scalar_or_empty(const DocumentIdentity::Field& field) {
    return field.scalar ? field.text : std::string();
}

// The field's value as the API server's JSON has it, as text: a string as it is, anything else
// as JSON ("5", "true").
std::string json_text(const DocumentIdentity::Field& field) {
    if (!field.resolvable) return field.text;
    const auto value = resolve_plain_scalar(field.text);
    return value.is_string() ? field.text : value.dump();
}

bool is_string(const DocumentIdentity::Field& field) {
    return field.scalar && (!field.resolvable || resolves_to_string(field.text));
}

// Reads what identifies the document and checks that it is a KubeArmor policy at all.
bool check_kind(const DocumentIdentity& identity, const SourcePosition& where, std::vector<Diagnostic>& problems) {
    const auto api_version = scalar_or_empty(identity.api_version());
    const auto kind = scalar_or_empty(identity.kind());
    const std::string document = "document " + std::to_string(where.document);
    if (kind.empty()) {
        add_problem(problems, where, "kind",
                    document + " has no kind: expected one of KubeArmorPolicy, KubeArmorHostPolicy, "
                               "KubeArmorClusterPolicy, KubeArmorNetworkPolicy");
        return false;
    }
    if (!is_kubearmor_kind(kind)) {
        const std::vector<std::string_view> names(std::begin(kind_names), std::end(kind_names));
        const auto near = closest_name(kind, names);
        std::string what = kind + (api_version.empty() ? "" : " (" + api_version + ")");
        add_problem(problems, at(where, identity.kind().line, identity.kind().column), "kind",
                    near.empty() ? document + " is a " + what +
                                       ", not a KubeArmor policy: expected kind KubeArmorPolicy, "
                                       "KubeArmorHostPolicy, KubeArmorClusterPolicy or KubeArmorNetworkPolicy"
                                 : "unknown kind \"" + kind + "\"; did you mean " + near + "?");
        return false;
    }
    if (api_version != kubearmor_api_version) {
        // The kind is ours: the apiVersion line is the one to fix, so point at it.
        const auto& field = identity.api_version();
        add_problem(problems, field.present ? at(where, field.line, field.column) : where, "apiVersion",
                    (api_version.empty() ? "missing; " : "\"" + api_version + "\" is not KubeArmor's API version; ") +
                        std::string("a ") + kind + " has apiVersion " + kubearmor_api_version);
        return false;
    }
    return true;
}

}  // namespace

// Built member by member rather than from a braced temporary: GCC 12 at -O3 takes the strings
// of such a temporary for uninitialized (-Wmaybe-uninitialized, a false positive).
void add_problem(std::vector<Diagnostic>& problems, SourcePosition where, std::string field_path, std::string message) {
    Diagnostic problem;
    problem.where = std::move(where);
    problem.field_path = std::move(field_path);
    problem.message = std::move(message);
    problems.push_back(std::move(problem));
}

DocumentCheck::DocumentCheck(const LoadOptions& options) : options_(options) {
    if (!options.skip_validation)
        for (std::size_t i = 0; i < kind_count; ++i) validators_.emplace_back(walk_);
    if (options.serialize_as == PolicyFormat::yaml)
        yaml_writer_.emplace(text_);
    else if (options.serialize_as == PolicyFormat::json)
        json_writer_.emplace(text_);
}

void DocumentCheck::start(const SourcePosition& where) {
    where_ = &where;
    walk_.clear();
    identity_.reset();
    walk_.add(identity_);
    for (std::size_t i = 0; i < validators_.size(); ++i) {
        validators_[i].reset(*schema::document_schema(kind_names[i]), where);
        walk_.add(validators_[i]);
    }
    validating_ = -1;
    kind_settled_ = validators_.empty();
    text_.clear();
    ValueWriter* writer = nullptr;
    if (yaml_writer_) {
        yaml_writer_->reset();
        writer = &*yaml_writer_;
    } else if (json_writer_) {
        json_writer_->reset();
        writer = &*json_writer_;
    } else {
        tree_builder_.emplace();
        writer = &*tree_builder_;
    }
    conversion_.reset(where, writer);
    walk_.add(conversion_);
}

void DocumentCheck::settle_kind() {
    const auto root = identity_.root();
    if (root == DocumentIdentity::Root::none) return;
    std::string_view kind;
    if (root == DocumentIdentity::Root::mapping) {
        if (!identity_.kind().present) return;  // not yet read
        kind = identity_.kind().scalar ? std::string_view(identity_.kind().text) : std::string_view();
    }
    for (std::size_t i = 0; i < validators_.size(); ++i) {
        if (kind == kind_names[i])
            validating_ = static_cast<int>(i);
        else
            walk_.drop(validators_[i]);
    }
    kind_settled_ = true;
}

void DocumentCheck::scalar(const YamlScalar& scalar) {
    walk_.scalar(scalar);
    if (!kind_settled_) settle_kind();
    if (comparing_ && text_.size() >= compared_chunk_bytes) compare_written();
}

bool DocumentCheck::begin(const YamlCollection& collection) {
    const bool wanted = walk_.begin(collection);
    if (!kind_settled_) settle_kind();
    return wanted;
}

void DocumentCheck::end() {
    walk_.end();
    if (comparing_ && text_.size() >= compared_chunk_bytes) compare_written();
}

void DocumentCheck::reserve_output(std::size_t text_bytes) {
    // JSON is longer than the YAML it comes from: a quarter more is room for the quotes.
    if (!yaml_writer_ && !json_writer_) return;
    reserve_bytes_ = text_bytes + text_bytes / 4;
    if (!comparing_) text_.reserve(reserve_bytes_);
}

void DocumentCheck::compare_with(std::string_view text) {
    if (!yaml_writer_) return;  // JSON is never the YAML text it was read from
    compared_text_ = text;
    comparing_ = true;
}

void DocumentCheck::compare_written() {
    if (compared_text_.substr(compared_, text_.size()) != text_) {
        stop_comparing();
        return;
    }
    compared_ += text_.size();
    text_.clear();
}

void DocumentCheck::stop_comparing() {
    comparing_ = false;
    std::string whole;
    whole.reserve(std::max(reserve_bytes_, compared_ + text_.size()));
    whole.append(compared_text_.substr(0, compared_));
    whole.append(text_);
    text_ = std::move(whole);  // the same string object: the writer keeps writing to it
    compared_ = 0;
}

void DocumentCheck::end_comparison() {
    if (!comparing_) return;
    compare_written();
    if (!comparing_) return;
    if (compared_ == compared_text_.size()) {
        comparing_ = false;
        echoed_whole_ = true;  // text_ is empty
        return;
    }
    stop_comparing();  // the document is a part of the text only
}

std::optional<Policy> DocumentCheck::finish(std::vector<Diagnostic>& problems) {
    using Root = DocumentIdentity::Root;
    end_comparison();
    if (identity_.root() == Root::null || identity_.root() == Root::none) return std::nullopt;  // between two `---`
    const auto where = at(*where_, identity_.root_line(), identity_.root_column());
    if (identity_.root() != Root::mapping) {
        add_problem(problems, where, "", "document " + std::to_string(where.document) + " is not a mapping");
        return std::nullopt;
    }
    if (!check_kind(identity_, where, problems)) return std::nullopt;

    const auto problems_before = problems.size();
    if (options_.skip_validation) {
        const auto& name = identity_.first_name();
        if (!identity_.metadata_is_mapping() || !name.scalar || name.text.empty())
            add_problem(problems, where, "metadata.name", "required field is missing");
    } else {
        // The CRD does not list metadata as required, but a name is, and it lives there.
        const auto& metadata = identity_.metadata();
        if (!metadata.present || metadata.null) add_problem(problems, where, "metadata", "required field is missing");
        auto& found = validators_[static_cast<std::size_t>(validating_)].problems();
        std::move(found.begin(), found.end(), std::back_inserter(problems));
    }
    auto& converted = conversion_.problems();
    std::move(converted.begin(), converted.end(), std::back_inserter(problems));
    if (problems.size() != problems_before) return std::nullopt;

    Policy policy;
    policy.identity.kind = identity_.kind().text;
    policy.identity.name = json_text(identity_.name());
    if (is_namespaced_kind(policy.identity.kind)) {
        const auto& namespace_name = identity_.namespace_name();
        // An empty namespace is the request's, as with none (issue 22).
        policy.identity.namespace_name =
            is_string(namespace_name) && !namespace_name.text.empty() ? namespace_name.text : "default";
    }
    if (is_string(identity_.action())) policy.action = identity_.action().text;
    if (const auto& severity = identity_.severity(); severity.scalar && severity.resolvable) {
        const auto value = resolve_plain_scalar(severity.text);
        if (value.is_number_integer()) policy.severity = value.get<std::int64_t>();
    }
    if (tree_builder_) {
        policy.document = tree_builder_->take();
    } else if (echoed_whole_) {
        // `serialized` stays empty: it is the text itself, which the caller owns.
    } else {
        if (json_writer_) text_ += '\n';
        // A document far smaller than the buffer reserved for it is copied out too: the buffer
        // stays for the next document of the text.
        if (text_.size() <= copied_text_bytes || text_.capacity() > 2 * text_.size() + big_text_bytes) {
            policy.serialized.assign(text_);
        } else {
            policy.serialized = std::move(text_);
            text_ = std::string();
        }
    }
    policy.origin = where;
    return policy;
}

}  // namespace karmor::policy
