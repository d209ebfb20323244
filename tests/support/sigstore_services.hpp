// Sigstore's own services on loopback for the RFC 3161 and Rekor v2 tests (issue 24), built by
// scripts/peers.sh: the timestamp authority's timestamp-server (v2.1.3, file signer, a certificate
// chain made here with OpenSSL) and rekor-tiles' POSIX Rekor v2 server (v2.3.0, an Ed25519
// checkpoint key made here, checkpoint origin 127.0.0.1: the host of the log's baseUrl). Each
// listens on 127.0.0.1 only, with its own HOME and working directory (neither reads a config
// file), NTP monitoring off (timestamp-server would query public NTP servers).
//
// timestamp-server always serves metrics on port 2112 of every interface (":2112" is fixed in
// its pkg/server/prometheus.go and exits when the port is taken): TimestampServer holds a
// machine-wide lock (/tmp/karmor-timestamp-server-2112.lock) for its lifetime, so that test
// processes that start one run one at a time, and refuses to start when another program holds
// the port.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "support/process.hpp"
#include "support/test_sigstore.hpp"

namespace karmor::testing::sigstore {

class TimestampServer {
public:
    // Waits (up to 10 minutes) for the port-2112 lock, then starts `program`.
    static std::unique_ptr<TimestampServer> start(const std::filesystem::path& program, std::string& error);
    ~TimestampServer();
    TimestampServer(const TimestampServer&) = delete;
    TimestampServer& operator=(const TimestampServer&) = delete;

    std::string url() const;  // http://127.0.0.1:PORT/api/v1/timestamp
    const TimestampAuthorityMaterial& authority() const { return authority_; }
    std::string log() const;

private:
    TimestampServer() = default;
    TempDir dir_;
    TimestampAuthorityMaterial authority_;
    int lock_fd_ = -1;
    pid_t pid_ = -1;
    int port_ = 0;
};

class RekorV2Server {
public:
    static std::unique_ptr<RekorV2Server> start(const std::filesystem::path& program, std::string& error);
    ~RekorV2Server();
    RekorV2Server(const RekorV2Server&) = delete;
    RekorV2Server& operator=(const RekorV2Server&) = delete;

    std::string url() const;  // http://127.0.0.1:PORT
    std::string host() const { return "127.0.0.1"; }
    const EdKey& key() const { return key_; }
    std::string log() const;

private:
    RekorV2Server() = default;
    TempDir dir_;
    EdKey key_ = EdKey::generate();
    pid_t pid_ = -1;
    int http_port_ = 0;
};

// The trusted root a test writes for these services (protobuf-specs TrustedRoot JSON): no CA and
// no CT log (the signatures are made with keys), the timestamp authority and, when given, the
// Rekor v2 log. The variants a test needs to break one link each are options.
struct ServicesRootOptions {
    // List another authority's chain instead of the server's (a timestamp by an authority that is
    // not in the root).
    const TimestampAuthorityMaterial* other_authority = nullptr;
    std::optional<std::int64_t> tsa_start, tsa_end;  // the authority's validFor; default: a day ago, open
    const EdKey* other_log_key = nullptr;            // list another key for the log
    std::optional<std::int64_t> log_start, log_end;  // the log key's validFor
};
std::string services_trusted_root(const TimestampServer& tsa, const RekorV2Server* rekor,
                                  const ServicesRootOptions& options = {});
// A signing config v0.2 for cosign: the timestamp authority and, when given, the Rekor v2 log.
std::string services_signing_config(const TimestampServer& tsa, const RekorV2Server* rekor);

}  // namespace karmor::testing::sigstore
