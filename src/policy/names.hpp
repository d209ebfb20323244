// The name rules the API server applies to metadata (Kubernetes apimachinery validation),
// written out by hand: they run on every document and need no regex.
#pragma once

#include <string_view>

namespace karmor::policy {

// DNS-1123 subdomain (metadata.name): at most 253 characters, dot-separated labels of
// lowercase alphanumerics and '-', each starting and ending with an alphanumeric.
bool is_dns1123_subdomain(std::string_view name);
// DNS-1123 label: like one label of a subdomain, at most 63 characters.
bool is_dns1123_label(std::string_view name);
// metadata.namespace of a namespaced object: a DNS-1123 label, or empty, which the API server
// replaces with the namespace of the request (kubectl's current namespace), as it does for none.
bool is_namespace_field(std::string_view name);
// Qualified name (label and annotation keys): an optional DNS-1123 subdomain prefix and '/',
// then at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric.
bool is_qualified_name(std::string_view name);
// Annotation key: a qualified name once lowercased (the API server lowercases before checking).
bool is_annotation_key(std::string_view key);
// Label value: empty, or at most 63 characters like the name part of a qualified name.
bool is_label_value(std::string_view value);

}  // namespace karmor::policy
