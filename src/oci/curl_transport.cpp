#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "oci/http.hpp"
#include "oci/libcurl.hpp"
#include "util/loopback.hpp"

namespace karmor::oci {
namespace {

struct CurlEasyDeleter {
    void operator()(CURL* handle) const { libcurl().curl_easy_cleanup(handle); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* list) const { libcurl().curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct Transfer {
    HttpResponse* response;
    std::uint64_t limit;
    bool too_large = false;
    std::string_view upload;
    std::size_t uploaded = 0;
    const std::atomic<bool>* cancel = nullptr;
    const TransferObserver* observer = nullptr;
    bool sending = false;        // the observer counts the request body, not the response's
    std::uint64_t expected = 0;  // HttpRequest::expected_response_bytes
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    if (t->response->body.size() + n > t->limit) {
        t->too_large = true;
        return 0;  // aborts the transfer
    }
    if (t->response->body.empty() && t->expected > n) t->response->body.reserve(std::min(t->expected, t->limit));
    t->response->body.append(data, n);
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new response (after 100 Continue)
        return n;
    }
    // Trailers (HTTP/2) reach this callback too, after the body, without a status line before
    // them: they are appended to the headers, which is where gRPC's grpc-status is looked for.
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    t->response->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    return n;
}

int on_progress(void* user, curl_off_t, curl_off_t received, curl_off_t, curl_off_t sent) {
    const auto* t = static_cast<const Transfer*>(user);
    if (t->cancel && t->cancel->load()) return 1;  // non-zero aborts the transfer
    if (t->observer) (*t->observer)(static_cast<std::uint64_t>(std::max<curl_off_t>(t->sending ? sent : received, 0)));
    return 0;
}

size_t on_upload(char* buffer, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = std::min(size * count, t->upload.size() - t->uploaded);
    std::copy_n(t->upload.data() + t->uploaded, n, buffer);
    t->uploaded += n;
    return n;
}

TransportStatus classify(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return TransportStatus::connect_failed;
        case CURLE_SSL_CONNECT_ERROR: return TransportStatus::tls_handshake_failed;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM: return TransportStatus::tls_verify_failed;
        case CURLE_OPERATION_TIMEDOUT: return TransportStatus::timeout;
        default: return TransportStatus::failed;
    }
}

std::string lowercase(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// The host of an absolute URL, lowercase, without port or brackets.
std::string host_of(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find_first_of("/?#", start);
    std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
    if (!authority.empty() && authority.front() == '[') return lowercase(authority.substr(1, authority.find(']') - 1));
    return lowercase(authority.substr(0, authority.find(':')));
}

// NO_PROXY as Go reads it: comma-separated "*", host names (which also cover their
// subdomains, with or without a leading dot), "HOST:PORT" (port ignored here) and IP addresses.
bool excluded_by_no_proxy(const std::string& host, const std::string& no_proxy) {
    std::size_t pos = 0;
    while (pos <= no_proxy.size()) {
        auto end = no_proxy.find(',', pos);
        if (end == std::string::npos) end = no_proxy.size();
        std::string entry = lowercase(no_proxy.substr(pos, end - pos));
        pos = end + 1;
        entry.erase(0, entry.find_first_not_of(" \t"));
        entry.erase(entry.find_last_not_of(" \t") + 1);
        if (entry.empty()) continue;
        if (entry == "*") return true;
        if (entry.front() == '[') {
            entry = entry.substr(1, entry.find(']') - 1);
        } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
            entry = entry.substr(0, entry.find(':'));
        }
        if (entry.front() == '.') entry.erase(0, 1);
        if (host == entry || (host.size() > entry.size() && host.ends_with("." + entry))) return true;
    }
    return false;
}

// Whole milliseconds from now to `deadline`, rounded up: libcurl's limits set from it end a
// transfer at the deadline or after it, never before (the client then knows the time ran out).
long milliseconds_until(std::chrono::steady_clock::time_point deadline) {
    const auto left = deadline - std::chrono::steady_clock::now();
    return static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

// libcurl is opened, and its global state set up, by the first transport (src/oci/libcurl.hpp):
// commands that never touch the network start without it. nullptr when it cannot be loaded.
CURL* new_curl_handle(std::string& load_error) {
    if (auto loaded = load_libcurl(); !loaded) {
        load_error = loaded.error().message + " (" + loaded.error().hint + ")";
        return nullptr;
    }
    return libcurl().curl_easy_init();
}

class CurlTransport final : public HttpTransport {
public:
    explicit CurlTransport(const TransportOptions& options) : options_(options), handle_(new_curl_handle(load_error_)) {
        if (handle_) {
            curl_slist* list = nullptr;
            for (const auto& entry : options_.connect_to) list = libcurl().curl_slist_append(list, entry.c_str());
            connect_to_.reset(list);
        }
        const char* directory = nullptr;
        if (handle_ && libcurl().curl_easy_getinfo(handle_.get(), CURLINFO_CAPATH, &directory) == CURLE_OK &&
            directory && *directory) {
            std::error_code ec;
            system_ca_directory_ = std::filesystem::is_directory(directory, ec);
        }
    }

    LoopbackProtocol probe_loopback(const std::string& authority) override {
        // Not when something else decides where the connection goes: a proxy named for every
        // request (a kubeconfig's proxy-url) or a connect-to rule (a mirror's tls-server-name).
        if (!options_.connect_to.empty() || (options_.proxy && !options_.proxy->empty()))
            return LoopbackProtocol::unknown;
        // Nor when TLS was asked for by name (--ca-file, a client certificate): the TLS attempt
        // comes first anyway, and a probe would only add a connection before it.
        if (!options_.ca_file.empty() || !options_.ca_pem.empty() || !options_.cert_file.empty() ||
            !options_.cert_pem.empty())
            return LoopbackProtocol::unknown;
        std::string host = authority;
        std::string port = "443";
        if (!host.empty() && host.front() == '[') {
            const auto close = host.find(']');
            if (close == std::string::npos) return LoopbackProtocol::unknown;
            if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
            host = host.substr(1, close - 1);
        } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        // Bounded well below the connection timeout: a server that says nothing in time is
        // asked the usual way (a TLS attempt), which then has its own timeouts.
        long budget_ms = std::min(options_.connect_timeout_ms, 1000L);
        if (options_.deadline)
            budget_ms = std::min<long>(budget_ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      *options_.deadline - std::chrono::steady_clock::now())
                                                      .count());
        if (budget_ms <= 0) return LoopbackProtocol::unknown;
        return probe_loopback_protocol(lowercase(host), port, std::chrono::milliseconds(budget_ms));
    }

    HttpResult send(const HttpRequest& request) override {
        HttpResult result;
        if (!load_error_.empty()) {
            result.transport = TransportStatus::unavailable;
            result.transport_error = load_error_;
            return result;
        }
        CURL* h = handle_.get();
        libcurl().curl_easy_reset(h);  // keeps the connection cache

        Transfer transfer{&result.response,
                          request.max_response_bytes,
                          false,
                          request.body,
                          0,
                          options_.cancel,
                          request.observer ? &request.observer : nullptr,
                          request.method == "PUT" || request.method == "PATCH",
                          request.expected_response_bytes};
        CurlSlist headers;
        curl_slist* list = nullptr;
        for (const auto& [name, value] : request.headers) {
            const auto line = name + ": " + value;
            list = libcurl().curl_slist_append(list, line.c_str());
        }
        // libcurl adds "Expect: 100-continue" to large uploads; registries do not need the round trip.
        list = libcurl().curl_slist_append(list, "Expect:");
        headers.reset(list);

        char error_buffer[CURL_ERROR_SIZE] = {0};
        libcurl().curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
        libcurl().curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        libcurl().curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
        libcurl().curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        libcurl().curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        libcurl().curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        libcurl().curl_easy_setopt(h, CURLOPT_USERAGENT, "karmor-oci/" KARMOR_VERSION);
        // Set from the environment explicitly (an empty proxy is a direct connection):
        // libcurl's own reading ignores HTTP_PROXY and would proxy loopback.
        auto proxy = proxy_for(request.url, [](const char* name) { return std::getenv(name); });
        if (options_.proxy) proxy = {*options_.proxy, options_.proxy->empty() ? "" : "proxy-url"};
        libcurl().curl_easy_setopt(h, CURLOPT_PROXY, proxy.proxy.c_str());
        libcurl().curl_easy_setopt(h, CURLOPT_NOPROXY, "");  // decided above
        result.proxy = proxy.proxy.empty() ? std::string() : proxy.proxy + " (" + proxy.variable + ")";
        libcurl().curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
        libcurl().curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit_bytes);
        libcurl().curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_seconds);
        libcurl().curl_easy_setopt(h, CURLOPT_TIMEOUT, options_.total_timeout_seconds);
        if (options_.deadline) {
            const auto left = milliseconds_until(*options_.deadline);
            if (left <= 0) {
                result.transport = TransportStatus::timeout;
                result.transport_error = "the time given with --timeout ran out";
                return result;
            }
            libcurl().curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left));
            libcurl().curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                                       std::min<long>(static_cast<long>(left), options_.connect_timeout_ms));
        }
        if (request.timeout_ms > 0) {
            long bound = request.timeout_ms;
            if (options_.total_timeout_seconds > 0) bound = std::min(bound, options_.total_timeout_seconds * 1000);
            if (options_.deadline) bound = std::min<long>(bound, milliseconds_until(*options_.deadline));
            libcurl().curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, std::max(bound, 1L));
        }
        if (request.http2) {
            // gRPC: HTTP/2 without an HTTP/1.1 upgrade round (prior knowledge) in plain text,
            // by ALPN with TLS; a TLS server that does not offer h2 is answered in HTTP/1.1 and
            // the caller sees HttpResponse::http2 false.
            const bool tls = request.url.rfind("https://", 0) == 0;
            libcurl().curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                                       tls ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                           : static_cast<long>(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
            // libcurl 7.88 (Debian 12) fails the second request on a reused HTTP/2 connection
            // ("Error in the HTTP2 framing layer", also with the curl tool): one connection a call.
            libcurl().curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
            libcurl().curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        }
        libcurl().curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        libcurl().curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
        libcurl().curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        libcurl().curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
        if (transfer.cancel || transfer.observer) {
            libcurl().curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            libcurl().curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
            libcurl().curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
        }
        if (options_.insecure) {
            libcurl().curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            libcurl().curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (!options_.ca_pem.empty()) {
            // Only this CA, as a kubeconfig's certificate-authority means (Go's RootCAs): the
            // system's bundle and directory would otherwise be trusted too.
            libcurl().curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
            libcurl().curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
        } else if (!options_.ca_file.empty()) {
            libcurl().curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
        } else if (system_ca_directory_) {
            // The system's hashed certificate directory instead of its bundle: OpenSSL reads
            // the one or two certificates a verification needs instead of parsing all ~140 of
            // the bundle for every TLS connection (25-60 ms, more than a whole small push).
            libcurl().curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
        }
        if (!options_.extra_ca_pem.empty() && options_.ca_file.empty() && options_.ca_pem.empty()) {
            // With the system's hashed directory (CAPATH) still in use: these are added to it.
            curl_blob blob{options_.extra_ca_pem.data(), options_.extra_ca_pem.size(), CURL_BLOB_COPY};
            libcurl().curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (!options_.cert_file.empty()) libcurl().curl_easy_setopt(h, CURLOPT_SSLCERT, options_.cert_file.c_str());
        if (!options_.key_file.empty()) libcurl().curl_easy_setopt(h, CURLOPT_SSLKEY, options_.key_file.c_str());
        // From memory: libcurl copies a blob (CURL_BLOB_COPY), so nothing here must outlive the call.
        const auto set_blob = [h](CURLoption option, const std::string& pem) {
            if (pem.empty()) return;
            curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
            libcurl().curl_easy_setopt(h, option, &blob);
        };
        set_blob(CURLOPT_CAINFO_BLOB, options_.ca_pem);
        set_blob(CURLOPT_SSLCERT_BLOB, options_.cert_pem);
        set_blob(CURLOPT_SSLKEY_BLOB, options_.key_pem);
        if (!options_.cert_pem.empty()) libcurl().curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        if (!options_.key_pem.empty()) libcurl().curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        if (connect_to_) libcurl().curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to_.get());

        if (request.method == "HEAD") {
            libcurl().curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (request.method == "GET") {
            libcurl().curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else if (request.method == "PUT" || request.method == "PATCH") {
            libcurl().curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            libcurl().curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
            libcurl().curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
            libcurl().curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
            if (request.method == "PATCH") libcurl().curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
        } else if (request.method == "POST") {
            libcurl().curl_easy_setopt(h, CURLOPT_POST, 1L);
            libcurl().curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
            libcurl().curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        } else {
            libcurl().curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
            if (!request.body.empty()) {  // DELETE with DeleteOptions (the Kubernetes API)
                libcurl().curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
                libcurl().curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                           static_cast<curl_off_t>(request.body.size()));
            }
        }

        const CURLcode code = libcurl().curl_easy_perform(h);
        if (code != CURLE_OK) {
            result.transport = transfer.too_large                  ? TransportStatus::response_too_large
                               : code == CURLE_ABORTED_BY_CALLBACK ? TransportStatus::cancelled
                                                                   : classify(code);
            result.transport_error = error_buffer[0] ? error_buffer : libcurl().curl_easy_strerror(code);
            return result;
        }
        libcurl().curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &result.response.status);
        long version = 0;
        libcurl().curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
        result.response.http2 = version == CURL_HTTP_VERSION_2_0;
        return result;
    }

private:
    TransportOptions options_;
    std::string load_error_;  // libcurl could not be loaded: every request fails with this
    CurlEasy handle_;
    CurlSlist connect_to_;
    bool system_ca_directory_ = false;  // libcurl's default CA directory exists
};

}  // namespace

bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (equals_ignore_case(k, name)) return v;
    return {};
}

std::vector<std::string> HttpResponse::all_headers(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers)
        if (equals_ignore_case(k, name)) out.push_back(v);
    return out;
}

ProxyChoice proxy_for(const std::string& url, const std::function<const char*(const char*)>& getenv) {
    const auto first_set = [&](const char* upper, const char* lower, std::string& variable) -> std::string {
        for (const char* name : {upper, lower}) {
            if (const char* value = getenv(name); value && *value) {
                variable = name;
                return value;
            }
        }
        return {};
    };
    ProxyChoice choice;
    std::string ignored;
    const auto no_proxy = first_set("NO_PROXY", "no_proxy", ignored);
    const auto host = host_of(url);
    if (util::is_local_name(host) || excluded_by_no_proxy(host, no_proxy)) return choice;
    const bool https = lowercase(url.substr(0, 8)) == "https://";
    choice.proxy = https ? first_set("HTTPS_PROXY", "https_proxy", choice.variable)
                         : first_set("HTTP_PROXY", "http_proxy", choice.variable);
    return choice;
}

std::unique_ptr<HttpTransport> make_curl_transport(const TransportOptions& options) {
    return std::make_unique<CurlTransport>(options);
}

}  // namespace karmor::oci
