#include "oci/registry_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "oci/auth_challenge.hpp"
#include "oci/manifest_json.hpp"
#include "oci/redact.hpp"
#include "util/encoding.hpp"
#include "util/retry.hpp"

namespace karmor::oci {
namespace {

constexpr int max_redirects = 5;
constexpr long max_retry_after_ms = 30'000;

constexpr const char* manifest_accept =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

bool is_transient_status(long status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool is_transient_transport(TransportStatus s) {
    return s == TransportStatus::connect_failed || s == TransportStatus::timeout || s == TransportStatus::failed;
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// scheme://host[:port] of an absolute URL.
std::string origin_of(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return {};
    const auto path_start = url.find('/', scheme_end + 3);
    return url.substr(0, path_start);
}

std::string path_of(const std::string& url) {
    const auto scheme_end = url.find("://");
    const auto path_start = scheme_end == std::string::npos ? 0 : url.find('/', scheme_end + 3);
    return path_start == std::string::npos ? "/" : url.substr(path_start);
}

long retry_after_ms(const HttpResponse& response) {
    return util::retry_after_milliseconds(response.header("Retry-After"), max_retry_after_ms);
}

// How close to --timeout's deadline a transport timeout counts as the deadline's (perform()).
constexpr std::chrono::milliseconds deadline_slack{50};

// The time to connect ran out (libcurl counts the TLS handshake in it): "Connection timed out
// after …", "SSL connection timeout". A transfer that stalled later says "Operation too slow".
bool timed_out_connecting(const HttpResult& result) {
    return result.transport == TransportStatus::timeout &&
           (result.transport_error.find("SSL connection timeout") != std::string::npos ||
            result.transport_error.find("Connection timed out") != std::string::npos);
}

// Half of `delay` plus a random share of the other half, so that clients refused together do not
// retry together. Seeded at the first retry: seeding from std::random_device for every request
// cost more than the rest of the client's own work on a small answer.
long jittered(long delay) {
    static thread_local std::optional<std::mt19937> generator;
    if (!generator) generator.emplace(std::random_device{}());
    return delay / 2 + std::uniform_int_distribution<long>(0, std::max(1L, delay / 2))(*generator);
}

std::string describe_transport(TransportStatus s) {
    switch (s) {
        case TransportStatus::connect_failed: return "cannot connect";
        case TransportStatus::tls_handshake_failed: return "TLS handshake failed";
        case TransportStatus::tls_verify_failed: return "the server's TLS certificate did not verify";
        case TransportStatus::timeout: return "timed out";
        case TransportStatus::response_too_large: return "the response is larger than allowed";
        case TransportStatus::unavailable: return "the HTTP library is missing";
        default: return "transfer failed";
    }
}

}  // namespace

RegistryClient::RegistryClient(const Reference& target, ClientOptions options, HttpTransport& transport)
    : registry_(target.registry()), api_host_(target.api_host()), repository_(target.repository()),
      loopback_(target.is_loopback()), options_(std::move(options)), transport_(transport),
      tokens_(options_.tokens ? options_.tokens : &own_tokens_) {
    if (options_.plain_http) scheme_ = "http";
}

std::string RegistryClient::repository_root() const {
    return options_.api_root + "/" + repository_;
}

std::string RegistryClient::with_namespace(const std::string& path) const {
    if (options_.namespace_query.empty()) return path;
    return path + (path.find('?') == std::string::npos ? "?" : "&") +
           "ns=" + util::url_encode(options_.namespace_query);
}

std::string RegistryClient::base_url() const {
    return scheme_.value_or("https") + "://" + api_host_;
}

bool RegistryClient::wait_before_retry(long milliseconds) const {
    return util::sleep_unless_cancelled(milliseconds, options_.cancel);
}

// Every line, not only URLs the client knows to be sensitive: a redirect's path and query,
// a Location, a server's words in an error.
void RegistryClient::trace(const std::string& line) const {
    if (options_.trace) options_.trace(redact_text(line));
}

std::string RegistryClient::resolve_location(const std::string& location, const std::string& request_url) const {
    if (location.find("://") != std::string::npos) return location;
    if (!location.empty() && location.front() == '/') return origin_of(request_url) + location;
    // Relative to the request's directory.
    const auto base = request_url.substr(0, request_url.rfind('/') + 1);
    return base + location;
}

HttpResult RegistryClient::perform_once(HttpRequest& request) {
    const auto request_origin = origin_of(request.url);
    for (int hop = 0;; ++hop) {
        trace("> " + request.method + " " + redact_url(request.url));
        HttpResult result = transport_.send(request);
        if (!result.delivered()) {
            trace("< " + describe_transport(result.transport) + ": " + result.transport_error);
            return result;
        }
        auto& response = result.response;
        response.url = request.url;
        response.proxy = result.proxy;
        trace("< " + std::to_string(response.status) + " " + request.method + " " + path_of(request.url) + " (" +
              std::to_string(response.body.size()) + " bytes)");
        if (!is_redirect(response.status) || response.header("Location").empty()) return result;
        if (hop >= max_redirects) {
            result.transport = TransportStatus::failed;
            result.transport_error = "more than " + std::to_string(max_redirects) + " redirects";
            return result;
        }
        request.url = resolve_location(response.header("Location"), request.url);
        trace("* redirected to " + request.url);
        if (response.status == 303) {
            request.method = "GET";
            request.body = {};
        }
        // Credentials are for the registry: never for the host a redirect points to
        // (blob storage, a CDN).
        if (origin_of(request.url) != request_origin) {
            std::erase_if(request.headers, [](const auto& h) { return equals_ignore_case(h.first, "Authorization"); });
        }
    }
}

Error RegistryClient::transport_error(const HttpRequest& request, const HttpResult& result) const {
    if (result.transport == TransportStatus::cancelled)
        return Error(ErrorKind::cancelled,
                     "interrupted during " + request.method + " " + redact_text(path_of(request.url)));
    Error error(ErrorKind::registry,
                redact_text(registry_ + ": " + request.method + " " + path_of(request.url) + ": " +
                            describe_transport(result.transport) + " (" + result.transport_error + ")"));
    if (!result.proxy.empty()) {
        // Through a proxy, a failure is often the proxy's: say which one, and where it was set.
        error.message += redact_text(" through the proxy " + result.proxy);
        if (result.transport == TransportStatus::connect_failed || result.transport == TransportStatus::failed ||
            result.transport == TransportStatus::timeout) {
            error.hint = "check that the proxy is running and lets you reach " + registry_ +
                         ", or exclude the registry with NO_PROXY";
            return error;
        }
    }
    switch (result.transport) {
        case TransportStatus::tls_verify_failed:
            error.hint = "if the registry uses a private CA, pass it with --ca-file; --insecure skips the check";
            break;
        case TransportStatus::connect_failed:
            error.hint = "check that the registry address is right and that it is running";
            break;
        case TransportStatus::tls_handshake_failed:
            error.hint = "if the registry speaks plain HTTP, pass --plain-http";
            break;
        case TransportStatus::timeout:
            // libcurl's "SSL connection timeout" is a server that took the connection and never
            // answered the TLS handshake: a plain-HTTP registry answers one at once (with an
            // error), so this server hangs, whatever it speaks (issue 22).
            if (timed_out_connecting(result)) {
                error.message = redact_text(registry_ + ": " + request.method + " " + path_of(request.url) +
                                            ": the server accepted the connection but answered nothing within the "
                                            "connection time limit (15 s, TLS handshake included)");
                error.hint = "check that the address is the registry's and that it is not stuck; --timeout bounds "
                             "the whole wait";
            } else {
                error.hint = "the registry stopped sending (no byte for 60 s); --timeout bounds the whole wait";
            }
            break;
        default: break;
    }
    return error;
}

Result<HttpResponse> RegistryClient::perform(Exchange exchange) {
    bool authenticated_once = false;
    int attempt = 0;
    if (authorization_.empty()) use_cached_token();
    while (true) {
        // The loopback rule asked once, without TLS: a plain-HTTP local registry is then spoken
        // to in plain HTTP at once, instead of after a failed TLS attempt. Any other answer
        // leaves the decision to that attempt, as before.
        if (!scheme_ && loopback_ && !probed_loopback_ && exchange.absolute_url.empty()) {
            probed_loopback_ = true;
            if (transport_.probe_loopback(api_host_) == LoopbackProtocol::plain_http) {
                trace("* " + api_host_ + " answered a TLS hello in plain HTTP; using plain HTTP (loopback)");
                scheme_ = "http";
            }
        }
        HttpRequest request = exchange.request;
        request.url =
            exchange.absolute_url.empty() ? base_url() + with_namespace(exchange.path) : exchange.absolute_url;
        const bool send_authorization = !authorization_.empty() && (exchange.absolute_url.empty() ||
                                                                    origin_of(exchange.absolute_url) == base_url());
        const std::string sent_authorization = send_authorization ? authorization_ : std::string();
        if (send_authorization) request.headers.emplace_back("Authorization", authorization_);

        HttpResult outcome = perform_once(request);
        ++attempt;
        if (!outcome.delivered()) {
            // The loopback rule (SPEC §2): a local server that does not speak TLS is spoken to
            // in plain HTTP. A certificate that fails verification is never such a reason.
            if (!scheme_ && (loopback_ || options_.plain_http_fallback) &&
                outcome.transport == TransportStatus::tls_handshake_failed) {
                trace("* " + api_host_ + " does not speak TLS; using plain HTTP" +
                      (loopback_ ? " (loopback)" : " (insecure in the mirror configuration)"));
                scheme_ = "http";
                --attempt;
                continue;
            }
            // A refused connection to this machine is not a network hiccup: nothing listens
            // there, and retrying only makes the user wait.
            // Nor is a server on this machine that takes the connection and never answers: it is
            // stuck, and three more attempts only made the user wait a minute (issue 22).
            const bool refused_locally =
                loopback_ && outcome.proxy.empty() &&
                (outcome.transport == TransportStatus::connect_failed ||
                 (outcome.transport == TransportStatus::timeout && timed_out_connecting(outcome)));
            // libcurl's timer, set from the same deadline, may end the transfer a moment before
            // our clock reaches it: a timeout that close to the deadline is the deadline's (and no
            // retry would have time left anyway).
            const bool out_of_time =
                options_.deadline && std::chrono::steady_clock::now() + deadline_slack >= *options_.deadline;
            if (out_of_time && outcome.transport == TransportStatus::timeout) {
                Error error = transport_error(request, outcome);
                error.message = registry_ + ": " + request.method + " " + redact_text(path_of(request.url)) +
                                ": no answer within --timeout " + std::to_string(options_.timeout_ms) + "ms";
                error.hint = "the registry (or something between) hangs; check it, or give it more time";
                return unexpected(std::move(error));
            }
            if (!is_transient_transport(outcome.transport) || refused_locally || out_of_time ||
                attempt >= options_.max_attempts) {
                Error error = transport_error(request, outcome);
                if (attempt > 1) error.message += " (gave up after " + std::to_string(attempt) + " attempts)";
                return unexpected(std::move(error));
            }
            const long delay = std::min(options_.retry_max_delay_ms, options_.retry_base_delay_ms << (attempt - 1));
            if (!wait_before_retry(jittered(delay)))
                return unexpected(Error(ErrorKind::cancelled, "interrupted while waiting to retry"));
            continue;
        }
        if (!scheme_) scheme_ = origin_of(request.url).substr(0, origin_of(request.url).find(':'));

        auto& response = outcome.response;
        // Only the registry's own challenge: storage behind a redirect takes no credentials.
        if (response.status == 401 && !authenticated_once && origin_of(response.url) == base_url()) {
            authenticated_once = true;
            if (auto auth = authenticate(response, sent_authorization); !auth)
                return unexpected(std::move(auth).error());
            --attempt;
            continue;
        }
        if (is_transient_status(response.status) && attempt < options_.max_attempts) {
            long delay = retry_after_ms(response);
            if (delay < 0) {
                delay = std::min(options_.retry_max_delay_ms, options_.retry_base_delay_ms << (attempt - 1));
                delay = jittered(delay);
            }
            trace("* retrying in " + std::to_string(delay) + " ms");
            if (!wait_before_retry(delay))
                return unexpected(Error(ErrorKind::cancelled, "interrupted while waiting to retry"));
            continue;
        }
        response.attempts = attempt;
        return std::move(response);
    }
}

std::optional<Error> RegistryClient::not_a_registry(const HttpResponse& answer) const {
    if (!options_.confirm_registry) return std::nullopt;
    if (api_check_) return *api_check_;
    if (!answer.header("Docker-Distribution-API-Version").empty()) {
        api_check_.emplace();
        return std::nullopt;
    }
    if (const auto body = nlohmann::json::parse(answer.body, nullptr, false);
        body.is_object() && body.contains("errors") && body["errors"].is_array()) {
        api_check_.emplace();
        return std::nullopt;
    }
    HttpRequest ping;
    ping.url = base_url() + options_.api_root + "/";
    ping.max_response_bytes = 1 << 16;
    trace("> GET " + ping.url + " (is this a registry?)");
    const auto pinged = transport_.send(ping);
    std::optional<Error> verdict;
    const auto status = pinged.response.status;
    if (pinged.delivered() && status != 200 && status != 401 && status != 403) {
        verdict = Error(ErrorKind::registry,
                        registry_ + " is not an OCI registry (GET /v2/ answered " + std::to_string(status) + ")",
                        "check the host and port: they must be a registry's (a web server or another service "
                        "answers there)");
    }
    api_check_ = verdict;
    return verdict;
}

Error RegistryClient::http_error(const std::string& method, const std::string& path,
                                 const HttpResponse& response) const {
    // Go's TLS servers (docker-registry among them) answer a plain-HTTP request with this 400.
    if (response.status == 400 && response.body.find("HTTP request to an HTTPS server") != std::string::npos)
        return Error(ErrorKind::registry, registry_ + ": this port speaks TLS: drop --plain-http",
                     "without --plain-http karmor speaks TLS (with --ca-file for a private CA)");
    const bool from_registry = response.url.empty() || origin_of(response.url) == base_url();
    if (from_registry &&
        (response.status == 400 || response.status == 404 || response.status == 405 || response.status == 501)) {
        if (auto error = not_a_registry(response)) return *error;
    }
    std::string detail;
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("errors") && body["errors"].is_array()) {
        for (const auto& e : body["errors"]) {
            if (!e.is_object()) continue;
            if (!detail.empty()) detail += "; ";
            if (e.contains("code") && e["code"].is_string()) detail += e["code"].get<std::string>();
            if (e.contains("message") && e["message"].is_string()) detail += ": " + e["message"].get<std::string>();
        }
    }
    // A redirect took the request elsewhere (blob storage, a CDN): that host answered, with
    // a pre-signed URL and without the registry's credentials, so they are not to blame.
    if (!response.url.empty() && origin_of(response.url) != base_url() && response.status >= 400) {
        const auto storage = origin_of(response.url);
        return Error(response.status == 404 ? ErrorKind::not_found : ErrorKind::registry,
                     redact_text(storage + ", where " + registry_ + " redirected " + method + " " + path +
                                 ", answered HTTP " + std::to_string(response.status) +
                                 (detail.empty() ? "" : " (" + detail + ")")),
                     "the registry's storage refused its own redirect (an expired or wrong pre-signed URL); "
                     "your credentials are not the cause: try again, or tell the registry's operator");
    }
    std::string message = registry_ + ": " + method + " " + path + ": HTTP " + std::to_string(response.status) +
                          (detail.empty() ? "" : " (" + detail + ")");
    if (!response.proxy.empty()) {
        message += redact_text(" through the proxy " + response.proxy);
        // 502, 503, 504 and a proxy's own 500: it may be the proxy that failed to get through.
        if (response.status >= 500)
            return Error(ErrorKind::registry, message,
                         "the proxy may not reach " + registry_ + ": check it, or exclude the registry with NO_PROXY");
    }
    if (response.attempts > 1) message += " (gave up after " + std::to_string(response.attempts) + " attempts)";
    switch (response.status) {
        case 401: return unauthorized_error(method, path, response, message);
        case 403:
            return Error(ErrorKind::auth, message + ": access denied",
                         "the credentials have no " + std::string(options_.push_access ? "push" : "pull") +
                             " access to " + repository_);
        case 404: return Error(ErrorKind::not_found, message, "check the repository, tag and digest");
        default:
            return Error(ErrorKind::registry, message,
                         response.status >= 500 ? "the registry failed; try again later" : "");
    }
}

Result<std::optional<FetchedManifest>> RegistryClient::fetch_manifest(const std::string& reference) {
    Exchange ex;
    ex.path = repository_root() + "/manifests/" + reference;
    ex.request.headers.emplace_back("Accept", manifest_accept);
    ex.request.max_response_bytes = max_manifest_bytes;
    auto response = perform(ex);
    if (!response) {
        if (response.error().message.find("larger than allowed") != std::string::npos)
            response.error().message += " (manifests are limited to 4 MiB)";
        return unexpected(std::move(response).error());
    }
    if (response->status == 404) {
        if (auto error = not_a_registry(*response)) return unexpected(std::move(*error));
        return std::optional<FetchedManifest>();
    }
    if (response->status != 200) return unexpected(http_error("GET", ex.path, *response));

    FetchedManifest out;
    out.bytes = std::move(response->body);
    out.content_type = response->header("Content-Type");
    out.digest = Digest::sha256_of(out.bytes);
    // REPO:TAG or REPO@DIGEST, as the user wrote it.
    const std::string where =
        registry_ + "/" + repository_ + (Digest::parse(reference).has_value() ? "@" : ":") + reference;
    if (auto requested = Digest::parse(reference); requested) {
        if (!requested->matches(out.bytes))
            return unexpected(Error(ErrorKind::validation,
                                    where + ": the registry sent a manifest that does not match the digest asked for",
                                    "the registry or something between is corrupting data; nothing was written"));
        out.digest = *requested;
    }
    if (const auto claimed = response->header("Docker-Content-Digest"); !claimed.empty()) {
        auto claimed_digest = Digest::parse(claimed);
        if (claimed_digest && !claimed_digest->matches(out.bytes))
            return unexpected(
                Error(ErrorKind::validation,
                      where + ": the manifest does not hash to the registry's Docker-Content-Digest " + claimed,
                      "the registry or something between is corrupting data; nothing was written"));
    }
    auto manifest = parse_manifest(out.bytes, out.content_type, where);
    if (!manifest) return unexpected(std::move(manifest).error());
    out.manifest = std::move(*manifest);
    return std::optional<FetchedManifest>(std::move(out));
}

Result<Digest> RegistryClient::put_manifest(const std::string& reference, const std::string& media_type,
                                            std::string_view bytes) {
    auto stored = store_manifest(reference, media_type, bytes);
    if (!stored) return unexpected(std::move(stored).error());
    return stored->digest;
}

Result<StoredManifest> RegistryClient::store_manifest(const std::string& reference, const std::string& media_type,
                                                      std::string_view bytes) {
    Exchange ex;
    ex.path = repository_root() + "/manifests/" + reference;
    ex.request.method = "PUT";
    ex.request.body = bytes;
    ex.request.headers.emplace_back("Content-Type", media_type);
    auto response = perform(ex);
    if (!response) return unexpected(std::move(response).error());
    if (response->status != 201 && response->status != 200) return unexpected(http_error("PUT", ex.path, *response));
    StoredManifest stored;
    stored.digest = Digest::sha256_of(bytes);
    if (const auto claimed = response->header("Docker-Content-Digest");
        !claimed.empty() && claimed != stored.digest.str())
        return unexpected(Error(ErrorKind::registry, registry_ + ": the registry stored the manifest as " + claimed +
                                                         " but its bytes hash to " + stored.digest.str()));
    stored.oci_subject = response->header("OCI-Subject");
    return stored;
}

Result<std::optional<Descriptor>> RegistryClient::head_manifest(const std::string& reference) {
    Exchange ex;
    ex.path = repository_root() + "/manifests/" + reference;
    ex.request.method = "HEAD";
    ex.request.headers.emplace_back("Accept", manifest_accept);
    auto response = perform(ex);
    if (!response) return unexpected(std::move(response).error());
    if (response->status == 404) return std::optional<Descriptor>();
    if (response->status != 200) return unexpected(http_error("HEAD", ex.path, *response));
    auto claimed = Digest::parse(response->header("Docker-Content-Digest"));
    const auto length = response->header("Content-Length");
    const auto requested = Digest::parse(reference);
    if (requested && claimed && *claimed != *requested)
        return unexpected(Error(ErrorKind::validation,
                                where() + "@" + reference + ": the registry answered with the digest " + claimed->str(),
                                "the registry or something between is corrupting data"));
    if (claimed && !length.empty()) {
        Descriptor d;
        d.digest = *claimed;
        d.media_type = response->header("Content-Type");
        try {
            d.size = std::stoll(length);
        } catch (const std::exception&) {
            d.size = -1;
        }
        if (d.size >= 0 && !d.media_type.empty()) return std::optional<Descriptor>(std::move(d));
    }
    // No trustworthy digest in the answer: hash the manifest ourselves.
    auto fetched = fetch_manifest(reference);
    if (!fetched) return unexpected(std::move(fetched).error());
    if (!*fetched) return std::optional<Descriptor>();
    Descriptor d;
    d.digest = (*fetched)->digest;
    d.media_type = (*fetched)->manifest.media_type.empty() ? (*fetched)->content_type : (*fetched)->manifest.media_type;
    d.size = static_cast<std::int64_t>((*fetched)->bytes.size());
    return std::optional<Descriptor>(std::move(d));
}

namespace {

constexpr int max_tag_pages = 10'000;

std::string link_target(const HttpResponse& response);

}  // namespace

Result<std::vector<std::string>> RegistryClient::list_tags(int page_size) {
    std::vector<std::string> tags;
    std::set<std::string> seen;
    const std::string first = repository_root() + "/tags/list?n=" + std::to_string(page_size);
    Exchange ex;
    ex.path = first;
    ex.request.headers.emplace_back("Accept", "application/json");
    ex.request.max_response_bytes = 64ull << 20;
    for (int page = 1;; ++page) {
        const std::string shown = ex.absolute_url.empty() ? ex.path : path_of(ex.absolute_url);
        auto response = perform(ex);
        if (!response) return unexpected(std::move(response).error());
        if (response->status == 404 && page == 1)
            return unexpected(Error(ErrorKind::not_found, where() + ": no such repository",
                                    "check the registry and repository name"));
        if (response->status != 200) return unexpected(http_error("GET", shown, *response));
        const auto body = nlohmann::json::parse(response->body, nullptr, false);
        if (!body.is_object() || (body.contains("tags") && !body["tags"].is_null() && !body["tags"].is_array()))
            return unexpected(Error(ErrorKind::registry,
                                    registry_ + ": GET " + shown + " did not answer with a tag list",
                                    "the registry's tag list is broken; report it to its operators"));
        std::size_t on_page = 0;
        bool progressed = false;
        if (body.contains("tags") && body["tags"].is_array())
            for (const auto& t : body["tags"]) {
                if (!t.is_string()) continue;
                ++on_page;
                if (seen.insert(t.get<std::string>()).second) {
                    tags.push_back(t.get<std::string>());
                    progressed = true;
                }
            }
        if (page >= max_tag_pages)
            return unexpected(Error(ErrorKind::registry, where() + ": the tag list spans more than " +
                                                             std::to_string(max_tag_pages) + " pages"));
        if (const auto next = link_target(*response); !next.empty()) {
            ex.path.clear();
            ex.absolute_url = resolve_location(next, base_url() + shown);
            continue;
        }
        // No Link: a full page from a registry that honours `n` may have a successor that
        // only `last` reaches (go-containerregistry's registry pages this way).
        if (on_page != static_cast<std::size_t>(page_size) || !progressed) break;
        ex.absolute_url.clear();
        ex.path = first + "&last=" + util::url_encode(tags.back());
    }
    return tags;
}

Result<bool> RegistryClient::mount_blob(const Descriptor& blob, const std::string& from_repository) {
    Exchange ex;
    ex.path = repository_root() + "/blobs/uploads/?mount=" + util::url_encode(blob.digest.str()) +
              "&from=" + util::url_encode(from_repository);
    ex.request.method = "POST";
    ex.request.headers.emplace_back("Content-Length", "0");
    auto response = perform(ex);
    if (!response) return unexpected(std::move(response).error());
    if (response->status == 201) return true;
    if (response->status == 202) return false;
    return unexpected(http_error("POST", ex.path, *response));
}

Result<bool> RegistryClient::blob_exists(const Descriptor& blob) {
    Exchange ex;
    ex.path = repository_root() + "/blobs/" + blob.digest.str();
    ex.request.method = "HEAD";
    auto response = perform(ex);
    if (!response) return unexpected(std::move(response).error());
    if (response->status == 200) return true;
    if (response->status == 404) {
        if (auto error = not_a_registry(*response)) return unexpected(std::move(*error));
        return false;
    }
    return unexpected(http_error("HEAD", ex.path, *response));
}

Result<void> RegistryClient::upload_blob(const Descriptor& blob, std::string_view bytes,
                                         const TransferObserver& observer) {
    Error last_error;
    // A small blob goes in the POST itself (the distribution spec's single-request upload):
    // a registry that takes it answers 201 and the PUT is saved; one that does not (Debian's
    // docker-registry) ignores the body and answers 202, and the PUT below sends it again.
    const bool single_request = bytes.size() <= max_single_request_upload_bytes;
    // A failed PUT leaves the upload session in an unknown state: start a new session.
    for (int session = 1; session <= options_.max_attempts; ++session) {
        Exchange start;
        start.path = repository_root() + "/blobs/uploads/";
        start.request.method = "POST";
        if (single_request) {
            start.path += "?digest=" + util::url_encode(blob.digest.str());
            start.request.body = bytes;
            start.request.headers.emplace_back("Content-Type", "application/octet-stream");
        } else {
            start.request.headers.emplace_back("Content-Length", "0");
        }
        auto started = perform(start);
        if (!started) return unexpected(std::move(started).error());
        if (started->status == 201) return {};  // stored from the POST, mounted, or already there
        if (started->status != 202) return unexpected(http_error("POST", start.path, *started));
        const auto location = started->header("Location");
        if (location.empty())
            return unexpected(Error(ErrorKind::registry, registry_ + ": the upload session has no Location"));

        Exchange put;
        put.absolute_url = resolve_location(location, base_url() + start.path);
        put.absolute_url += (put.absolute_url.find('?') == std::string::npos ? "?" : "&");
        put.absolute_url += "digest=" + util::url_encode(blob.digest.str());
        put.request.method = "PUT";
        put.request.body = bytes;
        put.request.headers.emplace_back("Content-Type", "application/octet-stream");
        put.request.observer = observer;
        auto finished = perform(put);
        if (finished && (finished->status == 201 || finished->status == 204)) return {};
        if (finished && !is_transient_status(finished->status) && finished->status != 404)
            return unexpected(http_error("PUT", path_of(put.absolute_url), *finished));
        last_error = finished ? http_error("PUT", path_of(put.absolute_url), *finished) : finished.error();
        trace("* upload of " + blob.digest.str() + " failed; starting a new upload session");
    }
    last_error.message += " (gave up after " + std::to_string(options_.max_attempts) + " upload sessions)";
    return unexpected(std::move(last_error));
}

Result<std::string> RegistryClient::fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                               const TransferObserver& observer) {
    if (blob.size < 0 || static_cast<std::uint64_t>(blob.size) > max_bytes)
        return unexpected(Error(ErrorKind::validation, registry_ + "/" + repository_ + "@" + blob.digest.str() +
                                                           ": blob of " + std::to_string(blob.size) +
                                                           " bytes is over the limit of " + std::to_string(max_bytes)));
    Exchange ex;
    ex.path = repository_root() + "/blobs/" + blob.digest.str();
    // One byte more than announced, so that a server sending too much is caught.
    ex.request.max_response_bytes = static_cast<std::uint64_t>(blob.size) + 1;
    ex.request.expected_response_bytes = static_cast<std::uint64_t>(blob.size);
    ex.request.observer = observer;
    auto response = perform(ex);
    if (!response) return unexpected(std::move(response).error());
    if (response->status != 200) return unexpected(http_error("GET", ex.path, *response));
    const std::string where = registry_ + "/" + repository_ + "@" + blob.digest.str();
    if (response->body.size() != static_cast<std::size_t>(blob.size))
        return unexpected(Error(ErrorKind::validation,
                                where + ": received " + std::to_string(response->body.size()) + " bytes, expected " +
                                    std::to_string(blob.size),
                                "the registry or something between is corrupting data; nothing was written"));
    if (!blob.digest.matches(response->body))
        return unexpected(Error(ErrorKind::validation, where + ": the blob does not match its digest",
                                "the registry or something between is corrupting data; nothing was written"));
    return std::move(response->body);
}

namespace {

constexpr int max_referrers_pages = 100;

// The target of `Link: <URL>; rel="next"` (RFC 8288), or "" when there is no next page.
std::string next_page_link(const HttpResponse& response) {
    for (const auto& value : response.all_headers("Link")) {
        const auto open = value.find('<');
        const auto close = value.find('>', open == std::string::npos ? 0 : open);
        if (open == std::string::npos || close == std::string::npos) continue;
        const auto params = value.substr(close + 1);
        if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos)
            return value.substr(open + 1, close - open - 1);
    }
    return {};
}

std::string link_target(const HttpResponse& response) {
    return next_page_link(response);
}

}  // namespace

Result<std::optional<std::vector<Descriptor>>> RegistryClient::list_referrers(const Digest& subject,
                                                                              const std::string& artifact_type) {
    std::vector<Descriptor> referrers;
    // A registry that ignores the filter may also report a referrer's config media type as its
    // artifactType where "Listing Referrers" asks for the manifest's (go-containerregistry
    // 0.22 does). An artifact with an empty config, as ORAS and the image-spec's guidance for
    // artifacts make it, then shows up as the empty type; its manifest says what it is.
    std::vector<Descriptor> typed_by_empty_config;
    Exchange ex;
    ex.path = repository_root() + "/referrers/" + subject.str();
    if (!artifact_type.empty()) ex.path += "?artifactType=" + util::url_encode(artifact_type);
    ex.request.headers.emplace_back("Accept", media_type::oci_index);
    ex.request.max_response_bytes = max_manifest_bytes;
    for (int page = 1;; ++page) {
        const std::string shown = ex.absolute_url.empty() ? ex.path : path_of(ex.absolute_url);
        auto response = perform(ex);
        if (!response) return unexpected(std::move(response).error());
        // A registry without the API answers 404 (distribution-spec: clients then fall back to
        // the referrers tag schema). A registry with it answers 200 even for no referrers.
        if (page == 1 && response->status == 404) return std::optional<std::vector<Descriptor>>();
        if (response->status != 200) return unexpected(http_error("GET", shown, *response));
        auto index = parse_manifest(response->body, media_type::oci_index, registry_ + shown);
        if (!index) return unexpected(std::move(index).error());
        if (!index->is_index())
            return unexpected(Error(ErrorKind::registry,
                                    registry_ + ": GET " + shown + " did not answer with an image index",
                                    "the registry's referrers API is broken; report it to its operators"));
        const bool filtered = response->header("OCI-Filters-Applied").find("artifactType") != std::string::npos;
        for (auto& d : index->manifests) {
            if (artifact_type.empty() || d.artifact_type == artifact_type)
                referrers.push_back(std::move(d));
            else if (!filtered && d.artifact_type == media_type::oci_empty)
                typed_by_empty_config.push_back(std::move(d));
        }

        const auto next = next_page_link(*response);
        if (next.empty()) break;
        if (page >= max_referrers_pages)
            return unexpected(Error(ErrorKind::registry,
                                    registry_ + ": the referrers of " + subject.str() + " span more than " +
                                        std::to_string(max_referrers_pages) + " pages",
                                    "remove referrers that are no longer needed"));
        ex.path.clear();
        ex.absolute_url = resolve_location(next, base_url() + shown);
    }
    for (auto& d : typed_by_empty_config) {
        auto fetched = fetch_manifest(d.digest.str());
        if (!fetched) return unexpected(std::move(fetched).error());
        if (!*fetched || (*fetched)->manifest.artifact_type != artifact_type) continue;
        d.artifact_type = artifact_type;
        d.annotations = (*fetched)->manifest.annotations;
        referrers.push_back(std::move(d));
    }
    return std::optional<std::vector<Descriptor>>(std::move(referrers));
}

}  // namespace karmor::oci
