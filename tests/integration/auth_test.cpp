// The binary against real registries that need authentication (SPEC §7): docker-registry
// with TLS from a private CA and htpasswd users, credentials from `login`, from a
// docker-credential helper, and the errors a wrong password, an unknown CA, a missing helper
// and an anonymous request give. Nothing may print a secret, -v included.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::read_text;
using testing::run_karmor;
using testing::TempDir;
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
    for (const auto& request : registry->requests())
        ADD_FAILURE() << "a request reached the registry: " << request;
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

// A docker-credential-test helper that keeps credentials in a directory, as a keychain would.
void write_helper(const std::filesystem::path& bin, const std::filesystem::path& store) {
    const auto script = bin / "docker-credential-test";
    write_text(script, "#!/bin/sh\nSTORE='" + store.string() + "'\n" + R"sh(mkdir -p "$STORE"
echo "$@" >> "$STORE/argv.log"
case "$1" in
  get) read url; f="$STORE/$(echo "$url" | tr '/:' '__')"
       if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) doc=$(cat); url=$(echo "$doc" | sed 's/.*"ServerURL":"\([^"]*\)".*/\1/')
       echo "$doc" > "$STORE/$(echo "$url" | tr '/:' '__')" ;;
  erase) read url; rm -f "$STORE/$(echo "$url" | tr '/:' '__')" ;;
esac
)sh");
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
}

TEST(Auth, CredentialsFromAHelperLoginPushPull) {
    KARMOR_START_REGISTRY(registry, tls_with_user());
    TempDir home;
    write_helper(home / "bin", home / "keychain");
    auto env = isolated_env(home);
    env["PATH"] = (home / "bin").string() + ":/usr/bin:/bin";
    const auto config = home / "docker" / "config.json";
    write_text(config, R"({"credHelpers":{")" + registry->address() + R"(":"test"}})");
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

TEST(Auth, MissingHelperIsNamed) {
    TempDir home;
    auto env = isolated_env(home);
    env["PATH"] = "/usr/bin:/bin";
    write_text(home / "docker" / "config.json", R"({"credsStore":"karmor-missing"})");
    auto pull = run_karmor({"oci", "pull", "-i", "127.0.0.1:1/x:v1", "-o", "-"}, {}, env);
    EXPECT_EQ(pull.exit_code, 5) << pull.err;
    EXPECT_NE(pull.err.find("docker-credential-karmor-missing not found on PATH"), std::string::npos) << pull.err;
}

} // namespace
} // namespace karmor
