// Which host names mean this machine: one definition for the loopback rule of references
// (plain HTTP allowed), the proxy bypass, the loopback probe and the Kubernetes client's retries.
#pragma once

#include <string_view>

namespace karmor::util {

// An address of this machine written as an address: an IPv4 dotted quad in 127.0.0.0/8 as
// inet_pton reads it (four decimal parts of 0 to 255, no leading zeros), or "::1" (IPv6, without
// brackets). Not a name: "127.999.999.999" or "127.0.0.1.example" would be looked up in DNS,
// which may answer with any address.
bool is_loopback_ip(std::string_view host);

// is_loopback_ip, or the name "localhost" (any case, as host names are; the caller strips a
// port and IPv6 brackets). Names under .localhost are not included: a resolver may send them to
// DNS.
bool is_loopback_host(std::string_view host);

// is_loopback_host, or a name under .localhost: for the proxy bypass (such a name is never sent
// to a proxy) and the loopback probe (which checks what the name resolves to before connecting).
bool is_local_name(std::string_view host);

}  // namespace karmor::util
