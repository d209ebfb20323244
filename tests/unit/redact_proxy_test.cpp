// Redaction of everything printed, and the proxy choice (issue 11, items 2 and 6).
#include <gtest/gtest.h>

#include <map>

#include "oci/http.hpp"
#include "oci/redact.hpp"

namespace karmor::oci {
namespace {

TEST(RedactText, SecretsInUrlsPathsAndUserinfo) {
    const struct {
        const char* in;
        const char* out;
    } cases[] = {
        {"< 200 GET /v2/x/blobs/sha256:ab?X-Amz-Signature=abc&X-Amz-Expires=60 (3 bytes)",
         "< 200 GET /v2/x/blobs/sha256:ab?X-Amz-Signature=REDACTED&X-Amz-Expires=60 (3 bytes)"},
        {"* redirected to https://s3.test/b?X-Amz-Credential=AKIA%2F1&X-Amz-Security-Token=T0K",
         "* redirected to https://s3.test/b?X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED"},
        {"http://user:pa55@host:5000/v2/", "http://user:REDACTED@host:5000/v2/"},
        {"proxy http://tok3n@proxy:3128 (HTTPS_PROXY)", "proxy http://REDACTED@proxy:3128 (HTTPS_PROXY)"},
        {"\"https://a.test/x?sig=s3cr3t\" and http://b.test/?code=c0de",
         "\"https://a.test/x?sig=REDACTED\" and http://b.test/?code=REDACTED"},
        {"https://r.test/v2/x?n=10&last=abc", "https://r.test/v2/x?n=10&last=abc"},
        {"nothing here: a=b & c", "nothing here: a=b & c"},
    };
    for (const auto& c : cases) EXPECT_EQ(redact_text(c.in), c.out) << c.in;
}

ProxyChoice choose(const std::string& url, const std::map<std::string, std::string>& env) {
    return proxy_for(url, [&](const char* name) -> const char* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

TEST(ProxyFor, GoRules) {
    const std::map<std::string, std::string> env = {
        {"HTTPS_PROXY", "http://p:1"}, {"HTTP_PROXY", "http://p:2"}, {"NO_PROXY", "internal.test, .corp.test,[::2]"}};
    EXPECT_EQ(choose("https://r.example.com/v2/", env).proxy, "http://p:1");
    EXPECT_EQ(choose("https://r.example.com/v2/", env).variable, "HTTPS_PROXY");
    EXPECT_EQ(choose("http://r.example.com/v2/", env).proxy, "http://p:2") << "uppercase HTTP_PROXY counts";
    for (const char* direct :
         {"https://localhost:5000/v2/", "https://LOCALHOST:5000/v2/", "http://127.0.0.1:1/", "http://127.9.8.7/",
          "https://[::1]:5000/v2/", "https://internal.test/v2/", "https://a.internal.test/v2/",
          "https://x.corp.test:443/", "https://corp.test/", "https://[::2]:5000/"})
        EXPECT_EQ(choose(direct, env).proxy, "") << direct;
    EXPECT_EQ(choose("https://notinternal.test/", env).proxy, "http://p:1");
    EXPECT_EQ(choose("https://127.0.0.1.example.com/", env).proxy, "http://p:1");
    // Not an address (an octet over 255): a name, which the resolver may send anywhere; proxied,
    // as Go's client does.
    EXPECT_EQ(choose("https://127.999.999.999/", env).proxy, "http://p:1");
    EXPECT_EQ(choose("https://registry.localhost/", env).proxy, "") << "names under .localhost stay here";
    EXPECT_EQ(choose("https://r.test/", {{"https_proxy", "http://low:3"}}).proxy, "http://low:3");
    EXPECT_EQ(choose("https://r.test/", {{"https_proxy", "http://low:3"}, {"no_proxy", "*"}}).proxy, "");
    EXPECT_EQ(choose("https://r.test/", {}).proxy, "");
}

}  // namespace
}  // namespace karmor::oci
