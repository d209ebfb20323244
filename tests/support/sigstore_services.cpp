#include "support/sigstore_services.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <regex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/encoding.hpp"
#include "util/time.hpp"

extern char** environ;

namespace karmor::testing::sigstore {
namespace {

constexpr int metrics_port = 2112;
constexpr const char* metrics_lock = "/tmp/karmor-timestamp-server-2112.lock";

std::string b64(std::string_view bytes) {
    return util::base64_encode(bytes);
}

// Runs argv with stdout and stderr into `log`, HOME and the working directory `dir`, and no other
// environment than PATH: neither server then finds a config file or a variable meant for another.
pid_t spawn_server(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                   const std::filesystem::path& log, std::string& error) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot create " + log.string();
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, 1);
    posix_spawn_file_actions_adddup2(&actions, fd, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    std::vector<std::string> args = argv;
    std::vector<char*> raw;
    for (auto& arg : args) raw.push_back(arg.data());
    raw.push_back(nullptr);
    const char* path_variable = std::getenv("PATH");
    std::string home = "HOME=" + dir.string(),
                path = std::string("PATH=") + (path_variable ? path_variable : "/usr/bin:/bin");
    char* env[] = {home.data(), path.data(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, raw.data(), env);
    posix_spawn_file_actions_destroy(&actions);
    close(fd);
    if (rc != 0) {
        error = "cannot run " + args[0] + " (build it with scripts/peers.sh)";
        return -1;
    }
    return pid;
}

void stop(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    // Both servers drain for a while on SIGTERM; a test does not wait for that.
    for (int i = 0; i < 100; ++i) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
}

// True when something accepts connections on 127.0.0.1:`port`.
bool port_in_use(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool used = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return used;
}

// A port the kernel had free a moment ago (rekor-server takes no port 0).
int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

std::string time_text(std::int64_t time) {
    return util::format_rfc3339_utc(time);
}

nlohmann::ordered_json validity(std::int64_t start, const std::optional<std::int64_t>& end) {
    nlohmann::ordered_json out = {{"start", time_text(start)}};
    if (end) out["end"] = time_text(*end);
    return out;
}

std::int64_t now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

std::unique_ptr<TimestampServer> TimestampServer::start(const std::filesystem::path& program, std::string& error) {
    std::unique_ptr<TimestampServer> server(new TimestampServer());
    server->lock_fd_ = open(metrics_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (server->lock_fd_ < 0) {
        error = std::string("cannot open ") + metrics_lock;
        return nullptr;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    while (flock(server->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            error = "another test held the timestamp-server lock (" + std::string(metrics_lock) + ") for 10 minutes";
            return nullptr;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (port_in_use(metrics_port)) {
        error = "port 2112 is in use by another program; timestamp-server v2.1.3 always serves its metrics there "
                "(it cannot be moved or turned off): stop that program and run the test again";
        return nullptr;
    }
    const auto& dir = server->dir_.path();
    const auto start_time = now() - 86400;
    server->authority_ = make_timestamp_authority(start_time, start_time + 365 * 86400);
    write_text(dir / "tsa.key", server->authority_.key.private_pem());
    write_text(dir / "chain.pem", server->authority_.leaf.pem + server->authority_.root.pem);
    const std::vector<std::string> argv = {program.string(),
                                           "serve",
                                           "--host=127.0.0.1",
                                           "--port=0",
                                           "--scheme=http",
                                           "--timestamp-signer=file",
                                           "--file-signer-key-path=" + (dir / "tsa.key").string(),
                                           "--certificate-chain-path=" + (dir / "chain.pem").string(),
                                           "--disable-ntp-monitoring",
                                           "--log-type=prod"};
    server->pid_ = spawn_server(argv, dir, dir / "server.log", error);
    if (server->pid_ < 0) return nullptr;
    static const std::regex serving(R"(Serving .* at http://127\.0\.0\.1:([0-9]+))");
    const auto started = wait_for_listening_port(server->pid_, dir / "server.log", serving, std::chrono::seconds(30));
    if (!started.port) {
        if (started.exited) server->pid_ = -1;
        error = "timestamp-server did not start: " + server->log();
        return nullptr;
    }
    server->port_ = *started.port;
    return server;
}

TimestampServer::~TimestampServer() {
    stop(pid_);
    if (lock_fd_ >= 0) close(lock_fd_);  // releases the lock
}

std::string TimestampServer::url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/timestamp";
}

std::string TimestampServer::log() const {
    return read_text(dir_.path() / "server.log");
}

std::unique_ptr<RekorV2Server> RekorV2Server::start(const std::filesystem::path& program, std::string& error) {
    // The ports are picked here (the server refuses port 0); a port taken in between is retried.
    for (int attempt = 0; attempt < 3; ++attempt) {
        std::unique_ptr<RekorV2Server> server(new RekorV2Server());
        const auto& dir = server->dir_.path();
        std::filesystem::create_directories(dir / "tiles");
        write_text(dir / "log.key", server->key_.private_pem());
        server->http_port_ = free_port();
        const int grpc_port = free_port(), metrics = free_port();
        const std::vector<std::string> argv = {program.string(),
                                               "serve",
                                               "--hostname=127.0.0.1",
                                               "--http-address=127.0.0.1",
                                               "--http-port=" + std::to_string(server->http_port_),
                                               "--grpc-address=127.0.0.1",
                                               "--grpc-port=" + std::to_string(grpc_port),
                                               "--http-metrics-port=" + std::to_string(metrics),
                                               "--storage-dir=" + (dir / "tiles").string(),
                                               "--signer-filepath=" + (dir / "log.key").string(),
                                               "--checkpoint-interval=1s",
                                               "--log-level=info"};
        server->pid_ = spawn_server(argv, dir, dir / "server.log", error);
        if (server->pid_ < 0) return nullptr;
        static const std::regex serving(R"(starting HTTP proxy.*address=127\.0\.0\.1:([0-9]+))");
        const auto started =
            wait_for_listening_port(server->pid_, dir / "server.log", serving, std::chrono::seconds(30));
        if (started.port) return server;
        if (started.exited) server->pid_ = -1;
        error = "rekor-server did not start: " + server->log();
    }
    return nullptr;
}

RekorV2Server::~RekorV2Server() {
    stop(pid_);
}

std::string RekorV2Server::url() const {
    return "http://127.0.0.1:" + std::to_string(http_port_);
}

std::string RekorV2Server::log() const {
    return read_text(dir_.path() / "server.log");
}

std::string services_trusted_root(const TimestampServer& tsa, const RekorV2Server* rekor,
                                  const ServicesRootOptions& options) {
    const auto& authority = options.other_authority ? *options.other_authority : tsa.authority();
    nlohmann::ordered_json root = nlohmann::ordered_json::object();
    root["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
    root["tlogs"] = nlohmann::ordered_json::array();
    if (rekor) {
        const EdKey& key = options.other_log_key ? *options.other_log_key : rekor->key();
        root["tlogs"].push_back({{"baseUrl", rekor->url()},
                                 {"hashAlgorithm", "SHA2_256"},
                                 {"publicKey",
                                  {{"rawBytes", b64(key.public_der())},
                                   {"keyDetails", "PKIX_ED25519"},
                                   {"validFor", validity(options.log_start.value_or(now() - 86400), options.log_end)}}},
                                 {"logId", {{"keyId", b64(key.note_key_id(rekor->host()))}}}});
    }
    root["certificateAuthorities"] = nlohmann::ordered_json::array();
    root["ctlogs"] = nlohmann::ordered_json::array();
    root["timestampAuthorities"] = nlohmann::ordered_json::array(
        {{{"subject", {{"organization", "karmor-test"}, {"commonName", "karmor-test-tsa"}}},
          {"uri", tsa.url()},
          {"certChain",
           {{"certificates", nlohmann::ordered_json::array(
                                 {{{"rawBytes", b64(authority.leaf.der)}}, {{"rawBytes", b64(authority.root.der)}}})}}},
          {"validFor", validity(options.tsa_start.value_or(now() - 86400), options.tsa_end)}}});
    return root.dump(2);
}

std::string services_signing_config(const TimestampServer& tsa, const RekorV2Server* rekor) {
    const auto start = time_text(now() - 86400);
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    config["mediaType"] = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
    if (rekor) {
        config["rekorTlogUrls"] = nlohmann::ordered_json::array({{{"url", rekor->url()},
                                                                  {"majorApiVersion", 2},
                                                                  {"validFor", {{"start", start}}},
                                                                  {"operator", "karmor-test"}}});
        config["rekorTlogConfig"] = {{"selector", "ANY"}};
    }
    config["tsaUrls"] = nlohmann::ordered_json::array(
        {{{"url", tsa.url()}, {"majorApiVersion", 1}, {"validFor", {{"start", start}}}, {"operator", "karmor-test"}}});
    config["tsaConfig"] = {{"selector", "ANY"}};
    return config.dump(2);
}

}  // namespace karmor::testing::sigstore
