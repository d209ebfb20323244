// Where a node says a registry's content can be read (SPEC §15): registries.conf and
// containerd's hosts.toml, turned into the ordered endpoints of one reference — each with its
// host, repository, API root, TLS settings and what it may answer (tags, digests).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "mirrors/registries_conf.hpp"

namespace karmor::mirrors {

struct Endpoint {
    // Host and repository the requests go to; for the upstream of an unchanged reference, the
    // reference itself (its registry name keys the credentials: docker.io, not its API host).
    Reference reference;
    std::string api_root = "/v2";      // hosts.toml override_path (or a path in the host's URL)
    std::string namespace_query;       // ?ns=REGISTRY: containerd names the upstream to a mirror so
    bool plain_http = false;           // http:// in hosts.toml
    bool plain_http_fallback = false;  // registries.conf insecure: plain HTTP when TLS is not spoken
    bool skip_verify = false;          // registries.conf insecure, hosts.toml skip_verify
    std::string ca_pem;                // hosts.toml ca: trusted besides the system's CAs
    std::filesystem::path client_certificate, client_key;  // hosts.toml client ("" key: in the cert)
    bool answers_tags = true;    // may say which digest a tag names (and list tags, referrers)
    bool serves_digests = true;  // may serve manifests and blobs by digest
    bool is_upstream = false;    // the registry itself (or its registries.conf location): last
    // The registry the reference names, unchanged: the command's own TLS flags and credentials
    // apply to it, and to no other endpoint.
    bool is_reference_registry = false;
    std::string configured_at;  // FILE:LINE that named it; "" for the reference's registry as is

    // HOST[/ROOT]/REPOSITORY, for messages.
    std::string describe() const;
};

struct ReadPlan {
    std::vector<Endpoint> endpoints;  // in the order to try; the upstream last
    std::string source;               // the file that gave them; "" when nothing configured the reference
    // True when a read goes anywhere but to the reference's registry as it is.
    bool uses_configuration() const;
};

// Bounds: certificate files named by hosts.toml.
inline constexpr std::uint64_t max_certificate_bytes = 1 << 20;

// Where reads of `reference` go. The reference's own hosts.toml directory wins, then the
// [[registry]] of registries.conf with the longest matching prefix, then hosts.toml's _default;
// registries.conf's `blocked` applies whichever gives the endpoints. A reference by digest skips
// tag-only mirrors; digest-only mirrors never answer for a tag.
Result<ReadPlan> plan_reads(const Reference& reference, const MirrorOptions& options,
                            const Getenv& getenv = std::getenv);

// Writes go to the reference's registry whatever the configuration says; only a registries.conf
// `blocked = true` refuses them, as it refuses reads.
Result<void> check_not_blocked(const Reference& reference, const MirrorOptions& options,
                               const Getenv& getenv = std::getenv);

}  // namespace karmor::mirrors
