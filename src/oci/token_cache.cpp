#include "oci/token_cache.hpp"

namespace karmor::oci {
namespace {

// A token is not sent in its last seconds: the request could arrive after it expired.
constexpr std::chrono::seconds expiry_margin{10};

}  // namespace

std::optional<std::string> TokenCache::find(const std::string& key) const {
    const auto it = tokens_.find(key);
    if (it == tokens_.end() || Clock::now() >= it->second.expires) return std::nullopt;
    return it->second.token;
}

void TokenCache::store(const std::string& key, std::string token, std::chrono::seconds lifetime) {
    const auto usable = lifetime > 2 * expiry_margin ? lifetime - expiry_margin : lifetime;
    tokens_[key] = Entry{std::move(token), Clock::now() + usable};
}

void TokenCache::forget(const std::string& key, const std::string& token) {
    const auto it = tokens_.find(key);
    if (it != tokens_.end() && it->second.token == token) tokens_.erase(it);
}

void TokenCache::remember_challenge(const std::string& api_origin, const AuthChallenge& challenge) {
    challenges_[api_origin] = challenge;
}

std::optional<AuthChallenge> TokenCache::challenge_for(const std::string& api_origin) const {
    const auto it = challenges_.find(api_origin);
    if (it == challenges_.end()) return std::nullopt;
    return it->second;
}

}  // namespace karmor::oci
