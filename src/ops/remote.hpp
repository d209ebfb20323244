// What push and pull share: building a registry client from the user's remote options.
#pragma once

#include <memory>

#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "oci/http.hpp"
#include "oci/registry_client.hpp"
#include "oci/token_cache.hpp"

namespace karmor::ops {

struct Remote {
    std::unique_ptr<oci::HttpTransport> transport;
    // Bearer tokens of the run, shared by every client made from this remote.
    std::unique_ptr<oci::TokenCache> tokens = std::make_unique<oci::TokenCache>();
    std::unique_ptr<oci::RegistryClient> client;
};

Remote connect(const Reference& reference, const RemoteOptions& options, bool push_access);

// What connect() gives the transport and the client, for callers that adjust them per endpoint
// (the mirrors of SPEC §15). The deadline of --timeout starts when transport_options is called.
oci::TransportOptions transport_options(const RemoteOptions& options);
oci::ClientOptions client_options(const RemoteOptions& options, const oci::TransportOptions& transport,
                                  bool push_access);

// RFC 3339 in UTC, e.g. 2026-11-27T17:00:00Z.
std::string rfc3339(std::int64_t seconds_since_epoch);

}  // namespace karmor::ops
