// RegistryClient's authentication (SPEC §7): the WWW-Authenticate challenge, Basic
// credentials, Bearer tokens from the realm (Docker token spec, OAuth2 refresh-token grant
// for identity tokens), a token cache shared by the run, and errors that tell apart a wrong
// password, an expired token and an anonymous request for a private repository.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "oci/auth_challenge.hpp"
#include "oci/registry_client.hpp"
#include "util/encoding.hpp"

namespace karmor::oci {
namespace {

// The Docker token spec's default when a token service sends no expires_in.
constexpr std::chrono::seconds default_token_lifetime{60};
constexpr std::int64_t max_token_lifetime_seconds = 24 * 3600;

std::string origin_of(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return {};
    return url.substr(0, url.find('/', scheme_end + 3));
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::istringstream in(text);
    std::string part;
    while (std::getline(in, part, separator))
        if (!part.empty()) parts.push_back(part);
    return parts;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
    return out;
}

bool starts_with(const std::string& text, std::string_view prefix) {
    return text.rfind(prefix, 0) == 0;
}

std::string login_hint(const std::string& registry) {
    return "log in with `karmor oci login " + registry + "`, or pass -u USER with --password-stdin";
}

}  // namespace

std::vector<std::string> RegistryClient::token_scopes(const AuthChallenge& challenge) const {
    std::vector<std::string> scopes;
    std::vector<std::string> our_actions;
    if (!registry_scope_) {
        our_actions =
            options_.push_access ? std::vector<std::string>{"pull", "push"} : std::vector<std::string>{"pull"};
        scopes.push_back("repository:" + repository_ + ":" + join(our_actions, ","));
    }
    // A registry may name the scope it wants (e.g. another repository for a cross-mount);
    // it is asked for too unless ours already covers it.
    for (const auto& scope : split(challenge.param("scope"), ' ')) {
        const auto parts = split(scope, ':');
        const bool covered = parts.size() == 3 && parts[0] == "repository" && parts[1] == repository_ &&
                             std::ranges::all_of(split(parts[2], ','), [&](const std::string& action) {
                                 return std::ranges::find(our_actions, action) != our_actions.end();
                             });
        if (!covered && std::ranges::find(scopes, scope) == scopes.end()) scopes.push_back(scope);
    }
    return scopes;
}

std::string RegistryClient::token_cache_key(const AuthChallenge& challenge) const {
    return challenge.param("realm") + "\n" + challenge.param("service") + "\n" + options_.credentials.username + "\n" +
           join(token_scopes(challenge), " ");
}

void RegistryClient::use_cached_token() {
    const auto challenge = tokens_->challenge_for(api_host_);
    if (!challenge) return;
    if (const auto token = tokens_->find(token_cache_key(*challenge))) authorization_ = "Bearer " + *token;
}

Result<void> RegistryClient::authenticate(const HttpResponse& response, const std::string& sent) {
    if (!credentials_looked_up_ && options_.credentials.empty() && options_.find_credentials) {
        credentials_looked_up_ = true;
        options_.credentials = options_.find_credentials();
    }
    const auto challenges = parse_www_authenticate(response.header("WWW-Authenticate"));
    for (const auto& challenge : challenges) {
        if (challenge.scheme != "bearer") continue;
        const auto key = token_cache_key(challenge);
        // A refused token (expired, revoked) is fetched anew, once: perform() allows one
        // authentication per request.
        if (starts_with(sent, "Bearer ")) tokens_->forget(key, sent.substr(7));
        AuthChallenge without_scope = challenge;
        without_scope.params.erase("scope");
        tokens_->remember_challenge(api_host_, without_scope);
        if (const auto cached = tokens_->find(key); cached && "Bearer " + *cached != sent) {
            authorization_ = "Bearer " + *cached;
            return {};
        }
        return fetch_token(challenge);
    }
    for (const auto& challenge : challenges) {
        if (challenge.scheme != "basic") continue;
        const auto& c = options_.credentials;
        if (c.username.empty() && c.password.empty())
            return unexpected(Error(ErrorKind::auth, registry_ + " requires authentication", login_hint(registry_)));
        const auto basic = "Basic " + util::base64_encode(c.username + ":" + c.password);
        if (sent == basic) return unexpected(unauthorized_error("GET", "/v2/", response, registry_));
        authorization_ = basic;
        return {};
    }
    return unexpected(Error(ErrorKind::auth,
                            registry_ + " answered 401 without a challenge we support (WWW-Authenticate: \"" +
                                response.header("WWW-Authenticate") + "\")",
                            "the registry needs an authentication scheme this tool does not speak"));
}

Result<void> RegistryClient::fetch_token(const AuthChallenge& challenge) {
    const auto realm = challenge.param("realm");
    if (!starts_with(realm, "https://") && !starts_with(realm, "http://"))
        return unexpected(Error(ErrorKind::auth,
                                registry_ + ": the Bearer challenge has no usable realm (\"" + realm + "\")",
                                "the registry's token authentication is misconfigured"));
    const auto scopes = token_scopes(challenge);
    const auto service = challenge.param("service");
    const auto& c = options_.credentials;

    HttpRequest request;
    std::string form;
    if (!c.identity_token.empty()) {
        // OAuth2 refresh-token grant (Docker token spec, "oauth"): the identity token goes in
        // the POST body, never in a URL that a trace or a proxy log could show.
        request.method = "POST";
        request.url = realm;
        form = "grant_type=refresh_token&client_id=karmor&service=" + util::url_encode(service) +
               "&scope=" + util::url_encode(join(scopes, " ")) + "&refresh_token=" + util::url_encode(c.identity_token);
        request.body = form;
        request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    } else {
        std::string query = service.empty() ? "" : "service=" + util::url_encode(service);
        for (const auto& scope : scopes)
            query += (query.empty() ? "" : "&") + std::string("scope=") + util::url_encode(scope);
        if (!c.username.empty())
            query += (query.empty() ? "" : "&") + std::string("account=") + util::url_encode(c.username);
        request.url = realm + (query.empty() ? "" : (realm.find('?') == std::string::npos ? "?" : "&") + query);
        if (!c.username.empty() || !c.password.empty())
            request.headers.emplace_back("Authorization",
                                         "Basic " + util::base64_encode(c.username + ":" + c.password));
    }
    request.max_response_bytes = 1 << 20;
    HttpResult outcome = perform_once(request);
    if (!outcome.delivered()) {
        Error error = transport_error(request, outcome);
        error.message = "token service " + origin_of(realm) + " of " + error.message;
        return unexpected(std::move(error));
    }
    const HttpResponse& response = outcome.response;
    const std::string what = scopes.empty() ? "the registry" : join(scopes, " ");
    if (response.status == 401 || response.status == 403) {
        if (!c.identity_token.empty())
            return unexpected(
                Error(ErrorKind::auth,
                      "the token service " + origin_of(realm) + " refused the stored identity token for " + what +
                          " (HTTP " + std::to_string(response.status) + ")",
                      "the login has expired or was revoked: log in again with `karmor oci login " + registry_ + "`"));
        if (c.empty())
            return unexpected(Error(ErrorKind::auth,
                                    "the token service " + origin_of(realm) + " refused anonymous access to " + what +
                                        " (HTTP " + std::to_string(response.status) + ")",
                                    login_hint(registry_)));
        return unexpected(Error(ErrorKind::auth,
                                "the token service " + origin_of(realm) + " refused the user name and password of " +
                                    c.username + " for " + what + " (HTTP " + std::to_string(response.status) + ")",
                                "check the user name and password; " + login_hint(registry_)));
    }
    if (response.status != 200)
        return unexpected(Error(ErrorKind::registry,
                                "the token service " + origin_of(realm) + " answered HTTP " +
                                    std::to_string(response.status) + " for " + what,
                                response.status >= 500 ? "the token service failed; try again later" : ""));
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    std::string token;
    auto lifetime = default_token_lifetime;
    if (body.is_object()) {
        // Docker's field is "token"; OAuth2 token endpoints answer "access_token".
        for (const char* field : {"token", "access_token"}) {
            if (const auto t = body.find(field); token.empty() && t != body.end() && t->is_string())
                token = t->get<std::string>();
        }
        if (const auto e = body.find("expires_in"); e != body.end() && e->is_number_integer()) {
            const auto seconds = e->get<std::int64_t>();
            if (seconds > 0) lifetime = std::chrono::seconds(std::min(seconds, max_token_lifetime_seconds));
        }
    }
    if (token.empty())
        return unexpected(Error(ErrorKind::auth, "the token service " + origin_of(realm) + " sent no token for " + what,
                                "the token service answered 200 without a \"token\" or \"access_token\" field"));
    tokens_->store(token_cache_key(challenge), token, lifetime);
    authorization_ = "Bearer " + token;
    return {};
}

Error RegistryClient::unauthorized_error(const std::string& method, const std::string& path,
                                         const HttpResponse& response, const std::string& message) const {
    const auto& c = options_.credentials;
    std::string bearer_error;
    for (const auto& challenge : parse_www_authenticate(response.header("WWW-Authenticate")))
        if (challenge.scheme == "bearer") bearer_error = challenge.param("error");
    const std::string where = registry_ + ": " + method + " " + path + ": HTTP 401";
    if (starts_with(authorization_, "Basic "))
        return Error(ErrorKind::auth,
                     registry_ + " refused the user name and password of " + c.username + " (HTTP 401)",
                     "check the user name and password; " + login_hint(registry_));
    if (starts_with(authorization_, "Bearer ")) {
        if (bearer_error == "invalid_token")
            return Error(ErrorKind::auth,
                         where + ": the registry refused the token from its token service as expired or invalid",
                         "check that the clocks of this machine and the token service agree, then retry");
        const std::string access = registry_scope_ ? "access" : options_.push_access ? "push access" : "pull access";
        const std::string target = registry_scope_ ? registry_ : registry_ + "/" + repository_;
        if (c.empty())
            return Error(ErrorKind::auth, where + ": anonymous " + access + " to " + target + " is not allowed",
                         login_hint(registry_));
        return Error(ErrorKind::auth,
                     where + ": the credentials of " + c.username + " have no " + access + " to " + target,
                     "ask for access to the repository, or check the repository name");
    }
    return Error(ErrorKind::auth, message + ": authentication required", login_hint(registry_));
}

Result<void> RegistryClient::check_credentials() {
    registry_scope_ = true;
    Exchange ping;
    ping.path = options_.api_root + "/";
    auto response = perform(ping);
    registry_scope_ = false;
    if (!response) return unexpected(std::move(response).error());
    if (response->status == 200) return {};
    return unexpected(http_error("GET", ping.path, *response));
}

}  // namespace karmor::oci
