#include "ops/remote.hpp"

#include <chrono>
#include <ctime>

namespace karmor::ops {

oci::TransportOptions transport_options(const RemoteOptions& options) {
    oci::TransportOptions transport_options;
    transport_options.insecure = options.insecure;
    transport_options.ca_file = options.ca_file;
    transport_options.cert_file = options.cert_file;
    transport_options.key_file = options.key_file;
    transport_options.connect_timeout_ms = options.connect_timeout_ms;
    transport_options.low_speed_time_seconds = options.stall_timeout_seconds;
    transport_options.cancel = options.cancel;
    if (options.timeout_ms > 0)
        transport_options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
    return transport_options;
}

oci::ClientOptions client_options(const RemoteOptions& options, const oci::TransportOptions& transport,
                                  bool push_access) {
    oci::ClientOptions client_options;
    client_options.plain_http = options.plain_http;
    client_options.credentials = options.credentials;
    client_options.find_credentials = options.find_credentials;
    client_options.push_access = push_access;
    client_options.trace = options.trace;
    client_options.max_attempts = options.max_attempts;
    client_options.cancel = options.cancel;
    client_options.deadline = transport.deadline;
    client_options.confirm_registry = true;
    client_options.timeout_ms = options.timeout_ms;
    return client_options;
}

Remote connect(const Reference& reference, const RemoteOptions& options, bool push_access) {
    const auto transport = transport_options(options);
    auto client = client_options(options, transport, push_access);
    Remote remote;
    client.tokens = remote.tokens.get();
    remote.transport = oci::make_curl_transport(transport);
    remote.client = std::make_unique<oci::RegistryClient>(reference, std::move(client), *remote.transport);
    return remote;
}

std::string rfc3339(std::int64_t seconds_since_epoch) {
    const std::time_t t = static_cast<std::time_t>(seconds_since_epoch);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

}  // namespace karmor::ops
