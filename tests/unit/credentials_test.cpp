// Docker config parsing, registry key matching, the helper protocol (with a helper script
// written by the test) and atomic, 0600 writes that keep unknown keys.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "auth/credential_helper.hpp"
#include "karmor/credentials.hpp"
#include "support/docker_config.hpp"
#include "support/process.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::TempDir;
using testing::write_config_with_helper;
using testing::write_credential_helper;
using testing::write_text;

// PATH for the duration of a test: the helper is looked up there.
class ScopedPath {
public:
    explicit ScopedPath(const std::string& value) {
        if (const char* old = std::getenv("PATH")) old_ = old;
        setenv("PATH", value.c_str(), 1);
    }
    ~ScopedPath() { setenv("PATH", old_.c_str(), 1); }
    ScopedPath(const ScopedPath&) = delete;
    ScopedPath& operator=(const ScopedPath&) = delete;

private:
    std::string old_;
};

TEST(Credentials, RegistryNamesAreNormalized) {
    EXPECT_EQ(normalize_registry("https://index.docker.io/v1/"), "docker.io");
    EXPECT_EQ(normalize_registry("registry-1.docker.io"), "docker.io");
    EXPECT_EQ(normalize_registry("http://localhost:5000"), "localhost:5000");
    EXPECT_EQ(normalize_registry("Registry.Example.com/some/path"), "registry.example.com");
}

TEST(Credentials, AuthsEntriesInEveryForm) {
    TempDir dir;
    const auto config = (dir / "config.json").string();
    write_text(config, R"({"auths":{
        "https://index.docker.io/v1/":{"auth":"aHViOmh1Yi1wYXNzOndpdGgtY29sb24="},
        "https://reg.example.com":{"username":"u2","password":"p2"},
        "token.example.com":{"identitytoken":"refresh-me"}}})");
    auto hub = find_credentials("docker.io", config);
    ASSERT_TRUE(hub) << hub.error().message;
    EXPECT_EQ(hub->username, "hub");
    EXPECT_EQ(hub->password, "hub-pass:with-colon");
    auto plain = find_credentials("reg.example.com", config);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->username, "u2");
    EXPECT_EQ(plain->password, "p2");
    auto token = find_credentials("token.example.com", config);
    ASSERT_TRUE(token);
    EXPECT_EQ(token->identity_token, "refresh-me");
    auto none = find_credentials("other.example.com", config);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(Credentials, MissingConfigIsNoCredentialsAndBrokenConfigIsAnError) {
    TempDir dir;
    auto missing = find_credentials("reg.example.com", (dir / "absent.json").string());
    ASSERT_TRUE(missing);
    EXPECT_TRUE(missing->empty());
    write_text(dir / "broken.json", "{not json");
    auto broken = find_credentials("reg.example.com", (dir / "broken.json").string());
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().kind, ErrorKind::io);
    EXPECT_NE(broken.error().message.find("broken.json"), std::string::npos);
    write_text(dir / "badauth.json", R"({"auths":{"r.example.com":{"auth":"bm9jb2xvbg=="}}})");
    auto bad_auth = find_credentials("r.example.com", (dir / "badauth.json").string());
    ASSERT_FALSE(bad_auth);
    EXPECT_NE(bad_auth.error().message.find("USER:PASSWORD"), std::string::npos);
}

TEST(Credentials, DockerConfigEnvironmentIsTheDefaultLocation) {
    TempDir dir;
    const char* old = std::getenv("DOCKER_CONFIG");
    const std::string saved = old ? old : "";
    setenv("DOCKER_CONFIG", dir.path().c_str(), 1);
    EXPECT_EQ(docker_config_path(), dir / "config.json");
    EXPECT_EQ(docker_config_path("/x/y.json"), std::filesystem::path("/x/y.json"));
    if (old) {
        setenv("DOCKER_CONFIG", saved.c_str(), 1);
    } else {
        unsetenv("DOCKER_CONFIG");
    }
}

TEST(Credentials, StoreKeepsOtherEntriesAndUnknownKeysWithMode0600) {
    TempDir dir;
    const auto config = dir / "docker" / "config.json";
    write_text(config, R"({"auths":{"other.example.com":{"auth":"eDp5"}},"psFormat":"table {{.ID}}"})");
    auto stored = store_credentials("localhost:5000", {"me", "secret", ""}, config.string());
    ASSERT_TRUE(stored) << stored.error().message;
    EXPECT_EQ(*stored, config.string());
    const auto text = read_text(config);
    EXPECT_NE(text.find("other.example.com"), std::string::npos);
    EXPECT_NE(text.find("psFormat"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(stat(config.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto found = find_credentials("http://localhost:5000/", config.string());
    ASSERT_TRUE(found);
    EXPECT_EQ(found->username, "me");
    EXPECT_EQ(found->password, "secret");
    for (const auto& entry : std::filesystem::directory_iterator(config.parent_path()))
        EXPECT_EQ(entry.path().filename(), "config.json") << "a temporary file was left behind";

    auto erased = erase_credentials("localhost:5000", config.string());
    ASSERT_TRUE(erased);
    EXPECT_TRUE(*erased);
    auto gone = find_credentials("localhost:5000", config.string());
    ASSERT_TRUE(gone);
    EXPECT_TRUE(gone->empty());
    EXPECT_NE(read_text(config).find("other.example.com"), std::string::npos);
    auto again = erase_credentials("localhost:5000", config.string());
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
}

TEST(Credentials, HelperProtocolStoreGetEraseWithoutSecretsInArgv) {
    TempDir dir;
    write_credential_helper(dir / "bin", dir / "store");
    ScopedPath path((dir / "bin").string() + ":/usr/bin:/bin");
    const auto config = (dir / "config.json").string();
    write_config_with_helper(config, "reg.example.com");

    auto stored = store_credentials("https://reg.example.com", {"helper-user", "helper-secret", ""}, config);
    ASSERT_TRUE(stored) << stored.error().message;
    EXPECT_EQ(*stored, "docker-credential-test");
    EXPECT_EQ(read_text(config).find("helper-secret"), std::string::npos) << "the secret went to the file";

    auto found = find_credentials("reg.example.com", config);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(found->username, "helper-user");
    EXPECT_EQ(found->password, "helper-secret");

    auto other = find_credentials("nothing-stored.example.com", config);
    ASSERT_TRUE(other) << "a registry without a credHelpers entry does not use the helper";
    EXPECT_TRUE(other->empty());

    auto erased = erase_credentials("reg.example.com", config);
    ASSERT_TRUE(erased) << erased.error().message;
    EXPECT_TRUE(*erased);
    auto gone = find_credentials("reg.example.com", config);
    ASSERT_TRUE(gone) << "the helper's \"not found\" is no credentials, not an error";
    EXPECT_TRUE(gone->empty());
    const auto argv_log = read_text(dir / "store" / "argv.log");
    EXPECT_EQ(argv_log, "store\nget\nerase\nget\n");
}

TEST(Credentials, CredsStoreTokenUserIsAnIdentityToken) {
    TempDir dir;
    write_credential_helper(dir / "bin", dir / "store");
    ScopedPath path((dir / "bin").string() + ":/usr/bin:/bin");
    const auto config = (dir / "config.json").string();
    write_text(config, R"({"credsStore":"test"})");
    ASSERT_TRUE(store_credentials("docker.io", {"", "", "id-token"}, config));
    EXPECT_TRUE(std::filesystem::exists(dir / "store" / "https___index.docker.io_v1_"));
    auto found = find_credentials("index.docker.io", config);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(found->identity_token, "id-token");
    EXPECT_TRUE(found->username.empty());
}

TEST(Credentials, MissingOrFailingHelperIsAnErrorThatNamesIt) {
    TempDir dir;
    ScopedPath path((dir / "empty-bin").string());
    write_text(dir / "config.json", R"({"credsStore":"nosuch"})");
    auto missing = find_credentials("reg.example.com", (dir / "config.json").string());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::auth);
    EXPECT_EQ(missing.error().message, "docker-credential-nosuch not found on PATH");

    write_text(dir / "empty-bin" / "docker-credential-broken", "#!/bin/sh\necho 'keychain locked' >&2\nexit 3\n");
    std::filesystem::permissions(dir / "empty-bin" / "docker-credential-broken", std::filesystem::perms::owner_all);
    write_text(dir / "config.json", R"({"credsStore":"broken"})");
    auto failing = find_credentials("reg.example.com", (dir / "config.json").string());
    ASSERT_FALSE(failing);
    EXPECT_NE(failing.error().message.find("docker-credential-broken get failed for reg.example.com (exit code 3): "
                                           "keychain locked"),
              std::string::npos)
        << failing.error().message;
}

}  // namespace
}  // namespace karmor
