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
    // Asked once, when the registry first answers 401 and `credentials` is empty: credentials
    // are looked up only for a registry that wants them (anonymous work never reads them).
    std::function<Credentials()> find_credentials;
    bool push_access = false;  // ask token services for pull,push
    // Tokens shared with the other clients of the run; the client keeps its own when null.
    TokenCache* tokens = nullptr;
    std::function<void(const std::string&)> trace;
    int max_attempts = 4;  // transient failures: 1 try + 3 retries
    long retry_base_delay_ms = 200;
    long retry_max_delay_ms = 5'000;
    const std::atomic<bool>* cancel = nullptr;
    // After an answer a registry would not give (404 for a manifest, 501), ask GET /v2/ once
    // whether this is a registry at all (off in unit tests that script every answer).
    bool confirm_registry = false;
    // --timeout: no retry starts after this, and the error says the time ran out.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    long timeout_ms = 0;  // what --timeout said, for the message
    // The endpoints of a mirror configuration (SPEC §15, src/mirrors/):
    std::string api_root = "/v2";      // what stands for /v2 in paths (containerd's override_path)
    std::string namespace_query;       // sent as ?ns=: containerd names the upstream to a mirror so
    bool plain_http_fallback = false;  // the loopback rule for any host (registries.conf insecure)
};

inline constexpr std::uint64_t max_manifest_bytes = 4ull << 20;  // what registries accept
// Blobs up to this size are sent in the POST that opens the upload, which saves the PUT on a
// registry that takes single-request uploads and costs only these bytes again on one that does
// not (signatures, configs and most policies are a few KiB).
inline constexpr std::size_t max_single_request_upload_bytes = 64u << 10;

class RegistryClient {
public:
    RegistryClient(const Reference& target, ClientOptions options, HttpTransport& transport);

    // The manifest at `reference` (a tag or a digest), verified against the digest when the
    // reference is one. Not found is a value: std::nullopt.
    Result<std::optional<FetchedManifest>> fetch_manifest(const std::string& reference);
    Result<Digest> put_manifest(const std::string& reference, const std::string& media_type, std::string_view bytes);
    Result<StoredManifest> store_manifest(const std::string& reference, const std::string& media_type,
                                          std::string_view bytes);

    // The referrers API (distribution-spec "Listing Referrers"): every page, following `Link`,
    // keeping only `artifact_type` (when not empty) whether or not the registry filtered.
    // std::nullopt when the registry does not implement the API (404).
    Result<std::optional<std::vector<Descriptor>>> list_referrers(const Digest& subject,
                                                                  const std::string& artifact_type);

    // HEAD of a manifest (SPEC §11 resolve, tag): its descriptor (digest, media type, size)
    // without its bytes; a registry that sends no Docker-Content-Digest is asked with a GET.
    // Not found is std::nullopt.
    Result<std::optional<Descriptor>> head_manifest(const std::string& reference);

    // Every tag of the repository (distribution-spec "Listing Tags"), asking for `page_size`
    // per page and following `Link: rel="next"`; a registry that pages without Link (the
    // `last` parameter only) is followed with `?n=&last=`. Repeated tags are dropped.
    Result<std::vector<std::string>> list_tags(int page_size = 100);

    // Cross-repository mount (distribution-spec "Mounting a blob from another repository"):
    // true when the registry answered 201 (mounted), false when it answered 202 (it opened an
    // upload session instead, which is left to expire: the caller uploads).
    Result<bool> mount_blob(const Descriptor& blob, const std::string& from_repository);

    const std::string& registry() const { return registry_; }
    const std::string& repository() const { return repository_; }

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
    // API root + "/" + repository: "/v2/NAME" for a registry.
    std::string repository_root() const;
    // `path` with the ?ns= of ClientOptions::namespace_query, when there is one.
    std::string with_namespace(const std::string& path) const;
    std::string resolve_location(const std::string& location, const std::string& request_url) const;
    Error http_error(const std::string& method, const std::string& path, const HttpResponse& response) const;
    // GET /v2/ (distribution-spec "Determining Support"), asked once and only after an answer
    // a registry would not give: a plain web server on the port is named as one.
    // `answer` is the odd answer itself: an error body of the distribution spec
    // ({"errors": [...]}) or a Docker-Distribution-API-Version header settles it without asking.
    std::optional<Error> not_a_registry(const HttpResponse& answer) const;
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
    bool probed_loopback_ = false;       // the loopback probe was asked (once per client)
    std::string authorization_;          // the header value to send, once known
    TokenCache own_tokens_;
    TokenCache* tokens_;  // options_.tokens, or &own_tokens_
    bool credentials_looked_up_ = false;
    mutable std::optional<std::optional<Error>> api_check_;  // not_a_registry(), once known
    bool registry_scope_ = false;                            // check_credentials: tokens without a repository scope
};

}  // namespace karmor::oci
