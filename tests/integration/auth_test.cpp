// The binary against real registries that need authentication (SPEC §7): docker-registry
// with TLS from a private CA and htpasswd users, credentials from `login`, from a
// docker-credential helper, and the errors a wrong password, an unknown CA, a missing helper
// and an anonymous request give. Nothing may print a secret, -v included.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "oci/registry_client.hpp"
#include "support/docker_config.hpp"
#include "support/http_server.hpp"
#include "support/local_registry.hpp"
#include "support/token_service.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
using testing::write_config_with_helper;
using testing::write_credential_helper;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";
constexpr const char* user = "ci-bot";
constexpr const char* password = "correct-horse-battery-staple";

testing::RegistryConfig tls_with_user() {
    testing::RegistryConfig config;
    config.tls = true;
    config.user = user;
    config.password = password;
    return config;
}

// An environment with its own Docker config directory, so that no test reads the user's.
std::map<std::string, std::string> isolated_env(const TempDir& home) {
    return {{"HOME", home.path().string()}, {"DOCKER_CONFIG", (home / "docker").string()}};
}

void expect_no_secret(const CommandResult& r, const std::string& secret) {
    EXPECT_EQ(r.out.find(secret), std::string::npos) << "secret on stdout";
    EXPECT_EQ(r.err.find(secret), std::string::npos) << "secret on stderr: " << r.err;
}

TEST(Auth, TlsWithPrivateCaAndPasswordPushesAndPulls) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    const auto image = registry->address() + "/team/policies:v1";
    const auto ca = registry->ca_file().string();
    auto push = run_karmor(
        {"oci", "push", "-v", "-i", image, "-p", examples.string(), "--ca-file", ca, "-u", user, "--password-stdin"},
        std::string(password) + "\n", isolated_env(home));
    ASSERT_EQ(push.exit_code, 0) << push.err;
    EXPECT_NE(push.err.find("> PUT https://" + registry->address()), std::string::npos) << push.err;
    expect_no_secret(push, password);

    auto pull = run_karmor(
        {"oci", "pull", "-i", image, "-o", (home / "out").string(), "--ca-file", ca, "-u", user, "--password-stdin"},
        std::string(password) + "\n", isolated_env(home));
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_TRUE(std::filesystem::exists(home / "out" / "ksp-shop-block-shell.yaml"));
}

TEST(Auth, UnknownCaIsANetworkErrorThatSuggestsCaFileAndNeverFallsBack) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    auto pull = run_karmor({"oci", "pull", "-i", registry->address() + "/team/policies:v1", "-o",
                            (home / "out").string(), "-u", user, "--password-stdin"},
                           std::string(password) + "\n", isolated_env(home));
    EXPECT_EQ(pull.exit_code, 6) << pull.err;
    EXPECT_NE(pull.err.find("certificate did not verify"), std::string::npos) << pull.err;
    EXPECT_NE(pull.err.find("--ca-file"), std::string::npos) << pull.err;
    for (const auto& request : registry->requests()) ADD_FAILURE() << "a request reached the registry: " << request;
    expect_no_secret(pull, password);

    auto insecure = run_karmor({"oci", "push", "--insecure", "-i", registry->address() + "/team/policies:v1", "-p",
                                examples.string(), "-u", user, "--password-stdin"},
                               std::string(password) + "\n", isolated_env(home));
    EXPECT_EQ(insecure.exit_code, 0) << "--insecure skips the check: " << insecure.err;
}

TEST(Auth, WrongPasswordIsAnAuthErrorWithoutTheSecret) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    auto push =
        run_karmor({"oci", "push", "-v", "-i", registry->address() + "/team/policies:v1", "-p", examples.string(),
                    "--ca-file", registry->ca_file().string(), "-u", user, "--password-stdin"},
                   "wrong-password-123\n", isolated_env(home));
    EXPECT_EQ(push.exit_code, 5) << push.err;
    EXPECT_NE(push.err.find("refused the user name and password of ci-bot"), std::string::npos) << push.err;
    expect_no_secret(push, "wrong-password-123");
}

TEST(Auth, AnonymousPullOfAPrivateRegistrySaysToLogIn) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    auto pull = run_karmor({"oci", "pull", "-i", registry->address() + "/team/policies:v1", "-o",
                            (home / "out").string(), "--ca-file", registry->ca_file().string()},
                           {}, isolated_env(home));
    EXPECT_EQ(pull.exit_code, 5) << pull.err;
    EXPECT_NE(pull.err.find("requires authentication"), std::string::npos) << pull.err;
    EXPECT_NE(pull.err.find("karmor oci login " + registry->address()), std::string::npos) << pull.err;
}

TEST(Auth, LoginChecksStoresWith0600ThenPushPullAndLogoutWork) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    const auto env = isolated_env(home);
    const auto ca = registry->ca_file().string();
    const auto config = home / "docker" / "config.json";
    write_text(config, R"({"auths":{"other.example.com":{"auth":"eDp5"}},"currentContext":"default"})");

    auto refused = run_karmor({"oci", "login", registry->address(), "-u", user, "--password-stdin", "--ca-file", ca},
                              "not-the-password\n", env);
    EXPECT_EQ(refused.exit_code, 5) << refused.err;
    EXPECT_EQ(read_text(config).find(registry->address()), std::string::npos) << "refused credentials were stored";

    auto login = run_karmor({"oci", "login", registry->address(), "-u", user, "--password-stdin", "--ca-file", ca},
                            std::string(password) + "\n", env);
    ASSERT_EQ(login.exit_code, 0) << login.err;
    expect_no_secret(login, password);
    struct stat st {};
    ASSERT_EQ(stat(config.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto stored = read_text(config);
    EXPECT_NE(stored.find("other.example.com"), std::string::npos);
    EXPECT_NE(stored.find("currentContext"), std::string::npos);

    const auto image = registry->address() + "/from-login:v1";
    auto push = run_karmor({"oci", "push", "-i", image, "-p", examples.string(), "--ca-file", ca}, {}, env);
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-", "--ca-file", ca}, {}, env);
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_NE(pull.out.find("block-shell"), std::string::npos);

    auto logout = run_karmor({"oci", "logout", registry->address()}, {}, env);
    ASSERT_EQ(logout.exit_code, 0) << logout.err;
    EXPECT_NE(logout.err.find("Removed"), std::string::npos);
    EXPECT_EQ(read_text(config).find(registry->address()), std::string::npos);
    EXPECT_NE(read_text(config).find("other.example.com"), std::string::npos);
    auto after = run_karmor({"oci", "pull", "-i", image, "-o", "-", "--ca-file", ca}, {}, env);
    EXPECT_EQ(after.exit_code, 5) << after.err;
}

TEST(Auth, CredentialsFromAHelperLoginPushPull) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    write_credential_helper(home / "bin", home / "keychain");
    auto env = isolated_env(home);
    env["PATH"] = (home / "bin").string() + ":/usr/bin:/bin";
    const auto config = home / "docker" / "config.json";
    write_config_with_helper(config, registry->address());
    const auto ca = registry->ca_file().string();

    auto login = run_karmor({"oci", "login", registry->address(), "-u", user, "--password-stdin", "--ca-file", ca},
                            std::string(password) + "\n", env);
    ASSERT_EQ(login.exit_code, 0) << login.err;
    EXPECT_NE(login.err.find("docker-credential-test"), std::string::npos) << login.err;
    EXPECT_EQ(read_text(config).find(password), std::string::npos) << "the helper, not the file, holds the secret";
    EXPECT_EQ(read_text(home / "keychain" / "argv.log").find(password), std::string::npos);

    const auto image = registry->address() + "/from-helper:v1";
    auto push = run_karmor({"oci", "push", "-v", "-i", image, "-p", examples.string(), "--ca-file", ca}, {}, env);
    ASSERT_EQ(push.exit_code, 0) << push.err;
    expect_no_secret(push, password);
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-", "--ca-file", ca}, {}, env);
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
}

// Credentials are looked up when a registry asks (issue 11): the missing helper is named in
// a warning, and the refusal is the registry's.
TEST(Auth, MissingHelperIsNamed) {
    TempDir home;
    auto env = isolated_env(home);
    env["PATH"] = "/usr/bin:/bin";
    write_text(home / "docker" / "config.json", R"({"credsStore":"karmor-missing"})");
    testing::HttpServer asks([](const testing::ServedRequest&) -> testing::ServedResponse {
        return {401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
    });
    auto pull = run_karmor(
        {"oci", "pull", "--plain-http", "-i", "127.0.0.1:" + std::to_string(asks.port()) + "/x:v1", "-o", "-"}, {},
        env);
    EXPECT_EQ(pull.exit_code, 5) << pull.err;
    EXPECT_NE(pull.err.find("docker-credential-karmor-missing not found on PATH"), std::string::npos) << pull.err;
}

// docker-registry with `auth.token` and the test suite's token service.
TEST(TokenAuth, PushPullLoginAndEveryFailureHasItsOwnError) {
    testing::TokenService tokens(user, password);
    testing::RegistryConfig config;
    config.extra_config = tokens.registry_config();
    KARMOR_START_REGISTRY(registry, config);
    TempDir home;
    const auto env = isolated_env(home);
    const auto image = registry->address() + "/team/tokened:v1";
    const std::string password_line = std::string(password) + "\n";

    auto push = run_karmor({"oci", "push", "-v", "-i", image, "-p", examples.string(), "-u", user, "--password-stdin"},
                           password_line, env);
    ASSERT_EQ(push.exit_code, 0) << push.err;
    expect_no_secret(push, password);
    ASSERT_FALSE(tokens.issued().empty());
    for (const auto& token : tokens.issued()) expect_no_secret(push, token.substr(token.rfind('.') + 1));
    EXPECT_NE(push.err.find("scope=repository%3Ateam%2Ftokened%3Apull%2Cpush"), std::string::npos) << push.err;
    EXPECT_LE(tokens.requests().size(), 2u) << "tokens are cached for the run";

    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-", "-u", user, "--password-stdin"}, password_line, env);
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_NE(pull.out.find("block-shell"), std::string::npos);

    auto anonymous = run_karmor({"oci", "pull", "-i", image, "-o", "-"}, {}, env);
    EXPECT_EQ(anonymous.exit_code, 5) << anonymous.err;
    EXPECT_NE(anonymous.err.find("anonymous pull access to " + registry->address() + "/team/tokened is not allowed"),
              std::string::npos)
        << anonymous.err;
    EXPECT_NE(anonymous.err.find("karmor oci login"), std::string::npos);

    auto wrong =
        run_karmor({"oci", "pull", "-i", image, "-o", "-", "-u", user, "--password-stdin"}, "nope-pass\n", env);
    EXPECT_EQ(wrong.exit_code, 5) << wrong.err;
    EXPECT_NE(wrong.err.find("refused the user name and password of ci-bot"), std::string::npos) << wrong.err;
    expect_no_secret(wrong, "nope-pass");

    auto login = run_karmor({"oci", "login", registry->address(), "-u", user, "--password-stdin"}, password_line, env);
    ASSERT_EQ(login.exit_code, 0) << login.err;
    auto from_login = run_karmor({"oci", "pull", "-i", image, "-o", "-"}, {}, env);
    ASSERT_EQ(from_login.exit_code, 0) << from_login.err;

    tokens.issue_expired_tokens(true);
    auto expired = run_karmor({"oci", "pull", "-i", image, "-o", "-"}, {}, env);
    EXPECT_EQ(expired.exit_code, 5) << expired.err;
    EXPECT_NE(expired.err.find("expired or invalid"), std::string::npos) << expired.err;
}

// SPEC §7: Authorization never follows a redirect to another host. The "registry" here asks
// for Basic credentials and redirects blob GETs to "storage" (localhost: another origin), which
// redirects to the real registry.
TEST(Redirects, BlobRedirectToAnotherHostCarriesNoAuthorization) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string bytes = "redirected blob bytes";
    Descriptor blob;
    blob.media_type = "application/octet-stream";
    blob.digest = Digest::sha256_of(bytes);
    blob.size = static_cast<std::int64_t>(bytes.size());
    auto transport = oci::make_curl_transport({});
    oci::ClientOptions direct_options;
    direct_options.plain_http = true;
    direct_options.push_access = true;
    oci::RegistryClient direct(*Reference::parse(registry->address() + "/repo:v1"), direct_options, *transport);
    ASSERT_TRUE(direct.upload_blob(blob, bytes));

    std::atomic<int> front_port{0};
    testing::HttpServer front([&](const testing::ServedRequest& r) -> testing::ServedResponse {
        if (r.target.rfind("/storage/", 0) == 0)
            return {307, {{"Location", "http://" + registry->address() + r.target.substr(8)}}, ""};
        if (r.header("authorization").empty()) return {401, {{"WWW-Authenticate", R"(Basic realm="front")"}}, ""};
        return {307, {{"Location", "http://localhost:" + std::to_string(front_port) + "/storage" + r.target}}, ""};
    });
    front_port = front.port();
    oci::ClientOptions options;
    options.plain_http = true;
    options.credentials = {"u", "front-secret", ""};
    oci::RegistryClient client(*Reference::parse("127.0.0.1:" + std::to_string(front.port()) + "/repo:v1"), options,
                               *transport);
    auto fetched = client.fetch_blob(blob, 1 << 20);
    ASSERT_TRUE(fetched) << fetched.error().message;
    EXPECT_EQ(*fetched, bytes);
    const auto seen = front.requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_FALSE(seen[1].header("authorization").empty()) << "the registry itself gets the credentials";
    EXPECT_EQ(seen[2].target.rfind("/storage/", 0), 0u);
    EXPECT_EQ(seen[2].header("authorization"), "") << "credentials followed the redirect to another host";

    testing::HttpServer loop([](const testing::ServedRequest& r) -> testing::ServedResponse {
        return {307, {{"Location", r.target}}, ""};
    });
    oci::ClientOptions loop_options;
    loop_options.plain_http = true;
    oci::RegistryClient looping(*Reference::parse("127.0.0.1:" + std::to_string(loop.port()) + "/repo:v1"),
                                loop_options, *transport);
    auto endless = looping.fetch_blob(blob, 1 << 20);
    ASSERT_FALSE(endless);
    EXPECT_NE(endless.error().message.find("redirects"), std::string::npos) << endless.error().message;
    EXPECT_LE(loop.requests().size(), 4u * 6u) << "redirects are bounded";
}

}  // namespace
}  // namespace karmor
