// A Docker token service for docker-registry's `auth.token` (REGISTRY-NOTES.md): ES256 JWTs
// whose `x5c` header carries a self-signed certificate that the registry trusts through
// `rootcertbundle`. Users with the right password get the actions they ask for; anonymous
// requests get a token without access; a wrong password gets 401.
#pragma once

#include <memory>
#include <string>

#include "support/http_server.hpp"
#include "support/process.hpp"

namespace karmor::testing {

class TokenService {
public:
    static constexpr const char* service = "karmor-test-registry";
    static constexpr const char* issuer = "karmor-test-issuer";

    // Makes the signing key and certificate with openssl; throws on failure.
    TokenService(std::string user, std::string password);
    ~TokenService();
    TokenService(const TokenService&) = delete;
    TokenService& operator=(const TokenService&) = delete;

    // The `auth:` section for RegistryConfig::extra_config.
    std::string registry_config() const;
    std::string realm() const { return server_->url() + "/token"; }
    // Tokens issued from now on expired an hour ago (the registry must refuse them).
    void issue_expired_tokens(bool expired) { expired_ = expired; }
    std::vector<ServedRequest> requests() const { return server_->requests(); }
    // Tokens issued so far, to check that none leaks.
    std::vector<std::string> issued() const;

private:
    ServedResponse handle(const ServedRequest& request);
    std::string sign(const std::string& header_and_payload) const;

    std::string user_;
    std::string password_;
    TempDir dir_;
    std::string certificate_der_base64_;
    std::atomic<bool> expired_{false};
    mutable std::mutex mutex_;
    std::vector<std::string> issued_;
    std::unique_ptr<HttpServer> server_;
};

}  // namespace karmor::testing
