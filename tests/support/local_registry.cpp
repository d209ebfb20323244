#include "support/local_registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace karmor::testing {
namespace {

bool run_ok(const std::vector<std::string>& argv, std::string& error) {
    const auto r = run_command(argv);
    if (r.exit_code != 0) {
        error = argv[0] + " failed: " + r.err;
        return false;
    }
    return true;
}

}  // namespace

bool make_test_certificates(const std::filesystem::path& dir, std::string& error) {
    const auto p = [&](const char* name) { return (dir / name).string(); };
    write_text(dir / "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
    return run_ok({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", p("ca-key.pem"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=karmor test CA"},
                  error) &&
           run_ok({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                   p("server-key.pem"), "-out", p("server.csr"), "-subj", "/CN=localhost"},
                  error) &&
           run_ok({"openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca-key.pem"),
                   "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("server.ext")},
                  error);
}

std::unique_ptr<LocalRegistry> LocalRegistry::start(const RegistryConfig& config, std::string& error) {
    std::unique_ptr<LocalRegistry> registry(new LocalRegistry());
    const auto& dir = registry->dir_.path();
    std::ostringstream yaml;
    yaml << "version: 0.1\n"
         << "log:\n  level: info\n  accesslog:\n    disabled: false\n"
         << "storage:\n  filesystem:\n    rootdirectory: " << (dir / "data").string() << "\n"
         << "  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n"
         << "http:\n  addr: 127.0.0.1:0\n  secret: karmor-test-secret\n";
    if (config.tls) {
        if (!make_test_certificates(dir, error)) return nullptr;
        yaml << "  tls:\n    certificate: " << (dir / "server.pem").string()
             << "\n    key: " << (dir / "server-key.pem").string() << "\n";
    }
    if (!config.user.empty()) {
        const auto r = run_command({"htpasswd", "-Bbn", config.user, config.password});
        if (r.exit_code != 0) {
            error = "htpasswd failed (install apache2-utils): " + r.err;
            return nullptr;
        }
        write_text(dir / "htpasswd", r.out);
        yaml << "auth:\n  htpasswd:\n    realm: karmor-test\n    path: " << (dir / "htpasswd").string() << "\n";
    }
    if (!config.proxy_remote_url.empty()) yaml << "proxy:\n  remoteurl: " << config.proxy_remote_url << "\n";
    yaml << config.extra_config;
    write_text(dir / "config.yml", yaml.str());

    const auto log_path = dir / "registry.log";
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::string program = "docker-registry", serve = "serve", config_path = (dir / "config.yml").string();
    char* argv[] = {program.data(), serve.data(), config_path.data(), nullptr};
    const int rc = posix_spawnp(&registry->pid_, "docker-registry", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(log_fd);
    if (rc != 0) {
        registry->pid_ = -1;
        error = "cannot run docker-registry (install it with scripts/setup.sh)";
        return nullptr;
    }

    static const std::regex listening(R"(listening on 127\.0\.0\.1:([0-9]+))");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch match;
        const auto log = registry->log();
        if (std::regex_search(log, match, listening)) {
            registry->port_ = std::stoi(match[1].str());
            return registry;
        }
        int status = 0;
        if (waitpid(registry->pid_, &status, WNOHANG) == registry->pid_) {
            registry->pid_ = -1;
            error = "docker-registry exited: " + log;
            return nullptr;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    error = "docker-registry did not report its port within 15 s: " + registry->log();
    return nullptr;
}

LocalRegistry::~LocalRegistry() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

std::string LocalRegistry::log() const {
    return read_text(dir_.path() / "registry.log");
}

std::vector<std::string> LocalRegistry::requests() const {
    static const std::regex request(R"re("(GET|HEAD|POST|PUT|PATCH|DELETE) (/v2/[^ ]*) HTTP)re");
    std::vector<std::string> out;
    std::istringstream lines(log());
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch match;
        if (std::regex_search(line, match, request)) out.push_back(match[1].str() + " " + match[2].str());
    }
    return out;
}

std::size_t LocalRegistry::count_requests(const std::string& prefix) const {
    const auto all = requests();
    return static_cast<std::size_t>(
        std::count_if(all.begin(), all.end(), [&](const std::string& r) { return r.rfind(prefix, 0) == 0; }));
}

}  // namespace karmor::testing
