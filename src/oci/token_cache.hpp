// Bearer tokens for one run (SPEC §7 "tokens cached per scope for the run"). One cache is
// shared by every RegistryClient of a run, so that a second client of the same registry
// (push then attach, pull of several references) asks the token service only once.
// Not thread-safe: a run talks to registries from one thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "oci/auth_challenge.hpp"

namespace karmor::oci {

class TokenCache {
public:
    using Clock = std::chrono::steady_clock;

    // A token that has not expired yet, or nothing.
    std::optional<std::string> find(const std::string& key) const;
    void store(const std::string& key, std::string token, std::chrono::seconds lifetime);
    // Drops the token when it is still the one stored (a registry refused it).
    void forget(const std::string& key, const std::string& token);

    // The Bearer challenge an API host sent last, so that later clients of that host can
    // send a cached token with their first request.
    void remember_challenge(const std::string& api_origin, const AuthChallenge& challenge);
    std::optional<AuthChallenge> challenge_for(const std::string& api_origin) const;

private:
    struct Entry {
        std::string token;
        Clock::time_point expires;
    };
    std::map<std::string, Entry> tokens_;
    std::map<std::string, AuthChallenge> challenges_;
};

}  // namespace karmor::oci
