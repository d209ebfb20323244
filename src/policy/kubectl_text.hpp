// A policy file as `kubectl apply -f` reads it (k8s.io/apimachinery's YAMLReader, SPEC §5): it
// splits the file into documents at lines that start with `---` before any YAML parser sees
// them, and go-yaml then reads each document on its own. karmor's YAML parser reads the whole
// file, so these two rules of the splitter are applied first:
// - A separator line with anything but spaces or a comment after `---` is refused ("invalid
//   Yaml document separator"): `--- !!map`, `--- |`, `----`.
// - A byte order mark that starts a document (the file's first line, or the line after a `---`
//   that ended a document) is dropped, as go-yaml drops it at the start of its input.
// A stream that starts with `{` (after white space) is read as JSON by kubectl: no rule applies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/yaml_events.hpp"

namespace karmor::policy {

class KubectlText {
public:
    explicit KubectlText(std::string_view file);
    KubectlText(const KubectlText&) = delete;
    KubectlText& operator=(const KubectlText&) = delete;

    // What the YAML parser reads: the file up to an invalid separator, without the byte order
    // marks that start documents. Line numbers are the file's; a line that lost its byte order
    // mark counts its columns from after it, as go-yaml does.
    std::string_view text() const { return storage_ ? std::string_view(*storage_) : text_; }
    // The first invalid separator line, if any: the file is refused there, as kubectl refuses it.
    const std::optional<YamlSyntaxError>& invalid_separator() const { return invalid_separator_; }

private:
    std::string_view text_;
    std::optional<std::string> storage_;  // when byte order marks had to be taken out of the middle
    std::optional<YamlSyntaxError> invalid_separator_;
};

}  // namespace karmor::policy
