// What a new user of karmor meets first (issue 11): references written as oras, helm and
// kubectl users write them, errors as JSON, did-you-mean, what inspect says about artifacts of
// other tools, warnings for skipped inputs. Each runs the real binary, against a real registry
// where one is involved.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "oci/http.hpp"
#include "oci/registry_client.hpp"
#include "ops/referrers_index.hpp"
#include "support/local_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::read_text;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& name, const std::string& action = "Block") {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: cart\n  process:\n    matchPaths:\n"
           "      - path: /bin/sh\n  action: " +
           action + "\n";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

Descriptor describe(const std::string& type, const std::string& bytes, const std::string& title = {}) {
    auto d = testing::describe_bytes(type, bytes);
    if (!title.empty()) d.annotations[annotation::title] = title;
    return d;
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

// An artifact as ORAS pushes it: a {} config without karmor's index, one layer per file.
void push_oras_style(oci::RegistryClient& client, const std::string& tag,
                     const std::vector<std::pair<std::string, std::string>>& files,
                     const std::string& layer_type = media_type::kubearmor_layer_yaml) {
    const std::string config = "{}";
    Manifest m;
    m.media_type = media_type::oci_manifest;
    m.artifact_type = "application/vnd.unknown.artifact.v1";
    m.config = describe(media_type::oci_empty, config);
    ASSERT_TRUE(client.upload_blob(*m.config, config));
    for (const auto& [title, content] : files) {
        m.layers.push_back(describe(layer_type, content, title));
        ASSERT_TRUE(client.upload_blob(m.layers.back(), content));
    }
    ASSERT_TRUE(client.put_manifest(tag, media_type::oci_manifest, oci::serialize_manifest(m)));
}

// --- references as other tools write them ------------------------------------------------

TEST(CliUx, ReferenceIsPositionalOrFlagAndTakesOciScheme) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("one"));
    const std::string ref = registry->localhost() + "/positional:v1";

    auto push = run_karmor({"oci", "push", ref, "-p", (work / "p.yaml").string()});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto pull = run_karmor({"oci", "pull", ref, "-o", (work / "out").string()});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_TRUE(std::filesystem::exists(work / "out" / "ksp-shop-one.yaml"));
    auto inspect = run_karmor({"oci", "inspect", ref});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_TRUE(contains(inspect.out, "KubeArmorPolicy shop/one")) << inspect.out;

    auto with_flag = run_karmor({"oci", "inspect", "-i", ref});
    EXPECT_EQ(with_flag.exit_code, 0) << with_flag.err;
    EXPECT_EQ(with_flag.out, inspect.out);
    auto with_scheme = run_karmor({"oci", "inspect", "oci://" + ref});
    EXPECT_EQ(with_scheme.exit_code, 0) << with_scheme.err;
    EXPECT_EQ(with_scheme.out, inspect.out);
    auto pull_scheme = run_karmor({"oci", "pull", "oci://" + ref, "-o", "-"});
    EXPECT_EQ(pull_scheme.exit_code, 0) << pull_scheme.err;
    EXPECT_TRUE(contains(pull_scheme.out, "name: one"));

    auto flag_first = run_karmor({"oci", "push", "--dry-run", "-p", (work / "p.yaml").string(), ref});
    EXPECT_EQ(flag_first.exit_code, 0) << "one value per -p leaves REF alone: " << flag_first.err;

    auto web = run_karmor({"oci", "pull", "https://" + ref, "-o", (work / "x").string()});
    EXPECT_EQ(web.exit_code, 2);
    EXPECT_TRUE(contains(web.err, "drop the scheme: " + ref)) << web.err;

    auto two = run_karmor({"oci", "inspect", ref, "-i", registry->localhost() + "/other:v1"});
    EXPECT_EQ(two.exit_code, 2);
    EXPECT_TRUE(contains(two.err, "two references")) << two.err;
    auto none = run_karmor({"oci", "inspect"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_TRUE(contains(none.err, "-i/--image")) << none.err;
}

TEST(CliUx, LocalDirectoryWithoutOciLayoutGetsTheHint) {
    TempDir work;
    std::filesystem::create_directories(work / "airgap");
    auto result = run_command({KARMOR_BINARY, "oci", "pull", "./airgap", "-o", "out"}, {}, {}, work.path());
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_TRUE(contains(result.err, "add --oci-layout")) << result.err;

    // A REF that is a registry reference and a local directory alike: the registry is tried,
    // and its failure mentions the directory.
    std::filesystem::create_directories(work / "127.0.0.1:1" / "x");
    auto both = run_command({KARMOR_BINARY, "oci", "pull", "127.0.0.1:1/x:v1", "-o", "out"}, {}, {}, work.path());
    EXPECT_EQ(both.exit_code, 6) << both.err;
    EXPECT_TRUE(contains(both.err, "is also a directory here: add --oci-layout")) << both.err;
}

// --- errors as JSON ----------------------------------------------------------------------

TEST(CliUx, FailuresWithOutputJsonAreOneJsonDocument) {
    TempDir work;
    write_text(work / "bad.yaml", ksp("bad", "block"));
    auto push = run_karmor(
        {"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "bad.yaml").string(), "--output", "json"});
    EXPECT_EQ(push.exit_code, 3) << push.err;
    const auto doc = nlohmann::json::parse(push.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << "stdout is one JSON document: " << push.out;
    const auto& error = doc.at("error");
    EXPECT_EQ(error.at("exitCode"), 3);
    EXPECT_TRUE(contains(error.at("message").get<std::string>(), "problem"));
    EXPECT_FALSE(error.at("hint").get<std::string>().empty());
    ASSERT_EQ(error.at("problems").size(), 1u) << error.dump();
    const auto& problem = error.at("problems")[0];
    EXPECT_EQ(problem.at("file"), (work / "bad.yaml").string());
    EXPECT_EQ(problem.at("line"), 13);
    EXPECT_GT(problem.at("column").get<int>(), 0);
    EXPECT_EQ(problem.at("field"), "spec.action");
    EXPECT_TRUE(contains(push.err, "Error:")) << "people still read stderr";

    auto usage = run_karmor({"oci", "pull", "--bogus", "--output", "json"});
    EXPECT_EQ(usage.exit_code, 2);
    const auto usage_doc = nlohmann::json::parse(usage.out, nullptr, false);
    ASSERT_FALSE(usage_doc.is_discarded()) << usage.out;
    EXPECT_EQ(usage_doc.at("error").at("exitCode"), 2);

    auto inspect = run_karmor({"oci", "inspect", "127.0.0.1:1/x:v1", "--output", "json"});
    EXPECT_EQ(inspect.exit_code, 6);
    const auto inspect_doc = nlohmann::json::parse(inspect.out, nullptr, false);
    ASSERT_FALSE(inspect_doc.is_discarded()) << inspect.out;
    EXPECT_EQ(inspect_doc.at("error").at("kind"), "registry");
}

// --- did you mean ------------------------------------------------------------------------

TEST(CliUx, TyposGetTheClosestCommandOrFlag) {
    auto psuh = run_karmor({"oci", "psuh"});
    EXPECT_EQ(psuh.exit_code, 2);
    EXPECT_TRUE(contains(psuh.err, "did you mean `karmor oci push`?")) << psuh.err;
    auto push = run_karmor({"push", "-p", "x.yaml"});
    EXPECT_EQ(push.exit_code, 2);
    EXPECT_TRUE(contains(push.err, "did you mean `karmor oci push`?")) << push.err;
    auto format = run_karmor({"oci", "push", "localhost:1/x:v1", "-p", "x", "--foramt", "json"});
    EXPECT_EQ(format.exit_code, 2);
    EXPECT_TRUE(contains(format.err, "did you mean --format?")) << format.err;
    auto nothing = run_karmor({"oci", "push", "--zzzzzzzz"});
    EXPECT_EQ(nothing.exit_code, 2);
    EXPECT_FALSE(contains(nothing.err, "did you mean")) << nothing.err;

    auto version = run_karmor({"--version"});
    EXPECT_EQ(version.exit_code, 0) << version.err;
    auto full = run_karmor({"version"});
    EXPECT_EQ(version.out, full.out.substr(0, full.out.find('\n') + 1));
}

// --- inspect ------------------------------------------------------------------------------

TEST(CliUx, InspectOfAnArtifactWithoutIndexShowsTheLayers) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    Client c(*registry, "oras");
    push_oras_style(*c.client, "v1", {{"policies/one.yaml", ksp("one")}, {"two.yaml", ksp("two")}});
    const auto ref = registry->localhost() + "/oras:v1";

    auto text = run_karmor({"oci", "inspect", ref});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_FALSE(contains(text.out, "Policies:  0")) << text.out;
    EXPECT_TRUE(contains(text.out, "no index in the config")) << text.out;
    EXPECT_TRUE(contains(text.out, "policies/one.yaml")) << text.out;
    EXPECT_TRUE(contains(text.out, "two.yaml")) << text.out;

    auto json = run_karmor({"oci", "inspect", ref, "--output", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto doc = nlohmann::json::parse(json.out);
    EXPECT_EQ(doc.at("policyIndex"), false);
    ASSERT_EQ(doc.at("layers").size(), 2u);
    EXPECT_EQ(doc.at("layers")[0].at("annotations").at(annotation::title), "policies/one.yaml");

    TempDir out;
    auto pull = run_karmor({"oci", "pull", ref, "-o", out.path().string()});
    EXPECT_EQ(pull.exit_code, 0) << pull.err;
    EXPECT_TRUE(contains(pull.err, "Pulled 2 policies"));
}

TEST(CliUx, InspectTellsAReferrersIndexFromAMultiPlatformImage) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("one"));
    Client c(*registry, "shop");
    const auto image = testing::push_test_image(*c.client, "v1", "shop");
    auto attach =
        run_karmor({"oci", "push", "--attach", registry->localhost() + "/shop:v1", "-p", (work / "p.yaml").string()});
    ASSERT_EQ(attach.exit_code, 0) << attach.err;

    const auto fallback = registry->localhost() + "/shop:" + ops::referrers_tag(image.digest);
    auto inspect = run_karmor({"oci", "inspect", fallback});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_TRUE(contains(inspect.out, "referrers index")) << inspect.out;
    EXPECT_TRUE(contains(inspect.out, image.digest.str())) << inspect.out;
    EXPECT_FALSE(contains(inspect.out, "multi-platform")) << inspect.out;
    EXPECT_FALSE(contains(inspect.out, "Attached KubeArmor artifacts")) << inspect.out;
    EXPECT_TRUE(contains(inspect.out, "Referrers:     1")) << inspect.out;

    TempDir out;
    auto pull = run_karmor({"oci", "pull", fallback, "-o", out.path().string()});
    EXPECT_NE(pull.exit_code, 0);
    EXPECT_FALSE(contains(pull.err, "--attach")) << pull.err;
    EXPECT_TRUE(contains(pull.err, registry->localhost() + "/shop@" + image.digest.str())) << pull.err;

    // A real multi-platform index lists its platforms.
    Manifest index;
    index.media_type = media_type::oci_index;
    auto amd64 = image;
    amd64.platform_json = R"({"architecture":"amd64","os":"linux"})";
    auto arm64 = testing::push_test_image(*c.client, "arm", "shop-arm");
    arm64.platform_json = R"({"architecture":"arm64","os":"linux","variant":"v8"})";
    index.manifests = {amd64, arm64};
    ASSERT_TRUE(c.client->put_manifest("multi", media_type::oci_index, oci::serialize_manifest(index)));
    auto multi = run_karmor({"oci", "inspect", registry->localhost() + "/shop:multi"});
    ASSERT_EQ(multi.exit_code, 0) << multi.err;
    EXPECT_TRUE(contains(multi.out, "multi-platform")) << multi.out;
    EXPECT_TRUE(contains(multi.out, "linux/amd64")) << multi.out;
    EXPECT_TRUE(contains(multi.out, "linux/arm64/v8")) << multi.out;
}

// --- push and pull messages ---------------------------------------------------------------

TEST(CliUx, CreatedAnnotationMustBeRfc3339) {
    TempDir work;
    write_text(work / "p.yaml", ksp("one"));
    auto bad = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "p.yaml").string(), "-a",
                           "org.opencontainers.image.created=yesterday"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_TRUE(contains(bad.err, "RFC 3339")) << bad.err;
    auto good = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "p.yaml").string(), "-a",
                            "org.opencontainers.image.created=2026-11-27T17:00:00Z"});
    EXPECT_EQ(good.exit_code, 0) << good.err;
}

TEST(CliUx, NothingAttachedIsNotFoundWhateverTheSubject) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    Client c(*registry, "things");
    const auto image = testing::push_test_image(*c.client, "image", "things");
    const auto sbom = testing::push_test_sbom(*c.client, image, "2026-01-01T00:00:00Z");
    ASSERT_TRUE(c.client->put_manifest("sbom", media_type::oci_manifest, sbom));
    TempDir out;
    auto from_image = run_karmor({"oci", "pull", registry->localhost() + "/things:image", "-o", out.path().string()});
    auto from_sbom = run_karmor({"oci", "pull", registry->localhost() + "/things:sbom", "-o", out.path().string()});
    EXPECT_EQ(from_image.exit_code, 4) << from_image.err;
    EXPECT_EQ(from_sbom.exit_code, from_image.exit_code) << from_sbom.err;
}

TEST(CliUx, HintsNeverSuggestWhatCannotHelp) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("one"));
    const auto ref = registry->localhost() + "/hints:v1";
    ASSERT_EQ(run_karmor({"oci", "push", ref, "-p", (work / "p.yaml").string()}).exit_code, 0);

    // A symbolic link where a pulled file goes: never replaced, so --force is no remedy.
    std::filesystem::create_directories(work / "out");
    std::filesystem::create_symlink("/etc/hostname", work / "out" / "ksp-shop-one.yaml");
    for (const bool force : {false, true}) {
        std::vector<std::string> args{"oci", "pull", ref, "-o", (work / "out").string()};
        if (force) args.push_back("--force");
        auto pull = run_karmor(args);
        EXPECT_EQ(pull.exit_code, 7) << pull.err;
        EXPECT_FALSE(contains(pull.err, "--force")) << pull.err;
        EXPECT_TRUE(contains(pull.err, "symbolic link")) << pull.err;
    }

    // A corrupt archive layer: --skip-validation cannot lift it, and the layer is named once.
    Client c(*registry, "hints");
    push_oras_style(*c.client, "corrupt", {{"all.tar.gz", "not gzip at all"}}, media_type::kubearmor_layer_tar_gzip);
    for (const bool skip : {false, true}) {
        std::vector<std::string> args{"oci", "pull", registry->localhost() + "/hints:corrupt", "-o", "-"};
        if (skip) args.push_back("--skip-validation");
        auto pull = run_karmor(args);
        EXPECT_NE(pull.exit_code, 0);
        const auto problem_line = pull.err.substr(pull.err.find("\n  ") + 3);
        EXPECT_EQ(count_of(problem_line.substr(0, problem_line.find('\n')), "layer sha256:"), 1u) << pull.err;
        EXPECT_FALSE(contains(pull.err, "pass --skip-validation")) << pull.err;
    }
    // A schema problem is what --skip-validation is for: offered until it is given.
    push_oras_style(*c.client, "schema", {{"p.yaml", ksp("lower", "block")}});
    auto schema = run_karmor({"oci", "pull", registry->localhost() + "/hints:schema", "-o", "-"});
    EXPECT_EQ(schema.exit_code, 3);
    EXPECT_TRUE(contains(schema.err, "--skip-validation")) << schema.err;
    push_oras_style(*c.client, "foreign", {{"p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"}});
    auto foreign = run_karmor({"oci", "pull", registry->localhost() + "/hints:foreign", "-o", "-"});
    EXPECT_EQ(foreign.exit_code, 3);
    EXPECT_FALSE(contains(foreign.err, "--skip-validation")) << foreign.err;
}

TEST(CliUx, InteractivePullSummaryEndsBeforeTheFileList) {
    KARMOR_REQUIRE_PROGRAM("script");
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("one"));
    const auto ref = registry->localhost() + "/tty:v1";
    ASSERT_EQ(run_karmor({"oci", "push", ref, "-p", (work / "p.yaml").string()}).exit_code, 0);
    // Both streams on one terminal, as a user sees them.
    auto tty = run_command({"script", "-qec", std::string(KARMOR_BINARY) + " oci pull " + ref + " -o out", "/dev/null"},
                           {}, {{"TERM", "dumb"}}, work.path());
    ASSERT_EQ(tty.exit_code, 0) << tty.out;
    EXPECT_TRUE(contains(tty.out, "into out\r\nout/ksp-shop-one.yaml\r\n")) << tty.out;
    EXPECT_FALSE(contains(tty.out, "\r\n\r\n")) << tty.out;
}

TEST(CliUx, OnePolicyIsThisPolicy) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("one"));
    const auto ref = registry->localhost() + "/grammar:v1";
    ASSERT_EQ(run_karmor({"oci", "push", ref, "-p", (work / "p.yaml").string()}).exit_code, 0);
    auto again = run_karmor({"oci", "push", ref, "-p", (work / "p.yaml").string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(contains(again.err, "already holds this policy;")) << again.err;
    EXPECT_FALSE(contains(again.err, "these 1")) << again.err;
}

// --- policy inputs ------------------------------------------------------------------------

TEST(CliUx, ApiVersionAndKindMistakesAreNamedWhereTheyAre) {
    TempDir work;
    auto v2 = ksp("one");
    v2.replace(v2.find("/v1"), 3, "/v2");
    write_text(work / "v2.yaml", v2);
    auto result = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "v2.yaml").string()});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_TRUE(contains(result.err, "v2.yaml:1:")) << result.err;
    EXPECT_TRUE(contains(result.err, "apiVersion")) << result.err;
    EXPECT_TRUE(contains(result.err, "security.kubearmor.com/v1")) << result.err;
    EXPECT_FALSE(contains(result.err, "not a KubeArmor policy")) << result.err;

    auto typo = ksp("one");
    typo.replace(typo.find("KubeArmorPolicy"), 15, "KubeArmorPolcy");
    write_text(work / "typo.yaml", typo);
    auto kind = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "typo.yaml").string()});
    EXPECT_EQ(kind.exit_code, 3);
    EXPECT_TRUE(contains(kind.err, "typo.yaml:2:")) << kind.err;
    EXPECT_TRUE(contains(kind.err, "did you mean KubeArmorPolicy?")) << kind.err;
}

TEST(CliUx, SkippedAndUnreadableInputsSayWhy) {
    TempDir work;
    std::filesystem::create_directories(work / "dir");
    write_text(work / "dir" / "good.yaml", ksp("good"));
    write_text(work / "dir" / "README.md", "# notes\n");
    std::filesystem::create_symlink(work / "dir" / "gone.yaml", work / "dir" / "dangling.yaml");
    auto listed = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "dir").string()});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_TRUE(std::regex_search(listed.err, std::regex("Warning: .*README.md: skipped: not a \\*.yaml")))
        << listed.err;
    EXPECT_TRUE(std::regex_search(listed.err, std::regex("Warning: .*dangling.yaml: skipped: a symbolic link to .*gone"
                                                         ".yaml: No such file")))
        << listed.err;
    auto quiet = run_karmor({"oci", "push", "--dry-run", "-q", "localhost:1/x:v1", "-p", (work / "dir").string()});
    EXPECT_FALSE(contains(quiet.err, "Warning")) << quiet.err;

    std::filesystem::create_symlink("loop-b.yaml", work / "loop-a.yaml");
    std::filesystem::create_symlink("loop-a.yaml", work / "loop-b.yaml");
    auto loop = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "loop-a.yaml").string()});
    EXPECT_EQ(loop.exit_code, 7);
    EXPECT_TRUE(contains(loop.err, "Too many levels of symbolic links")) << loop.err;

    // Unreadable: root reads anything, so the check runs as nobody when the tests run as root.
    write_text(work / "secret.yaml", ksp("secret"));
    ::chmod((work / "secret.yaml").c_str(), 0);
    ::chmod(work.path().c_str(), 0755);
    std::vector<std::string> argv{
        KARMOR_BINARY, "oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "secret.yaml").string()};
    if (::geteuid() == 0) argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    // Nobody's HOME: the Docker config of the user running the tests is none of its business.
    auto unreadable = run_command(argv, {}, {{"HOME", work.path().string()}, {"DOCKER_CONFIG", work.path().string()}});
    EXPECT_EQ(unreadable.exit_code, 7) << unreadable.err;
    EXPECT_TRUE(contains(unreadable.err, "Permission denied")) << unreadable.err;
}

TEST(CliUx, PoliciesFromStandardInput) {
    auto result = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", "-"}, ksp("piped"));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.err, "KubeArmorPolicy/shop/piped")) << result.err;
    auto invalid = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", "-"}, ksp("piped", "block"));
    EXPECT_EQ(invalid.exit_code, 3);
    EXPECT_TRUE(contains(invalid.err, "<stdin>:13:")) << invalid.err;
}

TEST(CliUx, RecursiveSkipsHiddenDirectoriesAndSaysSo) {
    TempDir work;
    std::filesystem::create_directories(work / "repo" / ".git");
    std::filesystem::create_directories(work / "repo" / ".github" / "workflows");
    std::filesystem::create_directories(work / "repo" / "team");
    write_text(work / "repo" / ".git" / "config.yaml", "not: [a policy");
    write_text(work / "repo" / ".github" / "workflows" / "ci.yml", "on: push\n");
    write_text(work / "repo" / "team" / "p.yaml", ksp("team"));
    auto result = run_karmor({"oci", "push", "--dry-run", "-r", "localhost:1/x:v1", "-p", (work / "repo").string()});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.err, ".git: skipped: a hidden directory")) << result.err;
    EXPECT_TRUE(contains(result.err, ".github: skipped: a hidden directory")) << result.err;
    EXPECT_TRUE(contains(result.err, "would push 1 policy")) << result.err;
}

TEST(CliUx, DocumentsOfOnlyCommentsAreSkippedAsKubectlDoes) {
    TempDir work;
    std::filesystem::create_directories(work / "dir");
    write_text(work / "dir" / "a.yaml", ksp("a"));
    write_text(work / "dir" / "b.yaml", "# kept for later\n---\n# nothing here\n");
    write_text(work / "dir" / "c.yaml", "---\n" + ksp("c") + "---\n# trailing comment\n---\n");
    auto result = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "dir").string()});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.err, "would push 2 policies")) << result.err;
    EXPECT_TRUE(contains(result.err, "b.yaml: skipped: holds no document")) << result.err;

    auto only = run_karmor({"oci", "push", "--dry-run", "localhost:1/x:v1", "-p", (work / "dir" / "b.yaml").string()});
    EXPECT_EQ(only.exit_code, 3) << only.err;
    EXPECT_TRUE(contains(only.err, "holds no policy")) << only.err;
}

// --- completion ---------------------------------------------------------------------------

// Every flag that `--help` shows for a command: the names in its options' column ("  -i,--image
// TEXT"), not the flags that descriptions and examples mention (`sh -c`, --tls-*).
std::set<std::string> help_flags(const std::vector<std::string>& command) {
    auto args = command;
    args.push_back("--help");
    std::istringstream help(run_karmor(args).out);
    std::set<std::string> flags;
    for (std::string line; std::getline(help, line);) {
        if (line.rfind("  -", 0) != 0) continue;
        std::istringstream names(line.substr(2, line.find(' ', 2) - 2));
        for (std::string name; std::getline(names, name, ',');)
            flags.insert(name.substr(0, name.find('{')));  // "--dry-run{client}": a flag's value when given bare
    }
    flags.erase("--help-all");  // the root's only
    return flags;
}

// What bash completes for `words` (the last one being completed).
std::string bash_completes(const std::string& script, const std::vector<std::string>& words) {
    std::string array;
    for (const auto& w : words) array += " '" + w + "'";
    const std::string program = script + "\nCOMP_WORDS=(" + array +
                                ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) +
                                "\n_karmor\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
    return run_command({"bash", "-c", program}).out;
}

TEST(CliUx, CompletionsComeFromTheFlagDefinitions) {
    KARMOR_REQUIRE_PROGRAM("bash");
    const auto bash = run_karmor({"completion", "bash"});
    ASSERT_EQ(bash.exit_code, 0) << bash.err;
    const auto zsh = run_karmor({"completion", "zsh"}).out;
    const auto fish = run_karmor({"completion", "fish"}).out;
    // Every command: the root, version, completion, each command `oci --help` lists, key generate.
    std::vector<std::vector<std::string>> commands = {
        {}, {"version"}, {"completion"}, {"oci"}, {"oci", "key", "generate"}};
    const auto listing = run_karmor({"oci", "--help"}).out;
    std::istringstream lines(listing.substr(listing.find("Subcommands:")));
    std::string listed;
    std::getline(lines, listed);
    while (std::getline(lines, listed) && listed.rfind("  ", 0) == 0)
        commands.push_back({"oci", listed.substr(2, listed.find_first_of(", ", 2) - 2)});  // "copy, cp  copy an …"
    ASSERT_GE(commands.size(), 20u) << listing;
    for (const auto& command : commands) {
        const std::string name = command.empty() ? "karmor" : command.back();
        auto line = command;
        line.insert(line.begin(), "karmor");
        line.push_back("-");
        const auto offered = bash_completes(bash.out, line);
        for (const auto& flag : help_flags(command)) {
            EXPECT_TRUE(contains(offered, flag + "\n")) << "bash misses " << flag << " of " << name;
            EXPECT_TRUE(contains(zsh, "'" + flag + ":")) << "zsh misses " << flag << " of " << name;
            const auto fish_flag = flag.rfind("--", 0) == 0 ? " -l " + flag.substr(2) : " -s " + flag.substr(1);
            EXPECT_TRUE(contains(fish, fish_flag)) << "fish misses " << flag << " of " << name;
        }
    }
    EXPECT_EQ(bash_completes(bash.out, {"karmor", "oci", "login", "--ca"}), "--ca-file\n");
    EXPECT_EQ(bash_completes(bash.out, {"karmor", "oci", "pus"}), "push\n");
    EXPECT_EQ(bash_completes(bash.out, {"karmor", "oci", "push", "--format", ""}), "yaml\njson\n");
    EXPECT_EQ(bash_completes(bash.out, {"karmor", "completion", "z"}), "zsh\n");
}

// The zsh and fish scripts parse, and fish completes from them (zsh needs a terminal to
// complete, so its script is checked by `zsh -n` and by loading it under compinit).
TEST(CliUx, ZshAndFishScriptsLoadAndComplete) {
    KARMOR_REQUIRE_PROGRAM("zsh");
    KARMOR_REQUIRE_PROGRAM("fish");
    TempDir work;
    write_text(work / "_karmor", run_karmor({"completion", "zsh"}).out);
    write_text(work / "karmor.fish", run_karmor({"completion", "fish"}).out);
    auto zsh_syntax = run_command({"zsh", "-n", (work / "_karmor").string()});
    EXPECT_EQ(zsh_syntax.exit_code, 0) << zsh_syntax.err;
    auto zsh_load = run_command({"zsh", "-fc",
                                 "autoload -U compinit && compinit -u -d " + (work / "dump").string() + " && source " +
                                     (work / "_karmor").string() + " && print -r -- ${_comps[karmor]}"});
    EXPECT_EQ(zsh_load.out, "_karmor\n") << zsh_load.err;
    auto fish_syntax = run_command({"fish", "-n", (work / "karmor.fish").string()});
    EXPECT_EQ(fish_syntax.exit_code, 0) << fish_syntax.err;
    const auto fish_completes = [&](const std::string& line) {
        return run_command({"fish", "-c", "source " + (work / "karmor.fish").string() + "; complete -C '" + line + "'"})
            .out;
    };
    EXPECT_TRUE(contains(fish_completes("karmor oci login --c"), "--ca-file\t"))
        << fish_completes("karmor oci login --c");
    EXPECT_TRUE(contains(fish_completes("karmor oci pus"), "push\t"));
    EXPECT_TRUE(contains(fish_completes("karmor oci inspect --output "), "json"));
}

}  // namespace
}  // namespace karmor
