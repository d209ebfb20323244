// Issue 11: secrets never printed, credentials read only when a registry asks, proxies as Go
// tools use them, case-insensitive hosts, one load per real file, the right party named when
// a server is not a registry or a redirect's storage refuses. The real binary throughout.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "support/http_server.hpp"
#include "support/local_registry.hpp"
#include "support/process.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";

std::map<std::string, std::string> isolated_env(const TempDir& home) {
    return {{"HOME", home.path().string()}, {"DOCKER_CONFIG", (home / "docker").string()}};
}

std::string base64(const std::string& in) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = -6;
    for (unsigned char c : in) {
        value = (value << 8) + c;
        bits += 8;
        while (bits >= 0) {
            out.push_back(table[(value >> bits) & 0x3F]);
            bits -= 6;
        }
    }
    if (bits > -6) out.push_back(table[((value << 8) >> (bits + 8)) & 0x3F]);
    while (out.size() % 4) out.push_back('=');
    return out;
}

// Secrets planted wherever a registry, its storage or a user can put them; the "registry"
// here asks for Basic credentials, then redirects every request to the real registry and
// blob GETs first to "storage" with a pre-signed query (as S3-backed registries do).
TEST(Secrets, NoOutputOfAnyCommandHoldsOne) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string password = "PW-s3cret-0001";
    const std::vector<std::string> planted = {password,           base64("ci:" + password), "SIG-s3cret-0002",
                                              "AKIA-s3cret-0003", "TOK-s3cret-0004",        "UI-s3cret-0005",
                                              "LOC-s3cret-0006"};
    std::atomic<int> front_port{0};
    const std::string query = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA-s3cret-0003%2F20260101"
                              "&X-Amz-Signature=SIG-s3cret-0002&X-Amz-Security-Token=TOK-s3cret-0004&X-Amz-Expires=60";
    testing::HttpServer front([&](const testing::ServedRequest& r) -> testing::ServedResponse {
        const std::string storage = "/storage";
        if (r.target.rfind(storage, 0) == 0) {
            const auto path = r.target.substr(storage.size(), r.target.find('?') - storage.size());
            if (path.find("/denied/") != std::string::npos) return {403, {}, "AccessDenied"};
            return {307, {{"Location", "http://" + registry->address() + path}}, ""};
        }
        if (r.header("authorization").empty()) return {401, {{"WWW-Authenticate", R"(Basic realm="front")"}}, ""};
        if (r.method == "GET" && r.target.find("/blobs/sha256:") != std::string::npos)
            return {307,
                    {{"Location",
                      "http://u:LOC-s3cret-0006@localhost:" + std::to_string(front_port) + storage + r.target + query}},
                    ""};
        return {307, {{"Location", "http://" + registry->address() + r.target}}, ""};
    });
    front_port = front.port();
    TempDir home;
    const auto env = isolated_env(home);
    const auto front_ref = "127.0.0.1:" + std::to_string(front.port()) + "/team/policies:v1";
    const auto login = "-u";

    std::vector<std::pair<std::string, CommandResult>> runs;
    const auto run = [&](const std::string& name, std::vector<std::string> args, bool with_password) {
        args.insert(args.begin() + 2, "--plain-http");  // the test servers speak HTTP only
        if (with_password) {
            args.insert(args.end(), {login, "ci", "--password-stdin"});
        }
        runs.emplace_back(name, run_karmor(args, with_password ? password + "\n" : "", env));
    };
    run("push -v", {"oci", "push", "-v", "-i", front_ref, "-p", examples.string()}, true);
    ASSERT_EQ(runs.back().second.exit_code, 0) << runs.back().second.err;
    run("push json", {"oci", "push", "-v", "--output", "json", "-i", front_ref, "-p", examples.string()}, true);
    run("pull -v", {"oci", "pull", "-v", "-i", front_ref, "-o", (home / "out").string()}, true);
    ASSERT_EQ(runs.back().second.exit_code, 0) << runs.back().second.err;
    EXPECT_NE(runs.back().second.err.find("X-Amz-Signature=REDACTED"), std::string::npos)
        << "the redirect is traced, redacted: " << runs.back().second.err;
    run("pull json", {"oci", "pull", "-v", "--output", "json", "-i", front_ref, "-o", (home / "out2").string()}, true);
    run("inspect", {"oci", "inspect", "-v", "-i", front_ref}, true);
    run("inspect json", {"oci", "inspect", "-v", "--output", "json", "-i", front_ref}, true);
    run("userinfo push", {"oci", "push", "-i", "ci:UI-s3cret-0005@" + front_ref, "-p", examples.string()}, false);
    EXPECT_EQ(runs.back().second.exit_code, 2);
    EXPECT_NE(runs.back().second.err.find("user name and password"), std::string::npos) << runs.back().second.err;
    run("userinfo pull", {"oci", "pull", "-i", "ci:UI-s3cret-0005@localhost/x:v1", "-o", "-"}, false);
    run("userinfo slash", {"oci", "inspect", "-i", "ci:UI-s3cret-0005/x@localhost:5000/x:v1"}, false);
    run("userinfo scheme", {"oci", "inspect", "-i", "https://ci:UI-s3cret-0005@localhost:5000/x:v1"}, false);

    // Storage that refuses its pre-signed URL: the error quotes the URL, redacted.
    {
        auto push = run_karmor({"oci", "push", "-i", registry->address() + "/denied/p:v1", "-p", examples.string()});
        ASSERT_EQ(push.exit_code, 0) << push.err;
        const auto denied = "127.0.0.1:" + std::to_string(front.port()) + "/denied/p:v1";
        run("denied pull", {"oci", "pull", "-v", "-i", denied, "-o", (home / "out3").string()}, true);
        const auto& result = runs.back().second;
        EXPECT_EQ(result.exit_code, 6) << result.err;
        EXPECT_NE(result.err.find("localhost:" + std::to_string(front.port()) + ", where "), std::string::npos)
            << "blames the storage host: " << result.err;
        EXPECT_EQ(result.err.find("credentials have no"), std::string::npos) << result.err;
    }

    for (const auto& [name, result] : runs) {
        for (const auto& secret : planted) {
            EXPECT_EQ(result.out.find(secret), std::string::npos) << name << ": " << secret << " on stdout";
            EXPECT_EQ(result.err.find(secret), std::string::npos) << name << ": " << secret << " on stderr:\n"
                                                                  << result.err;
        }
    }
}

// An unreadable Docker config (root-owned 0600, as `sudo docker login` leaves it) or a
// credsStore naming a helper that is not installed does not stop anonymous work.
TEST(Credentials, UnreadableConfigOrMissingHelperDoesNotBlockAnonymousWork) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir home;
    const auto env = isolated_env(home);
    const auto config = home / "docker" / "config.json";
    write_text(config, R"({"auths":{}})");
    const auto image = registry->address() + "/anon/p:v1";
    if (getuid() != 0) {
        ::chmod(config.c_str(), 0);
        auto dry = run_karmor({"oci", "push", "--dry-run", "-i", image, "-p", examples.string()}, {}, env);
        EXPECT_EQ(dry.exit_code, 0) << dry.err;
        auto push = run_karmor({"oci", "push", "-i", image, "-p", examples.string()}, {}, env);
        EXPECT_EQ(push.exit_code, 0) << push.err;
        auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-"}, {}, env);
        EXPECT_EQ(pull.exit_code, 0) << pull.err;
        ::chmod(config.c_str(), 0600);
    }
    write_text(config, R"({"credsStore":"karmor-test-missing-helper"})");
    auto push = run_karmor({"oci", "push", "-i", image, "-p", examples.string()}, {}, env);
    EXPECT_EQ(push.exit_code, 0) << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", image, "-o", "-"}, {}, env);
    EXPECT_EQ(pull.exit_code, 0) << pull.err;

    // A registry that asks: the problem is a warning, once, and the 401 the error.
    testing::HttpServer asks([](const testing::ServedRequest&) -> testing::ServedResponse {
        return {401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
    });
    auto refused = run_karmor(
        {"oci", "pull", "--plain-http", "-i", "127.0.0.1:" + std::to_string(asks.port()) + "/x:v1", "-o", "-"}, {},
        env);
    EXPECT_EQ(refused.exit_code, 5) << refused.err;
    const auto warning = refused.err.find("Warning: cannot read the credentials");
    EXPECT_NE(warning, std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find("Warning: cannot read the credentials", warning + 1), std::string::npos)
        << "warned once: " << refused.err;
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

// Debian's tinyproxy on loopback, logging every request it relays.
class Tinyproxy {
public:
    Tinyproxy() : port_(free_port()) {
        write_text(dir_ / "tinyproxy.conf", "Port " + std::to_string(port_) +
                                                "\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 5\nLogLevel Info\n"
                                                "LogFile \"" +
                                                (dir_ / "log").string() + "\"\nMaxClients 10\n");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("tinyproxy", "tinyproxy", "-d", "-c", (dir_ / "tinyproxy.conf").c_str(), nullptr);
            ::_exit(127);
        }
        for (int i = 0; i < 100 && testing::read_text(dir_ / "log").find("Accepting connections") == std::string::npos;
             ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ~Tinyproxy() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string log() const { return testing::read_text(dir_ / "log"); }

private:
    TempDir dir_;
    int port_;
    pid_t pid_ = -1;
};

TEST(Proxy, GoProxyVariablesAreHonouredAndLoopbackIsNeverProxied) {
    KARMOR_REQUIRE_PROGRAM("tinyproxy");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    Tinyproxy proxy;
    TempDir home;
    auto env = isolated_env(home);
    // A proxy that is not there: loopback registries do not notice it.
    const auto dead = "http://127.0.0.1:" + std::to_string(free_port());
    for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"}) env[name] = dead;
    for (const auto& host : {registry->address(), registry->localhost()}) {
        auto push = run_karmor({"oci", "push", "-i", host + "/p:v1", "-p", examples.string()}, {}, env);
        EXPECT_EQ(push.exit_code, 0) << host << ": " << push.err;
    }

    // Another host goes through the proxy of its scheme, uppercase HTTP_PROXY included, and
    // a failure names the proxy.
    env = isolated_env(home);
    env["HTTP_PROXY"] = proxy.url();
    auto through = run_karmor({"oci", "pull", "--plain-http", "-i", "registry.invalid:5000/p:v1", "-o", "-"}, {}, env);
    EXPECT_NE(through.exit_code, 0);
    EXPECT_NE(proxy.log().find("registry.invalid"), std::string::npos) << "the proxy relayed it: " << proxy.log();
    EXPECT_NE(through.err.find(proxy.url()), std::string::npos) << through.err;

    env = isolated_env(home);
    env["HTTPS_PROXY"] = dead;
    auto named = run_karmor({"oci", "pull", "-i", "registry.invalid:5000/p:v1", "-o", "-"}, {}, env);
    EXPECT_EQ(named.exit_code, 6) << named.err;
    EXPECT_NE(named.err.find("through the proxy " + dead + " (HTTPS_PROXY)"), std::string::npos) << named.err;
    EXPECT_NE(named.err.find("NO_PROXY"), std::string::npos) << named.err;

    // NO_PROXY takes a host out: the direct connection then fails on its own terms.
    env["NO_PROXY"] = "example.com,.invalid";
    auto excluded = run_karmor({"oci", "pull", "-i", "registry.invalid:5000/p:v1", "-o", "-"}, {}, env);
    EXPECT_EQ(excluded.err.find("through the proxy"), std::string::npos) << excluded.err;
}

TEST(Hosts, HostNamesAreCaseInsensitive) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const auto upper = "LOCALHOST:" + std::to_string(registry->port()) + "/case/p:v1";
    auto push = run_karmor({"oci", "push", "-i", upper, "-p", examples.string()});
    ASSERT_EQ(push.exit_code, 0) << "LOCALHOST is loopback: plain HTTP is allowed: " << push.err;
    auto pull = run_karmor({"oci", "pull", "-i", registry->localhost() + "/case/p:v1", "-o", "-"});
    EXPECT_EQ(pull.exit_code, 0) << pull.err;
}

TEST(Inputs, TheSameFileGivenTwiceIsLoadedOnce) {
    TempDir work;
    std::filesystem::copy(examples, work / "p");
    std::filesystem::create_symlink(work / "p" / "ksp-block-shell.yaml", work / "link.yaml");
    auto dry = run_karmor({"oci", "push", "--dry-run", "-i", "localhost:5000/x:v1", "-p", (work / "p").string(), "-p",
                           (work / "p" / "ksp-block-shell.yaml").string(), "-p",
                           (work / "p/./ksp-block-shell.yaml").string(), "-p", (work / "link.yaml").string()});
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_NE(dry.err.find("would push 4 policies"), std::string::npos) << dry.err;
}

// A web server that is not a registry, and --plain-http against a TLS port.
TEST(NotARegistry, PlainWebServerAndTlsPortAreNamed) {
    testing::HttpServer web([](const testing::ServedRequest& r) -> testing::ServedResponse {
        if (r.method != "GET" && r.method != "HEAD") return {501, {}, "Unsupported method"};
        return {404, {}, "<html>File not found</html>"};
    });
    const auto ref = "127.0.0.1:" + std::to_string(web.port()) + "/x:v1";
    auto push = run_karmor({"oci", "push", "--plain-http", "-i", ref, "-p", examples.string()});
    EXPECT_EQ(push.exit_code, 6) << push.err;
    EXPECT_NE(push.err.find("not an OCI registry (GET /v2/ answered 404)"), std::string::npos) << push.err;
    auto pull = run_karmor({"oci", "pull", "--plain-http", "-i", ref, "-o", "-"});
    EXPECT_EQ(pull.exit_code, 6) << pull.err;
    EXPECT_NE(pull.err.find("not an OCI registry (GET /v2/ answered 404)"), std::string::npos) << pull.err;

    testing::RegistryConfig tls;
    tls.tls = true;
    KARMOR_START_REGISTRY(registry, tls);
    auto plain = run_karmor({"oci", "pull", "--plain-http", "-i", registry->address() + "/x:v1", "-o", "-"});
    EXPECT_EQ(plain.exit_code, 6) << plain.err;
    EXPECT_NE(plain.err.find("this port speaks TLS: drop --plain-http"), std::string::npos) << plain.err;
}

// Nothing listens: one attempt, at once, not four with backoff.
TEST(Transport, RefusedLoopbackConnectionIsNotRetried) {
    const auto ref = "127.0.0.1:" + std::to_string(free_port()) + "/x:v1";
    const auto start = std::chrono::steady_clock::now();
    auto pull = run_karmor({"oci", "pull", "-i", ref, "-o", "-"});
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(pull.exit_code, 6) << pull.err;
    EXPECT_EQ(pull.err.find("attempts"), std::string::npos) << pull.err;
    EXPECT_LT(elapsed, 1000);
}

// A server that takes the connection and never answers: --timeout ends it, naming it.
TEST(Transport, TimeoutEndsAHungServer) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(fd, 16), 0);  // never accepted: the kernel completes the handshake
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    const auto host = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    const auto start = std::chrono::steady_clock::now();
    auto pull = run_command({"timeout", "-s", "KILL", "30", KARMOR_BINARY, "oci", "pull", "--timeout", "1s", "-i",
                             host + "/x:v1", "-o", "-"});
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    ::close(fd);
    EXPECT_EQ(pull.exit_code, 6) << pull.err;
    EXPECT_NE(pull.err.find(host), std::string::npos) << pull.err;
    EXPECT_NE(pull.err.find("--timeout"), std::string::npos) << pull.err;
    EXPECT_LT(elapsed, 3000);
    auto bad = run_karmor({"oci", "pull", "--timeout", "soon", "-i", host + "/x:v1", "-o", "-"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

// A garbage manifest on a tag is named REPO:TAG, the way the user wrote it.
TEST(Notation, GarbageManifestOnATagIsNamedWithTheTag) {
    testing::HttpServer garbage([](const testing::ServedRequest& r) -> testing::ServedResponse {
        if (r.target == "/v2/") return {200, {}, "{}"};
        return {200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, "not json at all"};
    });
    const auto ref = "127.0.0.1:" + std::to_string(garbage.port()) + "/x:v1";
    auto pull = run_karmor({"oci", "pull", "--plain-http", "-i", ref, "-o", "-"});
    EXPECT_NE(pull.exit_code, 0);
    EXPECT_NE(pull.err.find(ref), std::string::npos) << pull.err;
    EXPECT_EQ(pull.err.find("/x@v1"), std::string::npos) << pull.err;
}

}  // namespace
}  // namespace karmor
