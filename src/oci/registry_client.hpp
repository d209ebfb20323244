// A client of one repository of one registry (OCI distribution spec): manifests, blobs,
// authentication (anonymous, Basic, Bearer tokens), redirects and the loopback rule.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karmor/oci_types.hpp"
#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "oci/http.hpp"
#include "oci/token_cache.hpp"

namespace karmor::oci {

struct FetchedManifest {
    std::string bytes;
    std::string content_type;
    Digest digest;  // computed over `bytes`
    Manifest manifest;
};

struct StoredManifest {
    Digest digest;  // computed over the bytes sent
    // The OCI-Subject header of the answer: the registry indexed the manifest as a referrer
    // of this digest (distribution-spec "Pushing Manifests with Subject"). Empty otherwise.
    std::string oci_subject;
};

struct ClientOptions {
    bool plain_http = false;
    Credentials credentials;
    bool push_access = false;  // ask token services for pull,push
    // Tokens shared with the other clients of the run; the client keeps its own when null.
    TokenCache* tokens = nullptr;
    std::function<void(const std::string&)> trace;
    int max_attempts = 4;  // transient failures: 1 try + 3 retries
    long retry_base_delay_ms = 200;
    long retry_max_delay_ms = 5'000;
    const std::atomic<bool>* cancel = nullptr;
};

inline constexpr std::uint64_t max_manifest_bytes = 4ull << 20;  // what registries accept

class RegistryClient {
public:
    RegistryClient(const Reference& target, ClientOptions options, HttpTransport& transport);

    // The manifest at `reference` (a tag or a digest), verified against the digest when the
    // reference is one. Not found is a value: std::nullopt.
    Result<std::optional<FetchedManifest>> fetch_manifest(const std::string& reference);
    // The digest of the manifest at `reference` from one HEAD (its Docker-Content-Digest): what
    // `follow` asks each round (Docker Hub does not count HEADs against pull limits).
    // std::nullopt when there is none; an answer without the header falls back to a GET.
    Result<std::optional<Digest>> resolve_manifest(const std::string& reference);
    Result<Digest> put_manifest(const std::string& reference, const std::string& media_type, std::string_view bytes);
    Result<StoredManifest> store_manifest(const std::string& reference, const std::string& media_type,
                                          std::string_view bytes);

    // The referrers API (distribution-spec "Listing Referrers"): every page, following `Link`,
    // keeping only `artifact_type` (when not empty) whether or not the registry filtered.
    // std::nullopt when the registry does not implement the API (404).
    Result<std::optional<std::vector<Descriptor>>> list_referrers(const Digest& subject,
                                                                  const std::string& artifact_type);

    Result<bool> blob_exists(const Descriptor& blob);
    // `observer` sees the bytes of the PUT sent so far, from 0 again on a retry.
    Result<void> upload_blob(const Descriptor& blob, std::string_view bytes, const TransferObserver& observer = {});
    // The blob's bytes, checked against the descriptor's size and digest. `observer` sees the
    // bytes received so far, from 0 again on a retry or a redirect.
    Result<std::string> fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                   const TransferObserver& observer = {});

    // GET /v2/ with the challenge flow and no repository scope: are the credentials good
    // for this registry? (`karmor oci login`). Defined in registry_auth.cpp.
    Result<void> check_credentials();

    // Human-readable registry/repository for messages.
    std::string where() const { return registry_ + "/" + repository_; }

private:
    struct Exchange {
        HttpRequest request;
        std::string path;          // after the host, e.g. /v2/NAME/manifests/TAG
        std::string absolute_url;  // set instead of path for upload Locations on another host
    };
    Result<HttpResponse> perform(Exchange exchange);
    // Sends one request, following redirects; no retries, no authentication.
    HttpResult perform_once(HttpRequest& request);
    Error transport_error(const HttpRequest& request, const HttpResult& result) const;
    // The authentication state machine (registry_auth.cpp). `sent` is the Authorization
    // the refused request carried: a cached token that a registry refuses is not reused.
    Result<void> authenticate(const HttpResponse& challenge_response, const std::string& sent);
    Result<void> fetch_token(const AuthChallenge& challenge);
    std::vector<std::string> token_scopes(const AuthChallenge& challenge) const;
    std::string token_cache_key(const AuthChallenge& challenge) const;
    // Sends a token cached by another client of this registry with the first request.
    void use_cached_token();
    Error unauthorized_error(const std::string& method, const std::string& path, const HttpResponse& response,
                             const std::string& message) const;
    std::string base_url() const;
    std::string resolve_location(const std::string& location, const std::string& request_url) const;
    Error http_error(const std::string& method, const std::string& path, const HttpResponse& response) const;
    void trace(const std::string& line) const;
    // Waits before a retry; false when cancelled meanwhile.
    bool wait_before_retry(long milliseconds) const;

    std::string registry_;
    std::string api_host_;
    std::string repository_;
    bool loopback_ = false;
    ClientOptions options_;
    HttpTransport& transport_;
    std::optional<std::string> scheme_;  // decided by the first request
    std::string authorization_;          // the header value to send, once known
    TokenCache own_tokens_;
    TokenCache* tokens_;           // options_.tokens, or &own_tokens_
    bool registry_scope_ = false;  // check_credentials: tokens without a repository scope
};

}  // namespace karmor::oci
