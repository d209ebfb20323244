// Every example shown to users runs (issue 11, item 19): the "Examples:" of each command's
// --help, the man page's EXAMPLES, and the karmor lines of the fenced blocks in README.md and
// docs/. Host names are pointed at a local docker-registry, `@sha256:...` at a real digest;
// every line must succeed, and a line that ends in jq must not print null.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "oci/http.hpp"
#include "oci/registry_client.hpp"
#include "support/kube_api_server.hpp"
#include "support/kubearmor_daemon.hpp"
#include "support/local_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

namespace fs = std::filesystem;
const fs::path source_dir = KARMOR_SOURCE_DIR;

struct Example {
    std::string where;  // file:line, or `karmor … --help`
    std::string command;
};

// A synopsis line (karmor oci pull -i REF -o DIR [--force]) rather than a command to run.
bool is_synopsis(const std::string& line) {
    // An upper-case word that is not $VARIABLE, ${VARIABLE} or VARIABLE=.
    static const std::regex placeholder("(^|[^$A-Za-z_{])[A-Z]{3,}([^A-Za-z_}=]|$)");
    return line.find('[') != std::string::npos || line.find("|zsh|") != std::string::npos ||
           std::regex_search(line, placeholder);
}

void add_if_example(const std::string& where, std::string line, std::vector<Example>& out) {
    line.erase(0, line.find_first_not_of(' '));
    // karmor as a command: first, after a pipe, or inside $( ) or <( ).
    static const std::regex runs_karmor("(^|\\| |\\$\\(|<\\()karmor ");
    if (!std::regex_search(line, runs_karmor)) return;
    if (!is_synopsis(line)) out.push_back({where, line});
}

std::vector<Example> markdown_examples(const fs::path& file) {
    std::vector<Example> out;
    std::ifstream in(file);
    bool in_block = false;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.rfind("```", 0) == 0) {
            in_block = !in_block;
            continue;
        }
        if (in_block) add_if_example(file.filename().string() + ":" + std::to_string(number), line, out);
    }
    return out;
}

std::vector<Example> man_examples(const fs::path& file) {
    std::vector<Example> out;
    std::ifstream in(file);
    bool in_examples = false;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.rfind(".SH", 0) == 0) in_examples = line == ".SH EXAMPLES";
        if (!in_examples || line.rfind('.', 0) == 0) continue;
        for (auto at = line.find("\\-"); at != std::string::npos; at = line.find("\\-", at)) line.erase(at, 1);
        add_if_example(file.filename().string() + ":" + std::to_string(number), line, out);
    }
    return out;
}

std::vector<Example> help_examples() {
    std::vector<Example> out;
    for (const auto& command : std::vector<std::vector<std::string>>{{},
                                                                     {"oci"},
                                                                     {"oci", "push"},
                                                                     {"oci", "pull"},
                                                                     {"oci", "apply"},
                                                                     {"oci", "inspect"},
                                                                     {"oci", "login"},
                                                                     {"oci", "logout"},
                                                                     {"completion"},
                                                                     {"version"}}) {
        auto args = command;
        args.push_back("--help");
        const auto help = run_karmor(args).out;
        std::string name = "karmor";
        for (const auto& word : command) name += " " + word;
        const auto at = help.find("Examples:\n");
        if (at == std::string::npos) continue;
        std::istringstream lines(help.substr(at + 10));
        for (std::string line; std::getline(lines, line) && !line.empty();) add_if_example(name + " --help", line, out);
    }
    return out;
}

// The sandbox every example runs in: the files the examples name, an image to attach to, a
// `kubectl` that checks what `apply -f -` is given, and HOME.
struct Sandbox {
    TempDir dir;
    std::unique_ptr<testing::LocalRegistry> registry;
    // What `karmor oci apply` examples deliver to: the daemon's default address is pointed here.
    std::unique_ptr<testing::FakeKubeArmorDaemon> daemon;
    // What `apply --kube` examples apply to: a kubeconfig of the test API server, context "prod".
    std::string kubeconfig;
    std::unique_ptr<oci::HttpTransport> transport = oci::make_curl_transport({});
    std::string seed_digest;

    explicit Sandbox(std::unique_ptr<testing::LocalRegistry> started) : registry(std::move(started)) {
        const auto examples = source_dir / "examples" / "policies";
        for (const char* name : {"policies", "cart-policies"})
            fs::copy(examples, dir / name, fs::copy_options::recursive);
        fs::create_directories(dir / "extra");
        write_text(dir / "mypolicy.yaml", testing::read_text(examples / "ksp-block-shell.yaml"));
        write_text(dir / "extra" / "one.yaml",
                   "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: extra-one\n"
                   "spec:\n  selector:\n    matchLabels:\n      app: x\n  file:\n    matchPaths:\n"
                   "      - path: /etc/shadow\n  action: Block\n");
        // The key pair the sign and verify examples name (unencrypted PEM: no password needed).
        EXPECT_EQ(testing::run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                        "-out", (dir / "cosign.key").string()})
                      .exit_code,
                  0);
        EXPECT_EQ(testing::run_command({"openssl", "pkey", "-in", (dir / "cosign.key").string(), "-pubout", "-out",
                                        (dir / "cosign.pub").string()})
                      .exit_code,
                  0);
        fs::create_directories(dir / "home" / ".config" / "fish" / "completions");
        fs::create_directories(dir / "bin");
        write_text(dir / "bin" / "kubectl",
                   "#!/bin/sh\n# apply -f -: the stream must hold KubeArmor policies\n"
                   "[ \"$1 $2 $3\" = \"apply -f -\" ] && grep -q '^apiVersion: security.kubearmor.com/v1' \n");
        fs::permissions(dir / "bin" / "kubectl", fs::perms::owner_all);
        // What `--attach` examples attach to.
        oci::ClientOptions options;
        options.push_access = true;
        oci::RegistryClient cart(*Reference::parse(registry->localhost() + "/shop/cart:1.4"), options, *transport);
        testing::push_test_image(cart, "1.4", "cart");
    }

    // Example hosts are the local registry; `REPO@sha256:...` a real artifact of REPO.
    std::string localize(std::string command) {
        if (daemon)
            for (auto at = command.find("localhost:32767"); at != std::string::npos;
                 at = command.find("localhost:32767", at))
                command.replace(at, 15, daemon->address());
        for (const std::string host : {"localhost:5000", "registry.example.com"})
            for (auto at = command.find(host); at != std::string::npos; at = command.find(host, at))
                command.replace(at, host.size(), registry->localhost());
        static const std::regex by_digest("(\\S+)@sha256:(\\.\\.\\.|…)");
        std::smatch match;
        while (std::regex_search(command, match, by_digest)) {
            const std::string repo = match[1];
            auto push = run_karmor({"oci", "push", "-q", repo + ":seed", "-p", (dir / "policies").string()});
            EXPECT_EQ(push.exit_code, 0) << push.err;
            const auto digest = push.out.substr(0, push.out.find('\n'));
            command.replace(static_cast<std::size_t>(match.position(0)), static_cast<std::size_t>(match.length(0)),
                            repo + "@" + digest);
        }
        return command;
    }

    // A pull or inspect of a reference that no earlier example pushed: push the examples there.
    void seed_for(const std::string& command) {
        static const std::regex reads("karmor oci (pull|inspect|apply) (.*)");
        std::smatch match;
        if (!std::regex_search(command, match, reads)) return;
        std::istringstream words(match[2].str());
        std::string ref;
        for (std::string word; words >> word;) {
            if (word == "-i" || word == "--image") {
                words >> ref;
                break;
            }
            if (word == "-o" || word == "--output") {
                words >> word;
                continue;
            }
            if (word.front() != '-' && ref.empty()) ref = word;
        }
        if (ref.size() > 1 && ref.front() == '"') ref = ref.substr(1, ref.size() - 2);
        if (ref.empty() || ref.find('@') != std::string::npos || ref.find("shop/cart") != std::string::npos ||
            ref.find('$') != std::string::npos)
            return;
        const bool layout = command.find("--oci-layout") != std::string::npos;
        std::vector<std::string> argv{KARMOR_BINARY, "oci", "push", "-q", ref, "-p", (dir / "policies").string()};
        if (layout) {
            if (fs::exists(dir / ref.substr(0, ref.find(':')))) return;
            argv.push_back("--oci-layout");
        } else if (run_karmor({"oci", "inspect", ref}).exit_code == 0) {
            return;
        }
        auto push = run_command(argv, {}, {}, dir.path());
        EXPECT_EQ(push.exit_code, 0) << "seeding " << ref << ": " << push.err;
    }

    // Variables that examples set (DIGEST=$(karmor …)) for the examples after them.
    std::map<std::string, std::string> variables;

    testing::CommandResult run(const std::string& command) {
        const auto karmor_dir = fs::path(KARMOR_BINARY).parent_path().string();
        std::map<std::string, std::string> env = variables;
        env["PATH"] = (dir / "bin").string() + ":" + karmor_dir + ":" + std::getenv("PATH");
        env["HOME"] = (dir / "home").string();
        env["REGISTRY"] = registry->localhost();
        env["GIT_SHA"] = "0123abc";
        if (daemon) env["KUBEARMOR_SERVICE"] = daemon->address();
        if (!kubeconfig.empty()) env["KUBECONFIG"] = kubeconfig;
        static const std::regex assignment("^([A-Z_]+)=\\$\\(");
        std::smatch match;
        std::string script = "set -eo pipefail\n" + command + "\n";
        const bool assigns = std::regex_search(command, match, assignment);
        if (assigns) script += "printf '%s' \"$" + match[1].str() + "\"\n";
        auto result = run_command({"bash", "-c", script}, {}, env, dir.path());
        if (assigns) variables[match[1].str()] = result.out;
        return result;
    }
};

void run_examples(const std::vector<Example>& examples) {
    ASSERT_FALSE(examples.empty());
    KARMOR_REQUIRE_PROGRAM("jq");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    Sandbox sandbox(std::move(registry));
    KARMOR_START_DAEMON(daemon, testing::DaemonConfig{});
    sandbox.daemon = std::move(daemon);
    if (std::any_of(examples.begin(), examples.end(),
                    [](const Example& e) { return e.command.find("--kube") != std::string::npos; })) {
        KARMOR_KUBE_API_SERVER(cluster);
        write_text(sandbox.dir / "kubeconfig", cluster->admin_kubeconfig("prod"));
        sandbox.kubeconfig = (sandbox.dir / "kubeconfig").string();
    }
    for (const auto& example : examples) {
        const auto command = sandbox.localize(example.command);
        sandbox.seed_for(command);
        const auto result = sandbox.run(command);
        EXPECT_EQ(result.exit_code, 0) << example.where << ": " << example.command << "\n" << result.err;
        if (command.find("| jq") != std::string::npos) {
            EXPECT_NE(result.out, "null\n") << example.where << ": " << example.command << " printed null";
        }
    }
}

TEST(Examples, OfEveryHelpRun) {
    run_examples(help_examples());
}

TEST(Examples, OfTheManPageRun) {
    run_examples(man_examples(source_dir / "man" / "karmor-oci.1"));
}

TEST(Examples, OfTheReadmeRun) {
    run_examples(markdown_examples(source_dir / "README.md"));
}

TEST(Examples, OfTheUserGuideRun) {
    run_examples(markdown_examples(source_dir / "docs" / "user-guide.md"));
}

// The other documents: those that show commands must run too.
TEST(Examples, OfTheOtherDocsRun) {
    std::vector<Example> all;
    for (const auto& entry : fs::directory_iterator(source_dir / "docs")) {
        if (entry.path().extension() != ".md" || entry.path().filename() == "user-guide.md") continue;
        auto found = markdown_examples(entry.path());
        all.insert(all.end(), found.begin(), found.end());
    }
    if (all.empty()) return;  // no commands shown outside the user guide
    run_examples(all);
}

}  // namespace
}  // namespace karmor
