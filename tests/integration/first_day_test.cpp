// Issue 22, "a new user's first day, round three": each rule through the real binary, against a
// real docker-registry where a registry is involved. The follow items and the API-server
// fidelity items are tested in follow_test.cpp and the validator's tests.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>

#include "oci/manifest_json.hpp"
#include "oci/registry_client.hpp"
#include "ops/referrers_index.hpp"
#include "ops/remote.hpp"
#include "support/local_registry.hpp"
#include "support/test_images.hpp"
#include "util/json_text.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::read_text;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& name) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: cart\n  process:\n    matchPaths:\n"
           "      - path: /bin/" +
           name + "\n  action: Block\n";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Runs karmor in `cwd`.
CommandResult karmor_in(const std::filesystem::path& cwd, const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv{KARMOR_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, {}, env, cwd);
}

// stdout is exactly one JSON document.
nlohmann::json json_of(const CommandResult& r) {
    auto parsed = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "stdout is not one JSON document:\n" << r.out << "\nstderr:\n" << r.err;
    return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

struct Client {
    std::unique_ptr<oci::HttpTransport> transport = oci::make_curl_transport({});
    std::unique_ptr<oci::RegistryClient> client;
    Client(const testing::LocalRegistry& registry, const std::string& repository) {
        oci::ClientOptions options;
        options.push_access = true;
        client = std::make_unique<oci::RegistryClient>(*Reference::parse(registry.localhost() + "/" + repository),
                                                       options, *transport);
    }
};

// A registry with one KubeArmor artifact (REPO:v1, from p.yaml) and an image (REPO:img).
class FirstDay : public ::testing::Test {
protected:
    void SetUp() override {
        KARMOR_START_REGISTRY(started, testing::RegistryConfig{});
        registry = std::move(started);
        write_text(work / "p.yaml", ksp("one"));
        write_text(work / "q.yaml", ksp("two"));
        const auto push = run_karmor({"oci", "push", ref("team/pol:v1"), "-p", (work / "p.yaml").string(), "-q"});
        ASSERT_EQ(push.exit_code, 0) << push.err;
        v1_digest = push.out.substr(0, push.out.find('\n'));
        Client c(*registry, "team/pol");
        image = testing::push_test_image(*c.client, "img", "cart");
    }

    std::string ref(const std::string& repository_and_tag) const {
        return registry->localhost() + "/" + repository_and_tag;
    }

    std::unique_ptr<testing::LocalRegistry> registry;
    TempDir work;
    std::string v1_digest;
    Descriptor image;
};

// --- 2: no usage error repeats a value that may be a secret --------------------------------

TEST(FirstDayUsage, APasswordTypedOnTheCommandLineIsNeverRepeated) {
    const std::string secret = "Pa$$w0rd-s3cret";
    const std::vector<std::vector<std::string>> lines = {
        {"oci", "login", "localhost:1", "-u", "alice", "-p", secret},
        {"oci", "login", "localhost:1", "-u", "alice", "--password", secret},
        {"oci", "login", "localhost:1", "-u", "alice", "--password=" + secret},
        {"oci", "login", "localhost:1", "-u", "alice", "-p" + secret},
        {"oci", "login", "localhost:1", "-u", "alice", secret},  // the password where no flag takes it
        {"oci", "pull", "localhost:1/x:v1", "-o", "out", "-u", "alice", "-p", secret},
        {"oci", "tags", "localhost:1/x", "-u", "alice", "--password", secret, "--output", "json"},
        {"oci", "inspect", "localhost:1/x:v1", secret},
    };
    for (const auto& line : lines) {
        const auto r = run_karmor(line);
        EXPECT_EQ(r.exit_code, 2) << line[1] << ": " << r.err;
        EXPECT_FALSE(contains(r.err + r.out, secret)) << "the secret was echoed:\n" << r.err << r.out;
        EXPECT_FALSE(contains(r.err + r.out, "s3cret")) << r.err;
    }
    const auto login = run_karmor(lines[0]);
    EXPECT_TRUE(contains(login.err, "--password-stdin")) << login.err;
    EXPECT_TRUE(contains(login.err, "karmor oci login")) << login.err;
    const auto json = run_karmor(lines[6]);
    EXPECT_EQ(json_of(json)["error"]["exitCode"], 2);
}

// --- 7: an empty path is a usage error everywhere -----------------------------------------

TEST(FirstDayUsage, AnEmptyPathIsAUsageErrorForEveryPathFlag) {
    TempDir cwd;
    const std::string r = "localhost:1/x:v1";
    const std::vector<std::vector<std::string>> lines = {
        {"oci", "pull", r, "-o", ""},
        {"oci", "pull", r, "-d", ""},
        {"oci", "push", r, "-p", ""},
        {"oci", "push", r, "-p", "x.yaml", "--sign", ""},
        {"oci", "follow", r, "-o", "", "--once"},
        {"oci", "follow", r, "-o", "d", "--state-dir", "", "--once"},
        {"oci", "save", r, "-o", ""},
        {"oci", "load", "-i", "", "--to", r},
        {"oci", "diff", r, "-p", ""},
        {"oci", "diff", "--before-file", "", r},
        {"oci", "sign", r, "--key", ""},
        {"oci", "verify", r, "--key", ""},
        {"oci", "verify", r, "--trusted-root", "", "--certificate-identity", "a", "--certificate-oidc-issuer", "b"},
        {"oci", "pull", r, "-o", "d", "--verify-key", ""},
        {"oci", "inspect", r, "--key", ""},
        {"oci", "apply", r, "--state", ""},
        {"oci", "apply", r, "--tls-ca", ""},
        {"oci", "pull", r, "-o", "d", "--ca-file", ""},
        {"oci", "pull", r, "-o", "d", "--cert-file", ""},
        {"oci", "pull", r, "-o", "d", "--registry-config", ""},
        {"oci", "logout", "localhost:1", "--registry-config", ""},
        {"oci", "key", "generate", "--output-key-prefix", ""},
    };
    for (const auto& line : lines) {
        const auto result = karmor_in(cwd.path(), line, {{"KARMOR_PASSWORD", "x"}});
        std::string shown;
        for (const auto& word : line) shown += word + " ";
        EXPECT_EQ(result.exit_code, 2) << shown << "\n" << result.err;
        EXPECT_TRUE(contains(result.err, "empty")) << shown << "\n" << result.err;
    }
    EXPECT_TRUE(std::filesystem::is_empty(cwd.path())) << "something was written into the current directory";
}

// --- 13: with --output json, every failure is one JSON document on stdout ------------------

TEST(FirstDayUsage, EveryCommandReportsAFailureAsOneJsonDocument) {
    TempDir cwd;
    write_text(cwd / "not-a-key.pub", "not a key\n");
    write_text(cwd / "a.yaml", ksp("a"));
    const std::string unreachable = "127.0.0.1:1/x:v1";
    const std::vector<std::pair<std::vector<std::string>, int>> lines = {
        {{"oci", "push", unreachable, "-p", "a.yaml"}, 6},
        {{"oci", "pull", unreachable, "-o", "out"}, 6},
        {{"oci", "inspect", unreachable}, 6},
        {{"oci", "sign", unreachable, "--key", "a.yaml"}, 2},
        {{"oci", "verify", unreachable, "--key", "not-a-key.pub"}, 2},
        {{"oci", "tags", "127.0.0.1:1/x"}, 6},
        {{"oci", "resolve", unreachable}, 6},
        {{"oci", "tag", unreachable, "v2"}, 6},
        {{"oci", "copy", unreachable, "127.0.0.1:1/y:v1"}, 6},
        {{"oci", "save", unreachable, "-o", "x.tar"}, 6},
        {{"oci", "load", "-i", "a.yaml", "--to", "127.0.0.1:1/x"}, 3},
        {{"oci", "diff", "a.yaml", "missing.yaml"}, 7},
        {{"oci", "apply", unreachable, "--dry-run"}, 6},
        {{"oci", "login", "127.0.0.1:1", "-u", "a", "--password-stdin"}, 6},
        {{"oci", "logout", "https:///"}, 2},
        {{"oci", "key", "generate", "--output-key-prefix", "dir/"}, 2},
    };
    for (const auto& [line, code] : lines) {
        auto args = line;
        args.insert(args.end(), {"--output", "json"});
        std::vector<std::string> argv{KARMOR_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        // Standard input only for the one that reads it: a child that exits without reading
        // would leave the write to its stdin a SIGPIPE.
        const bool reads_stdin = line[1] == "login";
        const auto result = run_command(argv, reads_stdin ? "password\n" : "", {{"KARMOR_PASSWORD", "x"}}, cwd.path());
        EXPECT_EQ(result.exit_code, code) << line[1] << ": " << result.err;
        const auto doc = json_of(result);
        ASSERT_TRUE(doc.contains("error")) << line[1] << ": " << result.out;
        EXPECT_EQ(doc["error"]["exitCode"], result.exit_code) << line[1] << ": " << result.out;
        EXPECT_FALSE(doc["error"]["message"].get<std::string>().empty()) << line[1];
    }
}

// --- 6: paths are bytes; JSON stays valid and loses nothing; no internal error -------------

TEST_F(FirstDay, PathsThatAreNotUtf8GiveValidJsonAndTheRealExitCode) {
    const std::string odd = std::string("out-\xff\xfe-") + "dir";
    const auto out = work / odd;
    auto pull = run_karmor({"oci", "pull", ref("team/pol:v1"), "-o", out.string(), "--output", "json"});
    EXPECT_EQ(pull.exit_code, 0) << pull.err;
    const auto doc = json_of(pull);
    ASSERT_EQ(doc["files"].size(), 1u) << pull.out;
    EXPECT_EQ(util::from_lossless_utf8(doc["files"][0]["path"].get<std::string>()),
              (out / "ksp-shop-one.yaml").string())
        << "the path is carried over byte for byte";
    EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-one.yaml"));

    // A layout directory whose name is not UTF-8: push, pull and inspect through it.
    const auto layout = work / (std::string("lay\xc3") + "out");
    auto push = run_karmor(
        {"oci", "push", "--oci-layout", layout.string() + ":v1", "-p", (work / "p.yaml").string(), "--output", "json"});
    EXPECT_EQ(push.exit_code, 0) << push.err;
    EXPECT_EQ(util::from_lossless_utf8(json_of(push)["reference"].get<std::string>()).rfind(layout.string(), 0), 0u);
    auto again = run_karmor({"oci", "pull", "--oci-layout", layout.string() + ":v1", "-o",
                             (work / "from-layout").string(), "--output", "json"});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    json_of(again);

    // A failure that names such a path: its JSON error is valid, with the failure's own code.
    const auto bad = work / (std::string("bad-\xff") + ".yaml");
    auto bad_policy = ksp("bad");
    bad_policy.replace(bad_policy.find("Block"), 5, "block");  // the enum is case-sensitive
    write_text(bad, bad_policy);
    auto invalid = run_karmor({"oci", "push", "--dry-run", ref("team/pol:v9"), "-p", bad.string(), "--output", "json"});
    EXPECT_EQ(invalid.exit_code, 3) << invalid.err;
    const auto error = json_of(invalid)["error"];
    EXPECT_EQ(util::from_lossless_utf8(error["problems"][0]["file"].get<std::string>()), bad.string());
    EXPECT_FALSE(contains(invalid.err, "internal error"));

    // Values that end up as JSON text must be UTF-8: a usage error, not an internal one.
    auto annotation =
        run_karmor({"oci", "push", "--dry-run", ref("team/pol:v9"), "-p", (work / "p.yaml").string(), "-a", "k=\xff"});
    EXPECT_EQ(annotation.exit_code, 2) << annotation.err;
    EXPECT_TRUE(contains(annotation.err, "UTF-8")) << annotation.err;
    // No standard input: the user name is refused before it is read (and a child that exits
    // without reading would make writing to it a SIGPIPE here).
    auto user = run_karmor({"oci", "login", registry->localhost(), "-u", "al\xff", "--password-stdin"});
    EXPECT_EQ(user.exit_code, 2) << user.err;
}

// --- 3: an attachment's date cannot pin it -------------------------------------------------

TEST_F(FirstDay, ACreatedDateInTheFutureIsRefusedOnPush) {
    const auto image_ref = ref("team/pol:img");
    for (const std::string created : {"2999-01-01T00:00:00Z", "yesterday"}) {
        auto push = run_karmor({"oci", "push", "--attach", image_ref, "-p", (work / "p.yaml").string(), "-a",
                                "org.opencontainers.image.created=" + created});
        EXPECT_EQ(push.exit_code, 2) << push.err;
        EXPECT_TRUE(contains(push.err, created)) << push.err;
    }
    auto epoch = run_karmor({"oci", "push", ref("team/pol:v3"), "-p", (work / "p.yaml").string()}, {},
                            {{"SOURCE_DATE_EPOCH", "32503680000"}});  // year 3000
    EXPECT_EQ(epoch.exit_code, 2) << epoch.err;
    EXPECT_TRUE(contains(epoch.err, "future")) << epoch.err;
    // Within the documented skew (5 minutes) a date ahead is fine: clocks differ a little.
    const auto soon = ops::rfc3339(ops::now_seconds() + 120);
    auto skewed = run_karmor({"oci", "push", "--attach", image_ref, "-p", (work / "p.yaml").string(), "-a",
                              "org.opencontainers.image.created=" + soon});
    EXPECT_EQ(skewed.exit_code, 0) << skewed.err;
}

// Another tool (or an older karmor) attached an artifact dated 2999: it must not win silently.
TEST_F(FirstDay, AFutureDatedAttachmentRanksLastAndIsNamedInAWarning) {
    const auto image_ref = ref("team/pol:img");
    const auto now = ops::now_seconds();
    auto first = run_karmor({"oci", "push", "--attach", image_ref, "-p", (work / "p.yaml").string(), "-q"}, {},
                            {{"SOURCE_DATE_EPOCH", std::to_string(now - 100)}});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto first_digest = first.out.substr(0, first.out.find('\n'));

    // The same artifact re-dated to 2999, stored and listed in the fallback tag as a tool would.
    Client c(*registry, "team/pol");
    auto fetched = c.client->fetch_manifest(first_digest);
    ASSERT_TRUE(fetched && *fetched);
    Manifest forged = (*fetched)->manifest;
    forged.annotations[annotation::created] = "2999-01-01T00:00:00Z";
    const auto bytes = oci::serialize_manifest(forged);
    const auto forged_digest = Digest::sha256_of(bytes);
    ASSERT_TRUE(c.client->put_manifest(forged_digest.str(), media_type::oci_manifest, bytes));
    const auto tag = ops::referrers_tag(image.digest);
    auto index = c.client->fetch_manifest(tag);
    ASSERT_TRUE(index && *index);
    auto merged = ops::add_to_referrers_index(
        (*index)->bytes, ops::referrer_descriptor(forged, forged_digest, static_cast<std::int64_t>(bytes.size())), tag);
    ASSERT_TRUE(merged && *merged);
    ASSERT_TRUE(c.client->put_manifest(tag, media_type::oci_index, **merged));

    // A later attach (other policies) is what pull takes, with a warning naming the 2999 one.
    auto second = run_karmor({"oci", "push", "--attach", image_ref, "-p", (work / "q.yaml").string(), "-q"}, {},
                             {{"SOURCE_DATE_EPOCH", std::to_string(now - 10)}});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const auto second_digest = second.out.substr(0, second.out.find('\n'));
    auto pull = run_karmor({"oci", "pull", image_ref, "-o", (work / "out").string(), "--output", "json"});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_EQ(json_of(pull)["digest"], second_digest);
    EXPECT_TRUE(contains(pull.err, "Warning:")) << pull.err;
    EXPECT_TRUE(contains(pull.err, forged_digest.str())) << pull.err;
    EXPECT_TRUE(contains(pull.err, "took " + second_digest)) << pull.err;
    EXPECT_TRUE(std::filesystem::exists(work / "out" / "ksp-shop-two.yaml"));
    auto quiet = run_karmor({"oci", "pull", image_ref, "-o", (work / "out2").string(), "-q"});
    EXPECT_FALSE(contains(quiet.err, "Warning:")) << "-q drops warnings: " << quiet.err;

    // inspect lists it last and says why.
    auto inspect = run_karmor({"oci", "inspect", image_ref, "--output", "json"});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    const auto attached = json_of(inspect)["attached"];
    ASSERT_EQ(attached.size(), 3u) << inspect.out;
    EXPECT_EQ(attached[0]["digest"], second_digest);
    EXPECT_EQ(attached[2]["digest"], forged_digest.str());
    EXPECT_EQ(attached[2]["futureDated"], true);
    auto text = run_karmor({"oci", "inspect", image_ref});
    EXPECT_TRUE(contains(text.out, "in the future")) << text.out;
}

// --- 5: every command that moves a tag has push's guard, and --force ----------------------

TEST_F(FirstDay, TagCopyAndLoadRefuseToReplaceAnImageTagWithoutForce) {
    const auto image_tag = ref("team/pol:img");
    auto tag = run_karmor({"oci", "tag", ref("team/pol:v1"), "img"});
    EXPECT_EQ(tag.exit_code, 2) << tag.err;
    EXPECT_TRUE(contains(tag.err, image_tag)) << "the refusal names the tag: " << tag.err;
    EXPECT_TRUE(contains(tag.err, "a container image")) << tag.err;
    EXPECT_TRUE(contains(tag.err, "--force")) << tag.err;
    // Checked before anything moves: the other tag of the same run is not set either.
    auto two = run_karmor({"oci", "tag", ref("team/pol:v1"), "fresh", "img"});
    EXPECT_EQ(two.exit_code, 2) << two.err;
    EXPECT_EQ(run_karmor({"oci", "resolve", ref("team/pol:fresh")}).exit_code, 4);

    auto copy = run_karmor({"oci", "copy", ref("team/pol:v1"), image_tag});
    EXPECT_EQ(copy.exit_code, 2) << copy.err;
    EXPECT_TRUE(contains(copy.err, image_tag)) << copy.err;

    auto save = run_karmor({"oci", "save", ref("team/pol:v1"), "-o", (work / "v1.tar").string()});
    ASSERT_EQ(save.exit_code, 0) << save.err;
    auto load = run_karmor({"oci", "load", "-i", (work / "v1.tar").string(), "--to", image_tag});
    EXPECT_EQ(load.exit_code, 2) << load.err;
    EXPECT_TRUE(contains(load.err, image_tag)) << load.err;
    EXPECT_EQ(run_karmor({"oci", "resolve", image_tag}).out, image.digest.str() + "\n") << "the image tag moved";

    // --force moves it, and the output names the tag and what it held.
    auto forced = run_karmor({"oci", "tag", ref("team/pol:v1"), "img", "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_TRUE(contains(forced.out, "Tagged " + image_tag + " (was " + image.digest.str() + ")")) << forced.out;
    // A tag that holds KubeArmor policies moves without --force, as push replaces them.
    auto over_policies = run_karmor({"oci", "copy", ref("team/pol:v1"), ref("team/pol:img"), "--output", "json"});
    EXPECT_EQ(over_policies.exit_code, 0) << over_policies.err;
}

TEST_F(FirstDay, CopyAndLoadWithForceReplaceAnImageTag) {
    const auto image_tag = ref("team/pol:img");
    auto copy = run_karmor({"oci", "copy", ref("team/pol:v1"), image_tag, "--force", "--output", "json"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    const auto doc = json_of(copy);
    EXPECT_EQ(doc["tag"], image_tag);
    EXPECT_EQ(doc["replaced"], image.digest.str());

    Client c(*registry, "team/pol");
    testing::push_test_image(*c.client, "img2", "other");
    auto save = run_karmor({"oci", "save", ref("team/pol:v1"), "-o", (work / "v1.tar").string()});
    ASSERT_EQ(save.exit_code, 0) << save.err;
    auto load = run_karmor({"oci", "load", "-i", (work / "v1.tar").string(), "--to", ref("team/pol:img2"), "--force"});
    EXPECT_EQ(load.exit_code, 0) << load.err;
    EXPECT_TRUE(contains(load.err, "Moved the tag " + ref("team/pol:img2"))) << load.err;
}

// --- 11: load --to REPO:TAG uses the tag -------------------------------------------------

TEST_F(FirstDay, LoadIntoATagPutsTheArchivesManifestUnderIt) {
    auto save = run_karmor({"oci", "save", ref("team/pol:v1"), "-o", (work / "s.tar").string()});
    ASSERT_EQ(save.exit_code, 0) << save.err;
    auto load = run_karmor({"oci", "load", "-i", (work / "s.tar").string(), "--to", ref("skl/pol:v9")});
    ASSERT_EQ(load.exit_code, 0) << load.err;
    EXPECT_EQ(run_karmor({"oci", "resolve", ref("skl/pol:v9")}).out, v1_digest + "\n");
    EXPECT_EQ(run_karmor({"oci", "resolve", ref("skl/pol:v1")}).exit_code, 4) << "the archive's own tag is not used";
    EXPECT_TRUE(contains(load.out, ref("skl/pol:v9"))) << load.out;

    // Two tagged manifests and one tag: which one is meant is not guessed.
    auto push = run_karmor({"oci", "push", ref("team/pol:v2"), "-p", (work / "q.yaml").string(), "-q"});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto both = run_karmor({"oci", "save", ref("team/pol:v1"), ref("team/pol:v2"), "-o", (work / "two.tar").string()});
    ASSERT_EQ(both.exit_code, 0) << both.err;
    auto ambiguous = run_karmor({"oci", "load", "-i", (work / "two.tar").string(), "--to", ref("skl/pol:v10")});
    EXPECT_EQ(ambiguous.exit_code, 2) << ambiguous.err;
    EXPECT_TRUE(contains(ambiguous.err, "2 tagged manifests")) << ambiguous.err;
    auto digest = run_karmor({"oci", "load", "-i", (work / "s.tar").string(), "--to", ref("skl/pol@" + v1_digest)});
    EXPECT_EQ(digest.exit_code, 2) << digest.err;
}

// --- 15: save's -o is the file (- is stdout), --output the format ----------------------------

TEST_F(FirstDay, SaveWritesToStdoutWithDashAndTakesOutputJson) {
    const auto file = work / "s.tar";
    auto json = run_karmor({"oci", "save", ref("team/pol:v1"), "-o", file.string(), "--output", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_TRUE(std::filesystem::exists(file));
    EXPECT_FALSE(std::filesystem::exists(work / "json"));
    const auto doc = json_of(json);
    EXPECT_EQ(doc["saved"][0]["digest"], v1_digest);
    EXPECT_EQ(doc["bytes"], std::filesystem::file_size(file));
    // An existing file is kept unless --force.
    auto again = run_karmor({"oci", "save", ref("team/pol:v1"), "-o", file.string()});
    EXPECT_EQ(again.exit_code, 7) << again.err;
    EXPECT_TRUE(contains(again.err, "--force")) << again.err;
    EXPECT_EQ(run_karmor({"oci", "save", ref("team/pol:v1"), "-o", file.string(), "--force"}).exit_code, 0);

    TempDir cwd;
    auto dash = karmor_in(cwd.path(), {"oci", "save", ref("team/pol:v1"), "-o", "-"});
    ASSERT_EQ(dash.exit_code, 0) << dash.err;
    EXPECT_FALSE(std::filesystem::exists(cwd / "-")) << "-o - wrote a file named -";
    EXPECT_EQ(dash.out, read_text(file)) << "stdout is the same tar";
    EXPECT_TRUE(contains(dash.err, "Saved 1 reference to standard output")) << dash.err;
}

// --- 16, 21, 22: what looks like a file is never sent to Docker Hub ------------------------

TEST(FirstDayOperands, AMissingFileIsReportedAsOneAndLocalPathsGetTheLayoutFlag) {
    TempDir cwd;
    write_text(cwd / "ex.yaml", ksp("ex"));
    auto diff = karmor_in(cwd.path(), {"oci", "diff", "ex.yaml", "nonexist.yaml"});
    EXPECT_EQ(diff.exit_code, 7) << diff.err;
    EXPECT_TRUE(contains(diff.err, "nonexist.yaml: no such file")) << diff.err;
    EXPECT_FALSE(contains(diff.err, "docker.io/library")) << "went to Docker Hub: " << diff.err;

    std::filesystem::create_directories(cwd / "lay2");
    auto copy = karmor_in(cwd.path(), {"oci", "copy", "localhost:1/x:v1", "lay2:v2"});
    EXPECT_EQ(copy.exit_code, 2) << copy.err;
    EXPECT_TRUE(contains(copy.err, "--to-oci-layout")) << copy.err;
    auto copy_path = karmor_in(cwd.path(), {"oci", "copy", "localhost:1/x:v1", "./newdir:tag"});
    EXPECT_EQ(copy_path.exit_code, 2) << copy_path.err;
    EXPECT_TRUE(contains(copy_path.err, "--to-oci-layout")) << copy_path.err;
    auto from_path = karmor_in(cwd.path(), {"oci", "copy", "./lay2:v1", "localhost:1/x:v1"});
    EXPECT_EQ(from_path.exit_code, 2) << from_path.err;
    EXPECT_TRUE(contains(from_path.err, "--from-oci-layout")) << from_path.err;
    auto pull_file = karmor_in(cwd.path(), {"oci", "pull", "ex.yaml", "-o", "out"});
    EXPECT_EQ(pull_file.exit_code, 2) << pull_file.err;
    EXPECT_TRUE(contains(pull_file.err, "is a file here")) << pull_file.err;

    // skopeo's spellings: docker:// is a registry reference; its other transports get a hint.
    auto docker = karmor_in(cwd.path(), {"oci", "resolve", "docker://127.0.0.1:1/x:v1"});
    EXPECT_EQ(docker.exit_code, 6) << "docker:// is taken as the reference: " << docker.err;
    auto archive = karmor_in(cwd.path(), {"oci", "pull", "oci-archive:./x.tar", "-o", "out"});
    EXPECT_EQ(archive.exit_code, 2) << archive.err;
    EXPECT_TRUE(contains(archive.err, "karmor oci load")) << archive.err;
    auto layout = karmor_in(cwd.path(), {"oci", "pull", "oci:./lay2:v1", "-o", "out"});
    EXPECT_EQ(layout.exit_code, 2) << layout.err;
    EXPECT_TRUE(contains(layout.err, "--oci-layout")) << layout.err;
}

// --- 17, 18, 19, 20: messages fit the command ---------------------------------------------

TEST(FirstDayMessages, DiffOfEmptyDirectoriesSpeaksOfDiffNotPush) {
    TempDir cwd;
    std::filesystem::create_directories(cwd / "emptyd");
    auto diff = karmor_in(cwd.path(), {"oci", "diff", "emptyd", "emptyd"});
    EXPECT_GE(diff.exit_code, 2) << diff.err;
    EXPECT_FALSE(contains(diff.err, "pushed")) << diff.err;
    EXPECT_TRUE(contains(diff.err, "diff")) << diff.err;
}

TEST(FirstDayMessages, LoadOfSomethingThatIsNotATarSaysSo) {
    TempDir cwd;
    write_text(cwd / "notes.txt", "just some text, not an archive\n");
    auto load = karmor_in(cwd.path(), {"oci", "load", "-i", "notes.txt", "--to", "localhost:1/x"});
    EXPECT_EQ(load.exit_code, 3) << load.err;
    EXPECT_TRUE(contains(load.err, "not a tar archive")) << load.err;
    EXPECT_FALSE(contains(load.err, "trustworthy")) << load.err;
    EXPECT_FALSE(contains(load.err, "policy archive")) << load.err;
    EXPECT_TRUE(contains(load.err, "karmor oci save")) << load.err;
}

TEST_F(FirstDay, ACosignSignatureIsShownAsOneAndPullSaysWhatItSigns) {
    TempDir keys;
    const auto generate =
        run_command({KARMOR_BINARY, "oci", "key", "generate", "-q"}, {}, {{"KARMOR_PASSWORD", "pw"}}, keys.path());
    ASSERT_EQ(generate.exit_code, 0) << generate.err;
    auto sign = run_karmor(
        {"oci", "sign", ref("team/pol:v1"), "--key", (keys / "cosign.key").string(), "--signature-format", "legacy"},
        {}, {{"KARMOR_PASSWORD", "pw"}});
    ASSERT_EQ(sign.exit_code, 0) << sign.err;
    const auto sig_tag = ref("team/pol:sha256-" + v1_digest.substr(7) + ".sig");
    auto inspect = run_karmor({"oci", "inspect", sig_tag, "--output", "json"});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    const auto doc = json_of(inspect);
    EXPECT_EQ(doc["kind"], "signature");
    EXPECT_TRUE(contains(doc["description"].get<std::string>(), "cosign signature of " + v1_digest)) << inspect.out;
    auto pull = run_karmor({"oci", "pull", sig_tag, "-o", (work / "out").string()});
    EXPECT_EQ(pull.exit_code, 2) << pull.err;
    EXPECT_FALSE(contains(pull.err, "--attach")) << pull.err;
    EXPECT_TRUE(contains(pull.err, "karmor oci pull " + ref("team/pol@" + v1_digest))) << pull.err;
}

TEST(FirstDayMessages, InspectDashOSaysOutput) {
    auto inspect = run_karmor({"oci", "inspect", "-o", "json", "localhost:1/x:v1"});
    EXPECT_EQ(inspect.exit_code, 2) << inspect.err;
    EXPECT_TRUE(contains(inspect.err, "--output")) << inspect.err;
    EXPECT_FALSE(contains(inspect.err, "invalid reference")) << inspect.err;
}

// --- 14: a broken --trusted-root is the user's configuration, not a forged artifact --------

TEST(FirstDayMessages, ABrokenTrustedRootIsAUsageErrorWithAHint) {
    TempDir cwd;
    write_text(cwd / "garbage.json", "this is not json");
    write_text(cwd / "empty.json", "");
    write_text(cwd / "object.json", "{}");
    for (const std::string root : {"garbage.json", "empty.json", "object.json"}) {
        auto verify = karmor_in(cwd.path(), {"oci", "verify", "localhost:1/x:v1", "--trusted-root", root,
                                             "--certificate-identity", "me", "--certificate-oidc-issuer", "https://x"});
        EXPECT_EQ(verify.exit_code, 2) << root << ": " << verify.err;
        EXPECT_TRUE(contains(verify.err, "--trusted-root " + root)) << verify.err;
        EXPECT_TRUE(contains(verify.err, "Hint:")) << verify.err;
        auto pull = karmor_in(cwd.path(), {"oci", "pull", "localhost:1/x:v1", "-o", "out", "--trusted-root", root,
                                           "--certificate-identity", "me", "--certificate-oidc-issuer", "https://x"});
        EXPECT_EQ(pull.exit_code, 2) << root << ": " << pull.err;
    }
}

// --- 23: a repeated -a KEY is an error everywhere -a exists ----------------------------------

TEST(FirstDayUsage, ARepeatedAnnotationKeyIsAnError) {
    TempDir cwd;
    write_text(cwd / "p.yaml", ksp("p"));
    write_text(cwd / "k.pub", "x");
    const std::vector<std::vector<std::string>> lines = {
        {"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", "p.yaml", "-a", "team=a", "-a", "team=b"},
        {"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", "p.yaml", "-a", "team=a", "-a", "team=a"},
        {"oci", "sign", "localhost:1/x:v1", "--key", "p.yaml", "-a", "env=prod", "-a", "env=dev"},
        {"oci", "verify", "localhost:1/x:v1", "--key", "k.pub", "-a", "env=prod", "-a", "env=dev"},
        {"oci", "pull", "localhost:1/x:v1", "-o", "out", "--verify-key", "k.pub", "--verify-annotation", "env=a",
         "--verify-annotation", "env=b"},
    };
    for (const auto& line : lines) {
        const auto r = karmor_in(cwd.path(), line);
        EXPECT_EQ(r.exit_code, 2) << line[1] << ": " << r.err;
        EXPECT_TRUE(contains(r.err, "given twice")) << line[1] << ": " << r.err;
    }
}

// --- 25: pull -o - --prune is refused, not ignored ---------------------------------------

TEST(FirstDayUsage, FlagsThatNeedADirectoryAreRefusedWithDashO) {
    for (const std::string flag : {"--prune", "--force"}) {
        auto pull = run_karmor({"oci", "pull", "localhost:1/x:v1", "-o", "-", flag});
        EXPECT_EQ(pull.exit_code, 2) << pull.err;
        EXPECT_TRUE(contains(pull.err, flag + " needs a directory")) << pull.err;
    }
}

// --- 26: hints name the actual command; identity failures name --signed-identity ----------

TEST(FirstDayMessages, HintsNameTheCommandThatWasRun) {
    auto bogus = run_karmor({"oci", "tags", "localhost:1/x", "--bogus"});
    EXPECT_EQ(bogus.exit_code, 2);
    EXPECT_TRUE(contains(bogus.err, "karmor oci tags --help")) << bogus.err;
    EXPECT_FALSE(contains(bogus.err, "COMMAND")) << bogus.err;
    auto missing = run_karmor({"oci", "verify"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_FALSE(contains(missing.err, "COMMAND")) << missing.err;
    auto alias = run_karmor({"oci", "cp", "--bogus"});
    EXPECT_TRUE(contains(alias.err, "karmor oci copy --help")) << alias.err;
}

TEST_F(FirstDay, VerifyOfACopyNamesTheSignedIdentityToPass) {
    TempDir keys;
    ASSERT_EQ(run_command({KARMOR_BINARY, "oci", "key", "generate", "-q"}, {}, {{"KARMOR_PASSWORD", "pw"}}, keys.path())
                  .exit_code,
              0);
    ASSERT_EQ(run_karmor({"oci", "sign", ref("team/pol:v1"), "--key", (keys / "cosign.key").string()}, {},
                         {{"KARMOR_PASSWORD", "pw"}})
                  .exit_code,
              0);
    auto copy = run_karmor({"oci", "copy", "-r", ref("team/pol:v1"), ref("mirror/pol:v1")});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    auto verify = run_karmor({"oci", "verify", ref("mirror/pol:v1"), "--key", (keys / "cosign.pub").string()});
    EXPECT_EQ(verify.exit_code, 8) << verify.err;
    EXPECT_TRUE(contains(verify.err, "--signed-identity " + registry->localhost() + "/team/pol")) << verify.err;
    auto json = run_karmor(
        {"oci", "verify", ref("mirror/pol:v1"), "--key", (keys / "cosign.pub").string(), "--output", "json"});
    EXPECT_EQ(json.exit_code, 8);
    EXPECT_TRUE(contains(json_of(json)["error"]["hint"].get<std::string>(), "--signed-identity")) << json.out;
    auto accepted = run_karmor({"oci", "verify", ref("mirror/pol:v1"), "--key", (keys / "cosign.pub").string(),
                                "--signed-identity", registry->localhost() + "/team/pol"});
    EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
}

// --- 27: help and docs match behaviour -----------------------------------------------------

// A server that accepts connections (the kernel's backlog does) and never says a word.
class SilentServer {
public:
    SilentServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::listen(fd_, 16), 0);
        EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
        port_ = ntohs(address.sin_port);
    }
    ~SilentServer() { ::close(fd_); }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

TEST(FirstDayMessages, TimeoutBoundsAHungLoopbackServerAndHelpSaysTheDefaults) {
    SilentServer server;
    const auto started = std::chrono::steady_clock::now();
    auto inspect =
        run_karmor({"oci", "inspect", "127.0.0.1:" + std::to_string(server.port()) + "/x:v1", "--timeout", "2s"});
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(inspect.exit_code, 6) << inspect.err;
    EXPECT_LE(seconds, 5) << "--timeout 2s took " << seconds << " s";
    EXPECT_TRUE(contains(inspect.err, "no answer within --timeout")) << inspect.err;
    EXPECT_FALSE(contains(inspect.err, "SSL")) << inspect.err;

    const auto help = run_karmor({"oci", "pull", "--help"}).out;
    EXPECT_FALSE(contains(help, "default: none")) << help;
    EXPECT_TRUE(contains(help, "60 s")) << "the stall bound is documented where --timeout is";
}

TEST(FirstDayMessages, HelpAllShowsEveryCommandsFlags) {
    const auto all = run_karmor({"--help-all"});
    EXPECT_EQ(all.exit_code, 0);
    for (const std::string flag :
         {"--layer-format", "--verify-key", "--to-oci-layout", "--semver", "--signature-format"})
        EXPECT_TRUE(contains(all.out, flag)) << flag << " is missing from --help-all";
}

TEST_F(FirstDay, CountsAreSingularForOne) {
    auto save = run_karmor({"oci", "save", ref("team/pol:v1"), "-o", (work / "one.tar").string()});
    ASSERT_EQ(save.exit_code, 0) << save.err;
    EXPECT_TRUE(contains(save.err, "Saved 1 reference ")) << save.err;
    EXPECT_TRUE(contains(save.err, "0 referrers, 0 signature tags")) << save.err;
    auto copy = run_karmor({"oci", "copy", ref("team/pol:v1"), ref("other/pol:v1")});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    EXPECT_TRUE(contains(copy.err, "1 manifest sent")) << copy.err;
    const std::regex plural_of_one("(^|[^0-9])1 (manifests|blobs|references|policies|signatures|referrers)\\b");
    EXPECT_FALSE(std::regex_search(save.err + copy.err, plural_of_one)) << save.err << copy.err;
}

// --- 28, 29: REF as the first argument, and -q, on every command ---------------------------

TEST_F(FirstDay, EveryCommandTakesTheReferenceAsItsFirstArgument) {
    TempDir keys;
    ASSERT_EQ(run_command({KARMOR_BINARY, "oci", "key", "generate", "-q"}, {}, {{"KARMOR_PASSWORD", "pw"}}, keys.path())
                  .exit_code,
              0);
    const std::map<std::string, std::string> pw{{"KARMOR_PASSWORD", "pw"}};
    EXPECT_EQ(run_karmor({"oci", "sign", ref("team/pol:v1"), "--key", (keys / "cosign.key").string(), "-q"}, {}, pw)
                  .exit_code,
              0);
    EXPECT_EQ(
        run_karmor({"oci", "verify", ref("team/pol:v1"), "--key", (keys / "cosign.pub").string(), "-q"}).exit_code, 0);
    auto tags = run_karmor({"oci", "tags", ref("team/pol")});
    EXPECT_EQ(tags.exit_code, 0) << tags.err;
    EXPECT_TRUE(contains(tags.out, "v1\n")) << tags.out;
    EXPECT_EQ(run_karmor({"oci", "resolve", ref("team/pol:v1")}).out, v1_digest + "\n");
    auto tag = run_karmor({"oci", "tag", ref("team/pol:v1"), "v1.0", "stable"});  // oras's order
    EXPECT_EQ(tag.exit_code, 0) << tag.err;
    EXPECT_EQ(run_karmor({"oci", "resolve", ref("team/pol:stable")}).out, v1_digest + "\n");
    auto tag_flag = run_karmor({"oci", "tag", "-i", ref("team/pol:v1"), "v1.1"});
    EXPECT_EQ(tag_flag.exit_code, 0) << tag_flag.err;
    EXPECT_EQ(run_karmor({"oci", "resolve", ref("team/pol:v1.1")}).out, v1_digest + "\n");
    auto save =
        run_karmor({"oci", "save", ref("team/pol:v1"), ref("team/pol:stable"), "-o", (work / "s.tar").string()});
    EXPECT_EQ(save.exit_code, 0) << save.err;
    auto follow = run_karmor({"oci", "follow", ref("team/pol:v1"), "-o", (work / "followed").string(), "--once"});
    EXPECT_EQ(follow.exit_code, 0) << follow.err;
    EXPECT_TRUE(std::filesystem::exists(work / "followed" / "ksp-shop-one.yaml"));
}

TEST(FirstDayUsage, EveryOciCommandTakesQuietAndOutputJson) {
    for (const std::vector<std::string>& command : {std::vector<std::string>{"push"},
                                                    {"pull"},
                                                    {"follow"},
                                                    {"apply"},
                                                    {"inspect"},
                                                    {"sign"},
                                                    {"verify"},
                                                    {"login"},
                                                    {"logout"},
                                                    {"key", "generate"},
                                                    {"tags"},
                                                    {"resolve"},
                                                    {"tag"},
                                                    {"copy"},
                                                    {"save"},
                                                    {"load"},
                                                    {"diff"}}) {
        std::vector<std::string> args{"oci"};
        args.insert(args.end(), command.begin(), command.end());
        args.push_back("--help");
        const auto help = run_karmor(args).out;
        EXPECT_TRUE(contains(help, "-q,--quiet")) << command[0] << " has no -q";
        EXPECT_TRUE(contains(help, "--output")) << command[0] << " has no --output";
    }
}

// --- 31: completion knows aliases ---------------------------------------------------------

TEST(FirstDayUsage, CompletionResolvesAliasesInBashZshAndFish) {
    KARMOR_REQUIRE_PROGRAM("bash");
    KARMOR_REQUIRE_PROGRAM("zsh");
    KARMOR_REQUIRE_PROGRAM("fish");
    TempDir work;
    write_text(work / "karmor.bash", run_karmor({"completion", "bash"}).out);
    write_text(work / "_karmor", run_karmor({"completion", "zsh"}).out);
    write_text(work / "karmor.fish", run_karmor({"completion", "fish"}).out);

    const auto bash = run_command(
        {"bash", "-c",
         "source " + (work / "karmor.bash").string() +
             "\nCOMP_WORDS=(karmor oci cp --to)\nCOMP_CWORD=3\n_karmor\nprintf '%s\\n' \"${COMPREPLY[@]}\""});
    EXPECT_TRUE(contains(bash.out, "--to-oci-layout\n")) << bash.out << bash.err;

    // zsh completes only on a terminal; its completion functions are stood in for by ones that
    // print what they were given, and the script's function is called as compsys would.
    const auto zsh_completes = [&](const std::string& words) {
        return run_command({"zsh", "-fc",
                            "compdef() {}; compadd() { print -l -- \"$@\" }; "
                            "_describe() { print -l -- \"${(@P)${@[-1]}}\" }; _files() { print files }; source " +
                                (work / "_karmor").string() + "; words=(" + words +
                                "); CURRENT=4; PREFIX=--to; _karmor"});
    };
    const auto zsh = zsh_completes("karmor oci cp --to");
    EXPECT_FALSE(contains(zsh_completes("karmor oci nope --to").out, "--to-oci-layout:"))
        << "the stand-ins are checked";
    EXPECT_TRUE(contains(zsh.out, "--to-oci-layout:")) << zsh.out << zsh.err;

    const auto fish =
        run_command({"fish", "-c", "source " + (work / "karmor.fish").string() + "; complete -C 'karmor oci cp --to'"});
    EXPECT_TRUE(contains(fish.out, "--to-oci-layout")) << fish.out << fish.err;
}

// --- the pull state: --force replaces a corrupt one ----------------------------------------

TEST_F(FirstDay, PullForceReplacesACorruptPullStateWithAWarning) {
    const auto out = work / "out";
    std::filesystem::create_directories(out);
    write_text(out / ".karmor-pull-state", "{ this is not json");
    auto refused = run_karmor({"oci", "pull", ref("team/pol:v1"), "-o", out.string()});
    EXPECT_EQ(refused.exit_code, 7) << refused.err;
    EXPECT_TRUE(contains(refused.err, "--force")) << refused.err;
    auto forced = run_karmor({"oci", "pull", ref("team/pol:v1"), "-o", out.string(), "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_TRUE(contains(forced.err, "Warning:")) << forced.err;
    EXPECT_TRUE(contains(forced.err, ".karmor-pull-state")) << forced.err;
    EXPECT_TRUE(nlohmann::json::parse(read_text(out / ".karmor-pull-state"), nullptr, false).is_object());
    auto again = run_karmor({"oci", "pull", ref("team/pol:v1"), "-o", out.string()});
    EXPECT_EQ(again.exit_code, 0) << "the state is readable again: " << again.err;
}

}  // namespace
}  // namespace karmor
