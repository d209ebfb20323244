// Options shared by every operation that talks to a registry (SPEC §2 "Remote options").
#pragma once

#include <atomic>
#include <functional>
#include <string>

namespace karmor {

struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;  // OAuth2 refresh token (Docker config "identitytoken")
    bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

// SPEC §15: the mirrors a node's configuration names for a registry (registries.conf, containerd's
// hosts.toml). Reads go through them in order, then to the registry itself; writes never do.
struct MirrorOptions {
    // Read the configuration at all (the CLI turns this on unless --no-mirrors). Off, every
    // request goes to the registry named in the reference, as before.
    bool enabled = false;
    // A registries.conf to read instead of the containers tools' places
    // ($CONTAINERS_REGISTRIES_CONF, ~/.config/containers/registries.conf,
    // /etc/containers/registries.conf); their registries.conf.d drop-ins are read either way.
    std::string registries_conf;
    // containerd's hosts directory; "" for $KARMOR_HOSTS_DIR, else /etc/containerd/certs.d.
    std::string hosts_dir;
    // Credentials for a mirror, looked up by the mirror's host: the -u credentials of the
    // registry in the reference are never sent to another host.
    std::function<Credentials(const std::string& host)> find_credentials;
    // One line when a mirror serves a reference, and when one fails and the next is tried.
    std::function<void(const std::string&)> notice;
};

struct RemoteOptions {
    bool plain_http = false;  // --plain-http: HTTP for any host
    bool insecure = false;    // --insecure: skip certificate verification
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    Credentials credentials;  // -u with --password-stdin
    // Called (at most once per registry client) when the registry asks for credentials and
    // `credentials` is empty: a Docker config that cannot be read or a missing credential
    // helper then matters only to a registry that wants credentials (SPEC §7).
    std::function<Credentials()> find_credentials;
    long connect_timeout_ms = 15'000;
    // A transfer that moves less than 1 byte/s for this long is abandoned (and retried).
    long stall_timeout_seconds = 60;
    int max_attempts = 4;  // transient failures: 1 try + 3 retries
    // --timeout: all requests to the registry (retries included) end within this many
    // milliseconds from the connection's start; 0: no limit but the stall timeout.
    long timeout_ms = 0;
    // Set (from a signal handler, say) to stop at the next safe point: transfers abort,
    // nothing more is written, temporary files are removed.
    const std::atomic<bool>* cancel = nullptr;
    // Receives one line per HTTP exchange (-v). Secrets are redacted before it is called.
    std::function<void(const std::string&)> trace;
    // Receives what the user should know although the operation goes on (an attachment dated
    // in the future that was passed over, a corrupt state file replaced with --force); the CLI
    // prints each as a warning on stderr. Unset: dropped.
    std::function<void(const std::string&)> warn;
    MirrorOptions mirrors;
};

}  // namespace karmor
