// Encodes KubeArmor's CRDs (shared/kubearmor/crds) as schema::Node tables (SPEC §5). The
// four kinds share their rule blocks; the differences are spelled out where they occur.
#include "policy/schema.hpp"

#include <algorithm>
#include <initializer_list>

#include "policy/names.hpp"

namespace karmor::policy::schema {
namespace {

// The CRDs' patterns, by hand. Go's '.' matches any character but '\n'; a negated class such
// as [^\/] matches '\n' too; $ without the m flag matches only at the end.
bool has_no_newline(std::string_view text) {
    return text.find('\n') == std::string_view::npos;
}

// ^\/+.*[^\/]$
bool is_file_path(std::string_view s) {
    return s.size() >= 2 && s.front() == '/' && s.back() != '/' && has_no_newline(s.substr(1, s.size() - 2));
}

// ^\/$|^\/.*\/$
bool is_directory_path(std::string_view s) {
    return s == "/" ||
           (s.size() >= 2 && s.front() == '/' && s.back() == '/' && has_no_newline(s.substr(1, s.size() - 2)));
}

// (^\/+.*[^\/]$)|(^\/$|^\/.*\/$)
bool is_file_or_directory_path(std::string_view s) {
    return is_file_path(s) || is_directory_path(s);
}

// ^[^\/]+$
bool is_program_name(std::string_view s) {
    return !s.empty() && s.find('/') == std::string_view::npos;
}

// ^[0-9]+(KB|MB|GB|K|M|G)?$
bool is_bandwidth(std::string_view s) {
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    if (digits == 0) return false;
    const auto unit = s.substr(digits);
    return unit.empty() || unit == "KB" || unit == "MB" || unit == "GB" || unit == "K" || unit == "M" || unit == "G";
}

NodePtr make(Node node) {
    return std::make_shared<const Node>(std::move(node));
}

NodePtr scalar(Type type) {
    Node node;
    node.type = type;
    return make(std::move(node));
}

NodePtr string_with(const StringRule& rule, std::optional<std::size_t> max_length = std::nullopt) {
    Node node;
    node.string_rule = &rule;
    node.max_length = max_length;
    return make(std::move(node));
}

NodePtr enum_of(std::vector<std::string> values) {
    Node node;
    node.enum_values = std::move(values);
    return make(std::move(node));
}

NodePtr integer(std::optional<std::int64_t> minimum, std::optional<std::int64_t> maximum, std::string format = {}) {
    Node node;
    node.type = Type::integer;
    node.minimum = minimum;
    node.maximum = maximum;
    node.format = std::move(format);
    return make(std::move(node));
}

NodePtr array_of(NodePtr items, std::optional<std::size_t> max_items = std::nullopt) {
    Node node;
    node.type = Type::array;
    node.items = std::move(items);
    node.max_items = max_items;
    return make(std::move(node));
}

NodePtr object(std::vector<Property> properties, std::vector<std::string> required = {}) {
    Node node;
    node.type = Type::object;
    node.properties = std::move(properties);
    node.required = std::move(required);
    return make(std::move(node));
}

NodePtr map_of(NodePtr values, const StringRule* key_rule = nullptr) {
    Node node;
    node.type = Type::object;
    node.additional_properties = std::move(values);
    node.key_rule = key_rule;
    return make(std::move(node));
}

std::vector<Property> join(std::vector<Property> first, std::initializer_list<Property> more) {
    first.insert(first.end(), more.begin(), more.end());
    return first;
}

// `has(self.selector) && (has(self.selector.matchLabels) || has(self.selector.matchExpressions))`
bool targets_containers(const RuleFacts& spec) {
    return spec.selector && spec.selector_matches;
}

// The patterns of the CRDs, each compiled once.
struct Patterns {
    StringRule file_path =
        StringRule::pattern(R"(^\/+.*[^\/]$)", is_file_path, "an absolute file path, not ending with '/'");
    StringRule directory = StringRule::pattern(R"(^\/$|^\/.*\/$)", is_directory_path,
                                               "an absolute directory path ending with '/', e.g. /etc/ssh/");
    StringRule file_or_directory = StringRule::pattern(R"((^\/+.*[^\/]$)|(^\/$|^\/.*\/$))", is_file_or_directory_path,
                                                       "an absolute file path, or a directory path ending with '/'");
    StringRule program_name = StringRule::pattern(R"(^[^\/]+$)", is_program_name, "a program name without '/'");
    StringRule capability = StringRule::ends_with_alternative(
        "(chown|dac_override|dac_read_search|fowner|fsetid|kill|setgid|setuid|setpcap|linux_immutable|"
        "net_bind_service|net_broadcast|net_admin|net_raw|ipc_lock|ipc_owner|sys_module|sys_rawio|sys_chroot|"
        "sys_ptrace|sys_pacct|sys_admin|sys_boot|sys_nice|sys_resource|sys_time|sys_tty_config|mknod|lease|"
        "audit_write|audit_control|setfcap|mac_override|mac_admin)$",
        "a capability name in lowercase without CAP_, e.g. net_raw");
    StringRule protocol = StringRule::ends_with_alternative(
        "(tcp|TCP|udp|UDP|raw|RAW|icmp|ICMP|icmpv6|ICMPV6|sctp|SCTP|stream|STREAM|dgram|DGRAM|rdm|RDM|"
        "seqpacket|SEQPACKET|dccp|DCCP|packet|PACKET|all|ALL)$",
        "a protocol such as tcp, udp, icmp, raw or all");
    StringRule bandwidth = StringRule::pattern(R"(^[0-9]+(KB|MB|GB|K|M|G)?$)", is_bandwidth,
                                               "a number with an optional unit K, M, G, KB, MB or GB, e.g. 500MB");
    StringRule name = StringRule::predicate(
        is_dns1123_subdomain, "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and "
                              "ending with a letter or digit, at most 253 characters");
    StringRule namespace_name = StringRule::predicate(
        is_namespace_field, "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a "
                            "letter or digit, at most 63 characters");
    StringRule qualified_name = StringRule::predicate(
        is_qualified_name, "a qualified name: an optional DNS subdomain prefix and '/', then at most 63 letters, "
                           "digits, '-', '_' or '.', starting and ending with a letter or digit");
    StringRule annotation_key = StringRule::predicate(
        is_annotation_key, "a qualified name: an optional DNS subdomain prefix and '/', then at most 63 letters, "
                           "digits, '-', '_' or '.', starting and ending with a letter or digit");
    StringRule label_value = StringRule::predicate(
        is_label_value, "empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
                        "letter or digit");
};

const Patterns& patterns() {
    static const Patterns instance;
    return instance;
}

enum class Flavor { container, cluster, host };

// The schema pieces every kind shares, built once.
struct Pieces {
    const Patterns& p = patterns();
    NodePtr string = scalar(Type::string);
    NodePtr boolean = scalar(Type::boolean);
    NodePtr action = enum_of({"Allow", "Audit", "Block"});
    NodePtr severity = integer(1, 10);
    NodePtr tags = array_of(string);
    NodePtr file_path = string_with(p.file_path, 200);
    NodePtr from_source = array_of(object({{"path", file_path}}));
    NodePtr match_labels = map_of(string);

    // action, message, severity and tags: on the spec, on every block and on most rules.
    std::vector<Property> common() const {
        return {{"action", action}, {"message", string}, {"severity", severity}, {"tags", tags}};
    }
};

NodePtr process_block(const Pieces& s) {
    const auto& p = s.p;
    auto match_paths = object(join(s.common(), {{"allowedArgs", array_of(s.string, 20)},
                                                {"execname", string_with(p.program_name)},
                                                {"fromSource", s.from_source},
                                                {"ownerOnly", s.boolean},
                                                {"path", s.file_path},
                                                {"pts", s.boolean}}));
    auto match_directories = object(join(s.common(), {{"dir", string_with(p.directory)},
                                                      {"fromSource", s.from_source},
                                                      {"ownerOnly", s.boolean},
                                                      {"pts", s.boolean},
                                                      {"recursive", s.boolean}}),
                                    {"dir"});
    auto match_patterns = object(join(s.common(), {{"ownerOnly", s.boolean}, {"pattern", s.string}}), {"pattern"});
    return object(join(s.common(), {{"matchPaths", array_of(match_paths)},
                                    {"matchDirectories", array_of(match_directories)},
                                    {"matchPatterns", array_of(match_patterns)}}));
}

NodePtr file_block(const Pieces& s) {
    const auto& p = s.p;
    auto match_paths = object(join(s.common(), {{"fromSource", s.from_source},
                                                {"ownerOnly", s.boolean},
                                                {"path", s.file_path},
                                                {"pts", s.boolean},
                                                {"readOnly", s.boolean}}),
                              {"path"});
    auto match_directories = object(join(s.common(), {{"dir", string_with(p.directory)},
                                                      {"fromSource", s.from_source},
                                                      {"ownerOnly", s.boolean},
                                                      {"pts", s.boolean},
                                                      {"readOnly", s.boolean},
                                                      {"recursive", s.boolean}}),
                                    {"dir"});
    auto match_patterns = object(
        join(s.common(), {{"ownerOnly", s.boolean}, {"pattern", s.string}, {"readOnly", s.boolean}}), {"pattern"});
    return object(join(s.common(), {{"matchPaths", array_of(match_paths)},
                                    {"matchDirectories", array_of(match_directories)},
                                    {"matchPatterns", array_of(match_patterns)}}));
}

// Host policies require fromSource in protocol and capability rules and have no `pts` there.
NodePtr network_block(const Pieces& s, Flavor flavor) {
    const bool host = flavor == Flavor::host;
    auto protocol_fields = join(s.common(), {{"fromSource", s.from_source}, {"protocol", string_with(s.p.protocol)}});
    if (!host) protocol_fields.push_back({"pts", s.boolean});
    std::vector<std::string> protocol_required = {"protocol"};
    if (host) protocol_required.insert(protocol_required.begin(), "fromSource");
    auto match_dns = object(join(s.common(), {{"domain", s.string}, {"fromSource", s.from_source}}), {"domain"});
    return object(join(s.common(), {{"matchProtocols", array_of(object(protocol_fields, protocol_required))},
                                    {"matchDNSQueries", array_of(match_dns)}}));
}

NodePtr capabilities_block(const Pieces& s, Flavor flavor) {
    std::vector<std::string> required = {"capability"};
    if (flavor == Flavor::host) required.emplace_back("fromSource");
    auto match_capabilities = object(
        join(s.common(), {{"capability", string_with(s.p.capability)}, {"fromSource", s.from_source}}), required);
    return object(join(s.common(), {{"matchCapabilities", array_of(match_capabilities)}}));
}

NodePtr syscalls_block(const Pieces& s) {
    static const std::vector<std::string> syscall_names = {
#include "policy/syscall_names.inc"
    };
    auto syscall = array_of(enum_of(syscall_names));
    auto from_source = array_of(object({{"dir", s.string}, {"path", s.file_path}, {"recursive", s.boolean}}));
    auto match_syscalls = object({{"fromSource", from_source}, {"syscall", syscall}});
    auto match_paths = object({{"fromSource", from_source},
                               {"path", string_with(s.p.file_or_directory)},
                               {"recursive", s.boolean},
                               {"syscall", syscall}});
    return object({{"matchPaths", array_of(match_paths)},
                   {"matchSyscalls", array_of(match_syscalls)},
                   {"message", s.string},
                   {"severity", s.severity},
                   {"tags", s.tags}});
}

NodePtr device_block(const Pieces& s) {
    auto match_device = object(join(s.common(), {{"class", s.string},
                                                 {"level", integer(1, std::nullopt, "int32")},
                                                 {"protocol", integer(std::nullopt, std::nullopt, "int32")},
                                                 {"subClass", integer(std::nullopt, std::nullopt, "int32")}}),
                               {"class"});
    return object(join(s.common(), {{"matchDevice", array_of(match_device)}}));
}

// Cluster policies also select by namespace and have no matchLabels.
NodePtr selector(const Pieces& s, Flavor flavor) {
    std::vector<std::string> keys = {"label"};
    if (flavor == Flavor::cluster) keys.insert(keys.begin(), "namespace");
    auto expression = object({{"key", enum_of(keys)}, {"operator", enum_of({"In", "NotIn"})}, {"values", s.tags}});
    std::vector<Property> fields = {{"matchExpressions", array_of(expression)}};
    if (flavor != Flavor::cluster) fields.push_back({"matchLabels", s.match_labels});
    return object(fields);
}

NodePtr node_selector(const Pieces& s) {
    return object({{"matchLabels", s.match_labels}});
}

NodePtr system_policy_spec(const Pieces& s, Flavor flavor) {
    auto fields = join(s.common(), {{"apparmor", s.string},
                                    {"capabilities", capabilities_block(s, flavor)},
                                    {"file", file_block(s)},
                                    {"network", network_block(s, flavor)},
                                    {"process", process_block(s)},
                                    {"syscalls", syscalls_block(s)}});
    if (flavor == Flavor::host) {
        fields.push_back({"device", device_block(s)});
        fields.push_back({"nodeSelector", node_selector(s)});
        Node spec = *object(fields, {"nodeSelector"});
        spec.why_required = "a KubeArmorHostPolicy must name its nodes with spec.nodeSelector.matchLabels "
                            "(policies written for KubeArmor in VM mode omit it; a cluster refuses them)";
        return make(std::move(spec));
    }
    fields.push_back({"presets", array_of(object({{"action", s.action}, {"name", s.string}}))});
    fields.push_back({"selector", selector(s, flavor)});
    return object(fields);
}

NodePtr network_policy_spec(const Pieces& s) {
    auto peers = array_of(object({{"ipBlock", object({{"cidr", s.string}}, {"cidr"})}}, {"ipBlock"}));
    auto ports = array_of(object({{"endPort", integer(1, 65535, "int32")},
                                  {"port", s.string},
                                  {"protocol", enum_of({"TCP", "UDP", "SCTP", "tcp", "udp", "sctp"})}},
                                 {"port"}));
    auto bandwidth = string_with(s.p.bandwidth);
    // The quota rules' own severity has no range in the CRD.
    std::vector<Property> quota = {{"action", s.action},
                                   {"duration", s.string},
                                   {"iface", s.tags},
                                   {"limit", bandwidth},
                                   {"message", s.string},
                                   {"ports", ports},
                                   {"severity", scalar(Type::integer)},
                                   {"tags", s.tags}};
    Node spec = *object(join(s.common(), {{"egress", array_of(object(join(quota, {{"to", peers}})))},
                                          {"ingress", array_of(object(join(quota, {{"from", peers}})))},
                                          {"level", enum_of({"pod", "policy", "Pod", "Policy"})},
                                          {"nodeSelector", node_selector(s)},
                                          {"selector", selector(s, Flavor::container)}}));
    spec.rules = {
        {"!(has(self.selector) && (has(self.selector.matchLabels) || has(self.selector.matchExpressions)) && "
         "has(self.nodeSelector))",
         "A policy cannot target both containers and host nodes.",
         [](const RuleFacts& object) { return !(targets_containers(object) && object.node_selector); }},
        {"!(has(self.selector) && (has(self.selector.matchLabels) || has(self.selector.matchExpressions))) || "
         "!has(self.ingress) || self.ingress.all(i, has(i.limit) && has(i.duration))",
         "Container policies strictly support only bandwidth quota rules; all ingress rules must declare both "
         "'limit' and 'duration' only",
         [](const RuleFacts& object) {
             return !targets_containers(object) || !object.ingress || object.ingress_quotas;
         }},
        {"!(has(self.selector) && (has(self.selector.matchLabels) || has(self.selector.matchExpressions))) || "
         "!has(self.egress) || self.egress.all(e, has(e.limit) && has(e.duration))",
         "Container policies strictly support only bandwidth quota rules; all egress rules must declare both "
         "'limit' and 'duration' only",
         [](const RuleFacts& object) { return !targets_containers(object) || !object.egress || object.egress_quotas; }},
    };
    return make(std::move(spec));
}

// ObjectMeta as the API server decodes it: the CRDs say only `metadata: {type: object}`.
NodePtr object_meta(const Pieces& s, bool namespaced) {
    const auto& p = s.p;
    auto labels = map_of(string_with(p.label_value), &p.qualified_name);
    auto annotations = map_of(s.string, &p.annotation_key);
    auto int64 = integer(std::nullopt, std::nullopt, "int64");
    auto owner_reference = object({{"apiVersion", s.string},
                                   {"blockOwnerDeletion", s.boolean},
                                   {"controller", s.boolean},
                                   {"kind", s.string},
                                   {"name", s.string},
                                   {"uid", s.string}},
                                  {"apiVersion", "kind", "name", "uid"});
    Node fields_v1;
    fields_v1.type = Type::object;
    fields_v1.preserve_unknown_fields = true;
    auto managed_field = object({{"apiVersion", s.string},
                                 {"fieldsType", s.string},
                                 {"fieldsV1", make(std::move(fields_v1))},
                                 {"manager", s.string},
                                 {"operation", s.string},
                                 {"subresource", s.string},
                                 {"time", s.string}});
    // A cluster-scoped object's namespace is dropped by the API server, not checked.
    auto namespace_field = namespaced ? string_with(p.namespace_name) : s.string;
    return object({{"name", string_with(p.name)},
                   {"generateName", s.string},
                   {"namespace", namespace_field},
                   {"selfLink", s.string},
                   {"uid", s.string},
                   {"resourceVersion", s.string},
                   {"generation", int64},
                   {"creationTimestamp", s.string},
                   {"deletionTimestamp", s.string},
                   {"deletionGracePeriodSeconds", int64},
                   {"labels", labels},
                   {"annotations", annotations},
                   {"ownerReferences", array_of(owner_reference)},
                   {"finalizers", s.tags},
                   {"managedFields", array_of(managed_field)}},
                  {"name"});
}

NodePtr document(const Pieces& s, NodePtr spec, bool namespaced) {
    return object({{"apiVersion", s.string},
                   {"kind", s.string},
                   {"metadata", object_meta(s, namespaced)},
                   {"spec", std::move(spec)},
                   {"status", object({{"status", s.string}})}});
}

struct Documents {
    Pieces pieces;
    NodePtr policy = document(pieces, system_policy_spec(pieces, Flavor::container), true);
    NodePtr cluster_policy = document(pieces, system_policy_spec(pieces, Flavor::cluster), false);
    NodePtr host_policy = document(pieces, system_policy_spec(pieces, Flavor::host), false);
    NodePtr network_policy = document(pieces, network_policy_spec(pieces), false);
};

}  // namespace

std::string_view type_name(Type type) {
    switch (type) {
        case Type::string: return "string";
        case Type::integer: return "integer";
        case Type::boolean: return "boolean";
        case Type::object: return "object";
        case Type::array: return "array";
    }
    return "?";
}

StringRule StringRule::pattern(std::string crd_pattern, bool (*matches)(std::string_view), std::string expectation) {
    StringRule rule;
    rule.crd_pattern_ = std::move(crd_pattern);
    rule.accepts_ = matches;
    rule.expectation_ = std::move(expectation);
    return rule;
}

StringRule StringRule::ends_with_alternative(std::string crd_pattern, std::string expectation) {
    StringRule rule;
    // "(a|b|c)$": the words between the parentheses.
    const auto inner = std::string_view(crd_pattern).substr(1, crd_pattern.size() - 3);
    for (std::size_t start = 0; start <= inner.size();) {
        const auto bar = std::min(inner.find('|', start), inner.size());
        rule.endings_.emplace_back(inner.substr(start, bar - start));
        start = bar + 1;
    }
    rule.crd_pattern_ = std::move(crd_pattern);
    rule.expectation_ = std::move(expectation);
    return rule;
}

StringRule StringRule::predicate(bool (*accepts)(std::string_view), std::string expectation) {
    StringRule rule;
    rule.accepts_ = accepts;
    rule.expectation_ = std::move(expectation);
    return rule;
}

bool StringRule::accepts(std::string_view value) const {
    if (accepts_) return accepts_(value);
    for (const auto& ending : endings_)
        if (value.size() >= ending.size() && value.substr(value.size() - ending.size()) == ending) return true;
    return false;
}

const Property* Node::find(std::string_view name) const {
    for (const auto& property : properties)
        if (property.name == name) return &property;
    return nullptr;
}

const Node* document_schema(std::string_view kind) {
    static const Documents documents;
    if (kind == "KubeArmorPolicy") return documents.policy.get();
    if (kind == "KubeArmorClusterPolicy") return documents.cluster_policy.get();
    if (kind == "KubeArmorHostPolicy") return documents.host_policy.get();
    if (kind == "KubeArmorNetworkPolicy") return documents.network_policy.get();
    return nullptr;
}

}  // namespace karmor::policy::schema
