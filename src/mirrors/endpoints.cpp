#include "mirrors/endpoints.hpp"

#include "mirrors/config_error.hpp"
#include "mirrors/hosts_toml.hpp"
#include "util/small_file.hpp"

namespace karmor::mirrors {
namespace {

std::string name_of(const Reference& reference) {
    return reference.registry() + "/" + reference.repository();
}

Error blocked(const Reference& reference, const RegistryEntry& entry) {
    return Error(ErrorKind::auth,
                 name_of(reference) + " is blocked by " + entry.defined_at + " ([[registry]] prefix \"" + entry.prefix +
                     "\", blocked = true)",
                 "this node's registries.conf forbids using that registry: ask the node's administrator, or use a "
                 "registry the node allows");
}

// HOST[:PORT]/REPOSITORY that a configured location turned the reference into.
Result<Reference> physical_reference(const std::string& name, const std::string& configured_at) {
    auto parsed = Reference::parse(name);
    const auto slash = name.find('/');
    const auto host = name.substr(0, slash);
    const bool tag_or_digest = name.find('@') != std::string::npos ||
                               (slash != std::string::npos && name.find(':', slash) != std::string::npos);
    if (!parsed || parsed->registry() != host || tag_or_digest)
        return unexpected(config_error(configured_at + ": the location makes the reference \"" + name +
                                           "\", which is not HOST[:PORT]/REPOSITORY",
                                       "a location starts with a registry host (with a dot or a port, or localhost)"));
    return std::move(*parsed);
}

Result<ReadPlan> from_registries_conf(const Reference& reference, const RegistryEntry& entry) {
    const auto name = name_of(reference);
    const auto rest = name.substr(*match_prefix(name, entry.prefix));
    const bool by_digest = reference.digest().has_value();
    ReadPlan plan;
    plan.source = entry.defined_at.substr(0, entry.defined_at.rfind(':'));
    for (const auto& mirror : entry.mirrors) {
        const auto pull_from = entry.mirror_by_digest_only ? PullFromMirror::digest_only : mirror.pull_from;
        if (pull_from == PullFromMirror::tag_only && by_digest) continue;  // containers/image skips it too
        Endpoint endpoint;
        auto physical = physical_reference(mirror.location + rest, mirror.defined_at);
        if (!physical) return unexpected(std::move(physical).error());
        endpoint.reference = std::move(*physical);
        endpoint.skip_verify = endpoint.plain_http_fallback = mirror.insecure;
        endpoint.answers_tags = pull_from != PullFromMirror::digest_only;
        endpoint.configured_at = mirror.defined_at;
        plan.endpoints.push_back(std::move(endpoint));
    }
    Endpoint upstream;
    upstream.is_upstream = true;
    upstream.configured_at = entry.defined_at;
    upstream.skip_verify = upstream.plain_http_fallback = entry.insecure;
    const auto location = entry.location.empty() ? name : entry.location + rest;
    if (location == name) {
        upstream.reference = reference;
        upstream.is_reference_registry = true;
    } else {
        auto physical = physical_reference(location, entry.defined_at);
        if (!physical) return unexpected(std::move(physical).error());
        upstream.reference = std::move(*physical);
    }
    plan.endpoints.push_back(std::move(upstream));
    return plan;
}

Result<std::string> read_certificates(const HostEndpoint& host) {
    std::string pem;
    for (const auto& file : host.ca_files) {
        auto text = util::read_small_file(file, max_certificate_bytes, "CA certificate file");
        if (!text) return unexpected(std::move(text).error());
        if (!*text)
            return unexpected(
                config_error(host.defined_at + ": the CA certificate file " + file.string() + " does not exist"));
        pem += **text;
        pem += "\n";
    }
    return pem;
}

Result<ReadPlan> from_hosts_config(const Reference& reference, const HostsConfig& config) {
    ReadPlan plan;
    plan.source = config.file;
    for (const auto& host : config.hosts) {
        Endpoint endpoint;
        endpoint.answers_tags = host.pull && host.resolve;  // containerd resolves a tag with pull and resolve
        endpoint.serves_digests = host.pull;
        if (!endpoint.answers_tags && !endpoint.serves_digests) continue;  // a push-only host
        endpoint.is_upstream = host.is_server;
        endpoint.configured_at = host.defined_at;
        if (host.host == reference.registry() || host.host == reference.api_host()) {
            endpoint.reference = reference;
            endpoint.is_reference_registry = true;
        } else {
            auto physical = physical_reference(host.host + "/" + reference.repository(), host.defined_at);
            if (!physical) return unexpected(std::move(physical).error());
            endpoint.reference = std::move(*physical);
            if (!host.is_server) endpoint.namespace_query = reference.registry();
        }
        endpoint.api_root = host.path;
        // containerd speaks TLS first to an http:// host that has TLS settings.
        const bool tls_configured = !host.ca_files.empty() || !host.client_pairs.empty() || host.skip_verify;
        endpoint.plain_http = host.scheme == "http" && !tls_configured;
        endpoint.plain_http_fallback = host.scheme == "http" && tls_configured;
        endpoint.skip_verify = host.skip_verify.value_or(false);
        auto certificates = read_certificates(host);
        if (!certificates) return unexpected(std::move(certificates).error());
        endpoint.ca_pem = std::move(*certificates);
        // libcurl presents one client certificate: the first pair, as a server that asks for one
        // would accept it.
        if (!host.client_pairs.empty()) {
            endpoint.client_certificate = host.client_pairs.front().first;
            endpoint.client_key = host.client_pairs.front().second;
        }
        plan.endpoints.push_back(std::move(endpoint));
    }
    return plan;
}

ReadPlan unconfigured(const Reference& reference) {
    ReadPlan plan;
    Endpoint endpoint;
    endpoint.reference = reference;
    endpoint.is_upstream = endpoint.is_reference_registry = true;
    plan.endpoints.push_back(std::move(endpoint));
    return plan;
}

}  // namespace

std::string Endpoint::describe() const {
    const auto root = api_root == "/v2" ? std::string() : " (API root " + (api_root.empty() ? "/" : api_root) + ")";
    return name_of(reference) + root;
}

bool ReadPlan::uses_configuration() const {
    return !source.empty();
}

Result<ReadPlan> plan_reads(const Reference& reference, const MirrorOptions& options, const Getenv& getenv) {
    if (!options.enabled) return unconfigured(reference);
    auto conf = load_registries_conf(registries_conf_files(options.registries_conf, getenv));
    if (!conf) return unexpected(std::move(conf).error());
    const RegistryEntry* entry = find_registry(*conf, name_of(reference));
    if (entry && entry->blocked) return unexpected(blocked(reference, *entry));
    auto hosts = load_hosts_config(hosts_directory(options.hosts_dir, getenv), reference.registry());
    if (!hosts) return unexpected(std::move(hosts).error());
    if (*hosts && !(*hosts)->is_default) return from_hosts_config(reference, **hosts);
    if (entry) return from_registries_conf(reference, *entry);
    if (*hosts) return from_hosts_config(reference, **hosts);
    return unconfigured(reference);
}

Result<void> check_not_blocked(const Reference& reference, const MirrorOptions& options, const Getenv& getenv) {
    if (!options.enabled) return {};
    auto conf = load_registries_conf(registries_conf_files(options.registries_conf, getenv));
    if (!conf) return unexpected(std::move(conf).error());
    if (const RegistryEntry* entry = find_registry(*conf, name_of(reference)); entry && entry->blocked)
        return unexpected(blocked(reference, *entry));
    return {};
}

}  // namespace karmor::mirrors
