#include "support/kubearmor_daemon.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "support/local_registry.hpp"

extern char** environ;

namespace karmor::testing {
namespace {

const char* const python = "/usr/bin/python3";

bool run_ok(const std::vector<std::string>& argv, std::string& error) {
    const auto result = run_command(argv);
    if (result.exit_code == 0) return true;
    error = argv[0] + " failed: " + result.err;
    return false;
}

}  // namespace

bool grpc_python_available() {
    return run_command({python, "-c", "import grpc"}).exit_code == 0;
}

bool make_mutual_tls_certificates(const std::filesystem::path& dir, std::string& error) {
    if (!make_test_certificates(dir, error)) return false;
    const auto p = [&](const char* name) { return (dir / name).string(); };
    write_text(dir / "client.ext",
               "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n");
    return run_ok({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                   p("client-key.pem"), "-out", p("client.csr"), "-subj", "/CN=karmor test client"},
                  error) &&
           run_ok({"openssl", "x509", "-req", "-in", p("client.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca-key.pem"),
                   "-CAcreateserial", "-out", p("client.pem"), "-days", "2", "-extfile", p("client.ext")},
                  error);
}

std::unique_ptr<FakeKubeArmorDaemon> FakeKubeArmorDaemon::start(const DaemonConfig& config, std::string& error) {
    std::unique_ptr<FakeKubeArmorDaemon> daemon(new FakeKubeArmorDaemon());
    const auto& dir = daemon->dir_.path();
    const auto out_path = dir / "stdout.log";
    const auto err_path = dir / "stderr.log";
    write_text(dir / "requests.jsonl", "");
    const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> args = {python,     std::string(KARMOR_SOURCE_DIR) + "/tests/support/kubearmor_daemon.py",
                                     "--record", (dir / "requests.jsonl").string(),
                                     "--config", (dir / "answers.json").string()};
    if (!config.tls_cert.empty()) {
        args.insert(args.end(), {"--tls-cert", config.tls_cert.string(), "--tls-key", config.tls_key.string()});
        if (!config.client_ca.empty()) args.insert(args.end(), {"--client-ca", config.client_ca.string()});
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&daemon->pid_, python, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_fd);
    close(err_fd);
    if (rc != 0) {
        daemon->pid_ = -1;
        error = std::string("cannot run ") + python;
        return nullptr;
    }
    const auto started = wait_for_listening_port(daemon->pid_, out_path);
    if (started.port) {
        daemon->port_ = *started.port;
        return daemon;
    }
    if (started.exited) {
        daemon->pid_ = -1;
        error = std::string("the test daemon exited: ") + started.printed + daemon->log();
        return nullptr;
    }
    error = std::string("the test daemon did not print its port within 15 s: ") + daemon->log();
    return nullptr;
}

FakeKubeArmorDaemon::~FakeKubeArmorDaemon() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

std::vector<DaemonRequest> FakeKubeArmorDaemon::requests() const {
    std::vector<DaemonRequest> out;
    std::istringstream lines(read_text(dir_.path() / "requests.jsonl"));
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        const auto json = nlohmann::json::parse(line);
        out.push_back({json.at("rpc").get<std::string>(), json.at("payload").get<std::string>()});
    }
    return out;
}

void FakeKubeArmorDaemon::clear_requests() const {
    write_text(dir_.path() / "requests.jsonl", "");
}

void FakeKubeArmorDaemon::configure(const nlohmann::json& answers) const {
    write_text(dir_.path() / "answers.json", answers.dump());
}

std::string FakeKubeArmorDaemon::log() const {
    return read_text(dir_.path() / "stderr.log");
}

}  // namespace karmor::testing
