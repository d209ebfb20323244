// Issue 18, goal 1: the quick commands load no shared library they do not use; commands that
// reach a registry open libcurl when they need it. The property is asserted here (which
// objects the dynamic loader maps); the timings are bench/startup.sh's.
#include <gtest/gtest.h>

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::run_karmor;

const std::string examples = std::string(KARMOR_SOURCE_DIR) + "/examples/policies";

struct LoadedRun {
    testing::CommandResult result;
    std::vector<std::string> objects;  // file names the dynamic loader mapped, e.g. "libc.so.6"
};

// Runs karmor with LD_DEBUG=files: the loader reports every object it maps, whether it is
// linked or opened later with dlopen, as "file=NAME [N];  generating link map" on stderr.
LoadedRun run_and_list_objects(const std::vector<std::string>& args) {
    LoadedRun run{run_karmor(args, {}, {{"LD_DEBUG", "files"}}), {}};
    std::istringstream lines(run.result.err);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find("generating link map") == std::string::npos) continue;
        const auto start = line.find("file=");
        if (start == std::string::npos) continue;
        const auto name = line.substr(start + 5, line.find(' ', start) - start - 5);
        run.objects.push_back(name.substr(name.rfind('/') + 1));
    }
    return run;
}

bool loaded(const LoadedRun& run, const std::string& prefix) {
    return std::any_of(run.objects.begin(), run.objects.end(),
                       [&](const std::string& name) { return name.rfind(prefix, 0) == 0; });
}

std::string listing(const LoadedRun& run) {
    std::string out;
    for (const auto& name : run.objects) out += name + " ";
    return out;
}

// The HTTP stack and what it pulls in, libarchive's compressors and parsers, libsodium.
const std::vector<std::string> http_stack = {"libcurl", "libkarmor-curl", "libnghttp2", "libssh2",
                                             "librtmp", "libldap",        "libgssapi",  "libgnutls",
                                             "libpsl",  "libidn2",        "libssl"};

// The libcurl a registry command opens: karmor's own (scripts/libcurl.sh) when the build put it
// beside the binary, else the system's.
std::string expected_libcurl() {
    return std::filesystem::exists(std::filesystem::path(KARMOR_BINARY).parent_path() / "libkarmor-curl.so")
               ? "libkarmor-curl.so"
               : "libcurl.so.4";
}
const std::vector<std::string> archive_stack = {"libarchive", "libxml2", "libicu", "liblzma",
                                                "libzstd",    "libbz2",  "libacl", "libnettle"};

TEST(Startup, QuickCommandsLoadNeitherTheHttpStackNorLibarchiveNorLibsodium) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"version"}, {"--help"}, {"completion", "bash"}, {"oci", "push", "--help"}}) {
        const auto run = run_and_list_objects(args);
        ASSERT_EQ(run.result.exit_code, 0) << args[0] << ": " << run.result.err.substr(0, 2000);
        ASSERT_FALSE(run.objects.empty()) << "LD_DEBUG=files reported nothing for " << args[0];
        ASSERT_TRUE(loaded(run, "libc.so")) << listing(run);
#if KARMOR_STATIC_CXX_RUNTIME
        // The C++ runtime is part of the executable (top-level CMakeLists.txt).
        EXPECT_FALSE(loaded(run, "libstdc++")) << args[0] << ": " << listing(run);
        EXPECT_FALSE(loaded(run, "libgcc_s")) << args[0] << ": " << listing(run);
#else
        EXPECT_TRUE(loaded(run, "libstdc++")) << listing(run);
#endif
        for (const auto& library : http_stack)
            EXPECT_FALSE(loaded(run, library)) << args[0] << " loads " << library << ": " << listing(run);
        for (const auto& library : archive_stack)
            EXPECT_FALSE(loaded(run, library)) << args[0] << " loads " << library << ": " << listing(run);
        EXPECT_FALSE(loaded(run, "libsodium")) << args[0] << ": " << listing(run);
#if KARMOR_LAZY_LIBCRYPTO
        EXPECT_FALSE(loaded(run, "libcrypto")) << args[0] << ": " << listing(run);
#endif
    }
}

// The layer's tar stream is karmor's own and zlib compresses it (src/bundle/archive.cpp):
// libarchive and the ~11 objects it needs are for reading archives only.
TEST(Startup, DryRunPushLoadsZlibToBuildTheLayerButNoArchiveNorHttpStackNorLibcrypto) {
    const auto run = run_and_list_objects(
        {"oci", "push", "--dry-run", "-i", "localhost:5000/startup/dry:v1", "-p", examples, "--output", "json"});
    ASSERT_EQ(run.result.exit_code, 0) << run.result.err.substr(0, 2000);
    EXPECT_EQ(nlohmann::json::parse(run.result.out).value("dryRun", false), true) << run.result.out;
    EXPECT_TRUE(loaded(run, "libz.so.1")) << "the layer is a tar.gz compressed by zlib: " << listing(run);
    for (const auto& library : archive_stack)
        EXPECT_FALSE(loaded(run, library)) << "push --dry-run loads " << library << ": " << listing(run);
#if KARMOR_LAZY_LIBCRYPTO
    // Inputs up to 64 KiB are digested without OpenSSL (src/util/digest.cpp, issue 26).
    EXPECT_FALSE(loaded(run, "libcrypto")) << "small digests: " << listing(run);
#endif
    for (const auto& library : http_stack)
        EXPECT_FALSE(loaded(run, library)) << "push --dry-run loads " << library << ": " << listing(run);
    EXPECT_FALSE(loaded(run, "libsodium")) << listing(run);
}

TEST(Startup, RegistryCommandsOpenLibcurlWhenTheyNeedItAndWork) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    const std::string image = registry->localhost() + "/startup/lazy:v1";
    const auto push = run_and_list_objects({"oci", "push", "-i", image, "-p", examples});
    ASSERT_EQ(push.result.exit_code, 0) << push.result.err.substr(0, 4000);
    EXPECT_TRUE(loaded(push, expected_libcurl())) << listing(push);
    if (expected_libcurl() == "libkarmor-curl.so") {
        // karmor's own libcurl speaks HTTP and HTTPS only: none of the libraries of the
        // protocols it leaves out is loaded, nor the system's libcurl.
        for (const char* library : {"libcurl.so.4", "libssh2", "librtmp", "libldap", "libgssapi", "libgnutls", "libpsl",
                                    "libidn2", "liblber", "libbrotli"})
            EXPECT_FALSE(loaded(push, library)) << library << ": " << listing(push);
    }

    testing::TempDir out;
    const auto pull = run_and_list_objects({"oci", "pull", "-i", image, "-o", (out / "policies").string()});
    ASSERT_EQ(pull.result.exit_code, 0) << pull.result.err.substr(0, 4000);
    EXPECT_TRUE(loaded(pull, expected_libcurl())) << listing(pull);
    EXPECT_TRUE(loaded(pull, "libarchive.so.13")) << listing(pull);
    EXPECT_FALSE(std::filesystem::is_empty(out / "policies"));
}

// How often a program opened `path` while `run` ran: inotify reports every open of a watched
// file, whoever opens it.
template <typename Run>
int opens_of(const std::filesystem::path& path, Run run) {
    const int watcher = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (watcher < 0 || ::inotify_add_watch(watcher, path.c_str(), IN_OPEN) < 0) {
        ADD_FAILURE() << "inotify cannot watch " << path;
        return -1;
    }
    run();
    int opens = 0;
    alignas(inotify_event) char events[4096];
    for (ssize_t n; (n = ::read(watcher, events, sizeof events)) > 0;)
        for (char* at = events; at < events + n;
             at += sizeof(inotify_event) + reinterpret_cast<inotify_event*>(at)->len)
            if (reinterpret_cast<inotify_event*>(at)->mask & IN_OPEN) ++opens;
    ::close(watcher);
    return opens;
}

// karmor's libcurl initialises OpenSSL at its first TLS connection, not when it is loaded
// (scripts/libcurl-lazy-tls.patch): a plain-HTTP command never reads OpenSSL's configuration,
// a TLS one reads it as before. OPENSSL_CONF names the file OpenSSL reads, so its opens tell.
TEST(Startup, OpenSslIsInitialisedByTheFirstTlsConnectionOnly) {
    if (expected_libcurl() != "libkarmor-curl.so")
        GTEST_SKIP() << "SKIPPED: this build uses the system's libcurl, which initialises OpenSSL when it is "
                        "loaded; build with -DKARMOR_LIBCURL=$(scripts/libcurl.sh | tail -n 1)";
    testing::TempDir work;
    const auto config = work / "openssl.cnf";
    testing::write_text(config, "# read by OpenSSL when it is initialised\n");
    const std::map<std::string, std::string> env = {{"OPENSSL_CONF", config.string()}};

    KARMOR_START_REGISTRY(plain, testing::RegistryConfig{});
    const std::string image = plain->localhost() + "/startup/tls-init:v1";
    testing::CommandResult push;
    EXPECT_EQ(opens_of(config,
                       [&] {
                           push = run_karmor({"oci", "push", "--plain-http", "-i", image, "-p", examples}, {}, env);
                       }),
              0);
    ASSERT_EQ(push.exit_code, 0) << push.err;
    testing::CommandResult pull;
    EXPECT_EQ(opens_of(config,
                       [&] {
                           pull = run_karmor(
                               {"oci", "pull", "--plain-http", "-i", image, "-o", (work / "plain").string()}, {}, env);
                       }),
              0);
    ASSERT_EQ(pull.exit_code, 0) << pull.err;

    testing::RegistryConfig tls_config;
    tls_config.tls = true;
    KARMOR_START_REGISTRY(tls, tls_config);
    const std::string tls_image = tls->localhost() + "/startup/tls-init:v1";
    testing::CommandResult tls_push;
    EXPECT_GE(opens_of(config,
                       [&] {
                           tls_push = run_karmor(
                               {"oci", "push", "-i", tls_image, "-p", examples, "--ca-file", tls->ca_file().string()},
                               {}, env);
                       }),
              1)
        << "a TLS connection initialises OpenSSL with its configuration";
    ASSERT_EQ(tls_push.exit_code, 0) << tls_push.err;
}

// The commands `karmor oci --help` lists, by name.
std::vector<std::string> listed_oci_commands() {
    const auto listing_run = run_karmor({"oci", "--help"});
    EXPECT_EQ(listing_run.exit_code, 0) << listing_run.err;
    std::vector<std::string> names;
    const auto start = listing_run.out.find("Subcommands:");
    if (start == std::string::npos) return names;
    std::istringstream lines(listing_run.out.substr(start));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
        std::istringstream words(line);
        std::string name;
        words >> name;
        if (!name.empty() && name.back() == ',') name.pop_back();  // "copy, cp"
        if (!name.empty()) names.push_back(name);
    }
    return names;
}

// `karmor oci NAME ...` defines only NAME's flags (src/cli/app.cpp); every command `oci --help`
// lists must still be reachable that way, with the same help as the one built into karmor
// (`--help -h` is no command line the built help answers, so the command is defined and parsed).
TEST(Startup, EveryOciCommandWorksWhenOnlyItIsDefined) {
    const auto names = listed_oci_commands();
    for (const auto& name : names) {
        const auto help = run_karmor({"oci", name, "--help", "-h"});
        EXPECT_EQ(help.exit_code, 0) << name << ": " << help.err;
        EXPECT_NE(help.out.find("karmor oci " + name), std::string::npos) << name << ": " << help.out.substr(0, 300);
        EXPECT_EQ(help.out, run_karmor({"oci", name, "--help"}).out) << name;
        // Parsed by the command itself: an unknown flag is a usage error.
        const auto bad = run_karmor({"oci", name, "--no-such-flag-anywhere"});
        EXPECT_EQ(bad.exit_code, 2) << name << ": " << bad.err;
    }
    EXPECT_GE(names.size(), 16u);
}

// karmor prints `completion SHELL` and `COMMAND --help` as the build took them from its command
// tree (src/cli/built_definitions.hpp), and defines only what a command line reaches;
// karmor_cli_generator defines every command and generates the scripts from them as they are
// now. For each command that does no work, and for the usage errors and help requests next to
// them, both print the same bytes: nothing built into karmor can drift from the definitions.
TEST(Startup, QuickCommandsPrintWhatTheFullCommandTreePrints) {
    std::vector<std::vector<std::string>> lines = {{"--help"},
                                                   {"-h"},
                                                   {"--version"},
                                                   {"version"},
                                                   {"version", "--help"},
                                                   {"completion", "bash"},
                                                   {"completion", "zsh"},
                                                   {"completion", "fish"},
                                                   {"completion", "--help"},
                                                   {"completion", "-h"},
                                                   {"oci", "--help"},
                                                   {"oci", "-h"},
                                                   {"oci", "key", "generate", "--help"},
                                                   {"oci", "cp", "--help"},
                                                   {"--help-all"},
                                                   {"oci", "--help", "push"},
                                                   {"oci", "push", "--help", "-h"},
                                                   {"oci", "push", "-i", "x", "--help"}};
    const std::vector<std::vector<std::string>> usage_errors = {{},
                                                                {"completion"},
                                                                {"completion", "bsh"},
                                                                {"completion", "bash", "zsh"},
                                                                {"oci"},
                                                                {"oci", "pus"},
                                                                {"oci", "pus", "--help"},
                                                                {"push", "-p", "x"},
                                                                {"oci", "--no-such-flag"},
                                                                {"", "--help"},
                                                                {"oci push", "--help"}};
    lines.insert(lines.end(), usage_errors.begin(), usage_errors.end());
    const auto names = listed_oci_commands();
    ASSERT_GE(names.size(), 16u);
    for (const auto& name : names) lines.push_back({"oci", name, "--help"});
    for (const auto& args : lines) {
        std::string shown = "karmor";
        for (const auto& arg : args) shown += " " + arg;
        const auto built = run_karmor(args);
        auto full_argv = args;
        full_argv.insert(full_argv.begin(), KARMOR_CLI_GENERATOR);
        const auto full = testing::run_command(full_argv);
        EXPECT_FALSE(built.out.empty() && built.err.empty()) << shown;
        EXPECT_EQ(built.exit_code, full.exit_code) << shown;
        EXPECT_EQ(built.out, full.out) << shown;
        EXPECT_EQ(built.err, full.err) << shown;
    }
}

}  // namespace
}  // namespace karmor
