#include "support/token_service.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "util/encoding.hpp"

namespace karmor::testing {
namespace {

std::string base64url(std::string_view bytes) {
    auto text = util::base64_encode(bytes);
    for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
}

struct EvpKeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct SigDeleter {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

TokenService::TokenService(std::string user, std::string password)
    : user_(std::move(user)), password_(std::move(password)) {
    const auto key = (dir_ / "signing-key.pem").string();
    const auto cert = (dir_ / "signing-cert.pem").string();
    const auto der = (dir_ / "signing-cert.der").string();
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
              key, "-out", cert, "-days", "2", "-subj", "/CN=karmor test token signer"},
             {"openssl", "x509", "-in", cert, "-outform", "DER", "-out", der}}) {
        const auto r = run_command(argv);
        if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
    }
    certificate_der_base64_ = util::base64_encode(read_text(der));
    server_ = std::make_unique<HttpServer>([this](const ServedRequest& r) { return handle(r); });
}

TokenService::~TokenService() {
    server_.reset();
}

std::string TokenService::registry_config() const {
    return "auth:\n  token:\n    realm: " + realm() + "\n    service: " + service + "\n    issuer: " + issuer +
           "\n    rootcertbundle: " + (dir_ / "signing-cert.pem").string() + "\n";
}

std::vector<std::string> TokenService::issued() const {
    std::lock_guard lock(mutex_);
    return issued_;
}

std::string TokenService::sign(const std::string& header_and_payload) const {
    std::FILE* file = std::fopen((dir_ / "signing-key.pem").c_str(), "r");
    if (!file) throw std::runtime_error("cannot read the signing key");
    std::unique_ptr<EVP_PKEY, EvpKeyDeleter> key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
    std::fclose(file);
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    std::size_t size = 0;
    if (!key || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(header_and_payload.data()),
                       header_and_payload.size()) != 1)
        throw std::runtime_error("cannot sign");
    std::string der(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &size,
                       reinterpret_cast<const unsigned char*>(header_and_payload.data()),
                       header_and_payload.size()) != 1)
        throw std::runtime_error("cannot sign");
    // JWS wants r||s, 32 bytes each; OpenSSL gives a DER SEQUENCE of two INTEGERs.
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, SigDeleter> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(size)));
    if (!sig) throw std::runtime_error("cannot decode the signature");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    return base64url(raw);
}

ServedResponse TokenService::handle(const ServedRequest& request) {
    const auto authorization = request.header("authorization");
    std::string subject;
    if (!authorization.empty()) {
        if (authorization != "Basic " + util::base64_encode(user_ + ":" + password_))
            return {401, {{"Content-Type", "application/json"}}, R"({"details":"wrong user name or password"})"};
        subject = user_;
    }
    nlohmann::json access = nlohmann::json::array();
    if (!subject.empty()) {
        for (const auto& scope : query_values(request.target, "scope")) {
            // repository:NAME:ACTIONS, NAME may hold ':' only in a port, which repositories have not.
            const auto first = scope.find(':');
            const auto last = scope.rfind(':');
            if (first == std::string::npos || first == last) continue;
            nlohmann::json actions = nlohmann::json::array();
            std::string list = scope.substr(last + 1);
            for (std::size_t pos = 0; pos <= list.size();) {
                auto end = list.find(',', pos);
                if (end == std::string::npos) end = list.size();
                actions.push_back(list.substr(pos, end - pos));
                pos = end + 1;
            }
            access.push_back({{"type", scope.substr(0, first)},
                              {"name", scope.substr(first + 1, last - first - 1)},
                              {"actions", actions}});
        }
    }
    const auto now = now_seconds() - (expired_ ? 7200 : 0);
    const nlohmann::json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"x5c", {certificate_der_base64_}}};
    static std::atomic<int> serial{0};
    const nlohmann::json claims = {{"iss", issuer},
                                   {"sub", subject},
                                   {"aud", service},
                                   {"exp", now + 300},
                                   {"nbf", now - 10},
                                   {"iat", now},
                                   {"jti", "jti-" + std::to_string(++serial)},
                                   {"access", access}};
    const auto signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
    const auto token = signing_input + "." + sign(signing_input);
    {
        std::lock_guard lock(mutex_);
        issued_.push_back(token);
    }
    return {200, {{"Content-Type", "application/json"}}, nlohmann::json{{"token", token}, {"expires_in", 300}}.dump()};
}

}  // namespace karmor::testing
