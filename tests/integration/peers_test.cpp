// SPEC §13: karmor against the tools people use, through the real binary. ORAS v1.3.6 as the
// independent client, against docker-registry 2.8 (no referrers API: the fallback tag) and
// go-containerregistry v0.22.1's registry with the referrers API. The peers come from
// scripts/peers.sh (support/peers.hpp says how a missing one fails the test).
//
// Issue 12's points: 1 ORAS pulls karmor's artifacts (Oras*KarmorPolic*); 2 karmor pulls what
// ORAS pushed (KarmorPullsWhatOrasPushed*) or attached (KarmorPullsPoliciesThatOrasAttached);
// 3 attach next to other tools (AttachToAnImage*); 4 `oras cp -r` (OrasCopyWithReferrers*);
// 5 the referrers API without a fallback tag (PeersReferrersApi); 6 skopeo here
// (AttachToAnImageCopiedBySkopeo) and in push_pull_test.cpp.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "karmor/oci.hpp"
#include "support/peers.hpp"
#include "support/referrers_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::write_text;

std::size_t count_containing(const std::vector<std::string>& lines, const std::string& text) {
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
}

// The fixtures themselves: a test that the registry and the lookup can fail.
TEST(PeersFixture, ReferrersRegistryAnswersTheApiAndLogsEachRequest) {
    KARMOR_START_REFERRERS_REGISTRY(registry);
    auto transport = oci::make_curl_transport({});
    oci::ClientOptions options;
    options.plain_http = true;
    oci::RegistryClient client(*Reference::parse(registry->address() + "/shop/cart:1.4"), options, *transport);
    const auto image = testing::push_test_image(client, "1.4", "cart");
    const auto sbom = testing::push_test_sbom(client, image, "2030-01-01T00:00:00Z");

    auto listed = client.list_referrers(image.digest, "");
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_TRUE(*listed) << "the registry does not answer the referrers API";
    ASSERT_EQ((*listed)->size(), 1u);
    EXPECT_EQ((*listed)->at(0).digest, Digest::sha256_of(sbom));

    const auto requests = registry->requests();
    EXPECT_EQ(count_containing(requests, "PUT /v2/shop/cart/manifests/1.4"), 1u);
    EXPECT_EQ(count_containing(requests, "GET /v2/shop/cart/referrers/" + image.digest.str()), 1u);
    EXPECT_EQ(count_containing(registry->requests_with_status(),
                               "GET /v2/shop/cart/referrers/" + image.digest.str() + " 200"),
              1u);
}

TEST(PeersFixture, PeersAreLookedUpInKarmorPeersBinOnly) {
    const char* saved = std::getenv("KARMOR_PEERS_BIN");
    const std::string restore = saved ? saved : "";
    TempDir bin;
    setenv("KARMOR_PEERS_BIN", bin.path().c_str(), 1);
    EXPECT_EQ(testing::peers_bin_dir(), bin.path());
    EXPECT_FALSE(testing::find_peer("oras"));
    write_text(bin / "oras", "#!/bin/sh\n");
    EXPECT_FALSE(testing::find_peer("oras")) << "a file that is not executable is no program";
    chmod((bin / "oras").c_str(), 0755);
    EXPECT_EQ(testing::find_peer("oras"), bin / "oras");
    if (saved)
        setenv("KARMOR_PEERS_BIN", restore.c_str(), 1);
    else
        unsetenv("KARMOR_PEERS_BIN");
}

TEST(PeersFixture, OrasIsThePinnedVersion) {
    KARMOR_REQUIRE_PEER(oras, "oras");
    const auto r = run_command({oras.string(), "version"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Version:    1.3.6"), std::string::npos) << r.out;
}

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";
const std::map<std::string, std::string> fixed_epoch = {{"SOURCE_DATE_EPOCH", "1700000000"}};

std::string sha256_of(const std::string& bytes) {
    return Digest::sha256_of(bytes).str();
}

// The files of a directory, by name (regular files only, not recursive). Hidden files are not
// policies: karmor's pull keeps its record of what it wrote in `.karmor-pull-state`.
std::map<std::string, std::string> files_in(const std::filesystem::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && name.front() != '.') files[name] = read_text(entry.path());
    }
    return files;
}

std::set<std::string> names_of(const std::map<std::string, std::string>& files) {
    std::set<std::string> names;
    for (const auto& [name, content] : files) names.insert(name);
    return names;
}

nlohmann::json parse_json(const testing::CommandResult& r) {
    auto parsed = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << r.out << r.err;
    return parsed.is_object() ? parsed : nlohmann::json::object();
}

// A KubeArmor policy as a user writes it (comments, its own indentation).
std::string ksp(const std::string& name) {
    return "# written by hand\napiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " +
           name +
           "\n  namespace: shop\nspec:\n  severity: 4\n  selector:\n    matchLabels:\n      app: cart\n"
           "  process:\n    matchPaths:\n    - path: /bin/" +
           name + "\n  action: Block\n";
}

std::string hsp_and_csp() {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: audit-shadow\n"
           "spec:\n  nodeSelector:\n    matchLabels:\n      kubernetes.io/os: linux\n  file:\n    matchPaths:\n"
           "      - path: /etc/shadow\n  action: Audit\n---\n"
           "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorClusterPolicy\nmetadata:\n  name: no-curl\n"
           "spec:\n  selector:\n    matchExpressions:\n      - key: namespace\n        operator: NotIn\n"
           "        values: [kube-system]\n  process:\n    matchPaths:\n      - path: /usr/bin/curl\n"
           "  action: Block\n";
}

// ORAS and karmor against one registry of each kind (the test's parameter).
class PeersInterop : public ::testing::TestWithParam<testing::RegistryKind> {
protected:
    void SetUp() override {
        KARMOR_REQUIRE_PEER(oras_program, "oras");
        oras_ = oras_program;
        KARMOR_START_TEST_REGISTRY(started, GetParam());
        registry_ = std::move(started);
    }

    std::string ref(const std::string& repository_and_tag) const {
        return registry_->address() + "/" + repository_and_tag;
    }

    // oras with `args`; "--plain-http" is added after the subcommand words (127.0.0.1 is not
    // `localhost`, to which alone oras speaks plain HTTP by default). ORAS refuses absolute
    // file paths, so files are named relative to `cwd`.
    testing::CommandResult oras(std::vector<std::string> args, const std::filesystem::path& cwd = {}) const {
        std::vector<std::string> argv{oras_.string()};
        const std::size_t words = (args[0] == "manifest" || args[0] == "repo" || args[0] == "blob") ? 2 : 1;
        argv.insert(argv.end(), args.begin(), args.begin() + static_cast<std::ptrdiff_t>(words));
        if (args[0] == "cp") {
            argv.insert(argv.end(), {"--from-plain-http", "--to-plain-http"});
        } else {
            argv.push_back("--plain-http");
        }
        argv.insert(argv.end(), args.begin() + static_cast<std::ptrdiff_t>(words), args.end());
        // A configuration of its own: no credentials or settings of the machine's user.
        return run_command(argv, {}, {{"DOCKER_CONFIG", config_.path().string()}}, cwd);
    }

    testing::CommandResult karmor(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env = fixed_epoch) const {
        auto merged = env;
        merged["DOCKER_CONFIG"] = config_.path().string();
        return testing::run_karmor(args, {}, merged);
    }

    // karmor push (or push --attach) --output json; fails the test when it fails.
    nlohmann::json karmor_push(const std::string& reference, const std::vector<std::string>& inputs,
                               const std::vector<std::string>& flags = {},
                               const std::map<std::string, std::string>& env = fixed_epoch) const {
        std::vector<std::string> args{"oci", "push", "-i", reference, "--output", "json"};
        for (const auto& input : inputs) args.insert(args.end(), {"-p", input});
        args.insert(args.end(), flags.begin(), flags.end());
        const auto r = karmor(args, env);
        EXPECT_EQ(r.exit_code, 0) << "karmor push " << reference << ": " << r.err;
        return r.exit_code == 0 ? parse_json(r) : nlohmann::json::object();
    }

    // karmor pull into a new directory: the pulled files and the --output json result.
    std::pair<std::map<std::string, std::string>, nlohmann::json> karmor_pull(const std::string& reference) const {
        TempDir out;
        const auto r = karmor({"oci", "pull", "-i", reference, "-o", (out / "p").string(), "--output", "json"});
        EXPECT_EQ(r.exit_code, 0) << "karmor pull " << reference << ": " << r.err;
        if (r.exit_code != 0) return {{}, nlohmann::json::object()};
        return {files_in(out / "p"), parse_json(r)};
    }

    nlohmann::json karmor_inspect(const std::string& reference) const {
        const auto r = karmor({"oci", "inspect", "-i", reference, "--output", "json"});
        EXPECT_EQ(r.exit_code, 0) << "karmor inspect " << reference << ": " << r.err;
        return r.exit_code == 0 ? parse_json(r) : nlohmann::json::object();
    }

    // The manifest's bytes as `oras manifest fetch` prints them.
    std::string oras_manifest(const std::string& reference) const {
        const auto r = oras({"manifest", "fetch", reference});
        EXPECT_EQ(r.exit_code, 0) << "oras manifest fetch " << reference << ": " << r.err;
        return r.out;
    }

    // The digest a reference resolves to, according to oras.
    std::string oras_resolve(const std::string& reference) const {
        const auto r = oras({"manifest", "fetch", "--descriptor", reference});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code == 0 ? parse_json(r).value("digest", "") : "";
    }

    // Digest => artifactType of what `oras discover` lists as attached to `reference`.
    std::map<std::string, std::string> oras_discover(const std::string& reference) const {
        const auto r = oras({"discover", "--format", "json", reference});
        EXPECT_EQ(r.exit_code, 0) << "oras discover " << reference << ": " << r.err;
        std::map<std::string, std::string> listed;
        if (r.exit_code != 0) return listed;
        for (const auto& entry : parse_json(r).value("referrers", nlohmann::json::array()))
            listed[entry.value("digest", "")] = entry.value("artifactType", "");
        return listed;
    }

    std::vector<std::string> oras_tags(const std::string& repository) const {
        const auto r = oras({"repo", "tags", ref(repository)});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::string> tags;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) tags.push_back(line);
        return tags;
    }

    // A one-layer container image made by `oras push` (an image config, no artifactType);
    // returns its digest.
    std::string oras_push_image(const std::string& reference) const {
        TempDir dir;
        write_text(dir / "config.json",
                   R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})");
        write_text(dir / "layer.tar", "not really a tar, but an image layer all the same\n");
        const auto r = oras({"push", "--format", "json", reference, "--config",
                             "config.json:application/vnd.oci.image.config.v1+json",
                             "layer.tar:application/vnd.oci.image.layer.v1.tar"},
                            dir.path());
        EXPECT_EQ(r.exit_code, 0) << "oras push (image): " << r.err;
        return r.exit_code == 0 ? parse_json(r).value("digest", "") : "";
    }

    // Point 3, for an image of `repository` at `image_ref` with `image_digest`.
    void check_attach(const std::string& repository, const std::string& image_ref,
                      const std::string& image_digest) const {
        const std::string fallback_tag = "sha256-" + image_digest.substr(7);
        const auto first = karmor_push(image_ref, {(examples / "ksp-block-shell.yaml").string()}, {"--attach"});
        const std::string first_digest = first.value("digest", "");
        ASSERT_FALSE(first_digest.empty());
        EXPECT_EQ(first["subject"]["digest"], image_digest);
        EXPECT_EQ(first.contains("referrersTag"), !registry_->has_referrers_api()) << first.dump(2);

        // karmor wrote the fallback tag only where there is no referrers API. (ORAS writes it
        // on both: go-containerregistry sends no OCI-Subject header, so ORAS assumes no API.)
        const auto tags = oras_tags(repository);
        const bool has_fallback_tag = std::find(tags.begin(), tags.end(), fallback_tag) != tags.end();
        EXPECT_EQ(has_fallback_tag, !registry_->has_referrers_api());

        auto listed = oras_discover(image_ref);
        ASSERT_TRUE(listed.count(first_digest)) << "oras discover does not list karmor's attachment";
        EXPECT_EQ(listed[first_digest], media_type::kubearmor_config);

        // An SBOM attached by ORAS, newer than karmor's artifact (its created time is now).
        TempDir in;
        write_text(in / "sbom.json", R"({"spdxVersion":"SPDX-2.3","name":"image"})");
        const auto sbom = oras({"attach", "--format", "json", "--artifact-type", "application/spdx+json", image_ref,
                                "sbom.json:application/spdx+json"},
                               in.path());
        ASSERT_EQ(sbom.exit_code, 0) << sbom.err;
        const std::string sbom_digest = parse_json(sbom).value("digest", "");
        ASSERT_FALSE(sbom_digest.empty());

        const auto [files, pulled] = karmor_pull(image_ref);
        EXPECT_EQ(pulled.value("digest", ""), first_digest) << "karmor pull took another artifact than its own";
        EXPECT_EQ(names_of(files), (std::set<std::string>{"ksp-shop-block-shell.yaml"}));
        auto shown = karmor_inspect(image_ref);
        EXPECT_EQ(shown.value("kind", ""), "image");
        EXPECT_EQ(shown.value("digest", ""), image_digest);
        ASSERT_EQ(shown["attached"].size(), 1u) << "inspect lists the SBOM as KubeArmor policies: " << shown.dump(2);
        EXPECT_EQ(shown["attached"][0]["digest"], first_digest);

        // karmor's next attach keeps the SBOM (and its own first artifact) listed.
        const auto second = karmor_push(image_ref, {(examples / "hsp-audit-passwd.yaml").string()}, {"--attach"},
                                        {{"SOURCE_DATE_EPOCH", "1700000100"}});
        const std::string second_digest = second.value("digest", "");
        ASSERT_FALSE(second_digest.empty());
        listed = oras_discover(image_ref);
        EXPECT_TRUE(listed.count(sbom_digest)) << "karmor's attach dropped the SBOM";
        EXPECT_TRUE(listed.count(first_digest));
        EXPECT_TRUE(listed.count(second_digest));
        EXPECT_EQ(karmor_pull(image_ref).second.value("digest", ""), second_digest);
        shown = karmor_inspect(image_ref);
        ASSERT_EQ(shown["attached"].size(), 2u) << shown.dump(2);
        EXPECT_EQ(shown["attached"][0]["digest"], second_digest);

        EXPECT_EQ(oras_resolve(image_ref), image_digest) << "the image tag moved";
    }

    std::filesystem::path oras_;
    std::unique_ptr<testing::TestRegistry> registry_;
    TempDir config_;
};

// Point 1: ORAS pulls karmor's artifacts as the same policies, and sees our media types.
TEST_P(PeersInterop, OrasPullsOneKarmorPolicyAsTheSameFile) {
    const auto reference = ref("shop/policies:one");
    const auto pushed = karmor_push(reference, {(examples / "ksp-block-shell.yaml").string()});
    const std::string digest = pushed.value("digest", "");
    ASSERT_FALSE(digest.empty());

    TempDir out;
    const auto pull = oras({"pull", "-o", out.path().string(), reference});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    const auto oras_files = files_in(out.path());
    EXPECT_EQ(names_of(oras_files), (std::set<std::string>{"ksp-shop-block-shell.yaml"}));
    const auto [karmor_files, pulled] = karmor_pull(reference);
    EXPECT_EQ(oras_files, karmor_files) << "ORAS and karmor disagree on the layer's content";

    // What ORAS wrote, pushed again by karmor at the same time, is the same artifact.
    const auto again = karmor_push(ref("shop/policies:again"), {(out / "ksp-shop-block-shell.yaml").string()});
    EXPECT_EQ(again.value("digest", ""), digest);

    const auto manifest_bytes = oras_manifest(reference);
    EXPECT_EQ(sha256_of(manifest_bytes), digest) << "oras manifest fetch printed other bytes than were pushed";
    const auto manifest = nlohmann::json::parse(manifest_bytes);
    EXPECT_EQ(manifest["mediaType"], media_type::oci_manifest);
    EXPECT_EQ(manifest["artifactType"], media_type::kubearmor_config);
    EXPECT_EQ(manifest["config"]["mediaType"], media_type::kubearmor_config);
    ASSERT_EQ(manifest["layers"].size(), 1u);
    EXPECT_EQ(manifest["layers"][0]["mediaType"], media_type::kubearmor_layer_yaml);
    EXPECT_EQ(manifest["layers"][0]["annotations"][annotation::title], "ksp-shop-block-shell.yaml");
    EXPECT_EQ(oras_resolve(reference), digest);
}

// Issue 22: `oras pull` of several policies gives the policy files, as `oras push REF dir/` would.
TEST_P(PeersInterop, OrasPullsSeveralKarmorPoliciesAsTheSameFiles) {
    const auto reference = ref("shop/policies:all");
    const auto pushed = karmor_push(reference, {examples.string()});
    const std::string digest = pushed.value("digest", "");
    ASSERT_FALSE(digest.empty());

    TempDir out;
    const auto pull = oras({"pull", "-o", out.path().string(), reference});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    const auto manifest = nlohmann::json::parse(oras_manifest(reference));
    ASSERT_EQ(manifest["layers"].size(), 1u);
    EXPECT_EQ(manifest["layers"][0]["mediaType"], media_type::kubearmor_layer_tar_gzip);
    EXPECT_EQ(manifest["layers"][0]["annotations"][annotation::title], "policies");
    ASSERT_TRUE(std::filesystem::is_directory(out / "policies")) << "ORAS did not unpack the layer";
    EXPECT_FALSE(std::filesystem::exists(out / "policies.tar.gz"));
    const auto oras_files = files_in(out / "policies");
    const auto [karmor_files, pulled] = karmor_pull(reference);
    EXPECT_EQ(karmor_files.size(), 4u);
    EXPECT_EQ(oras_files, karmor_files) << "ORAS and karmor disagree on the policy files";
    EXPECT_EQ(pulled.value("digest", ""), digest);

    // What ORAS wrote, pushed again by karmor, is the same artifact (determinism holds).
    const auto again = karmor_push(ref("shop/policies:again"), {(out / "policies").string()});
    EXPECT_EQ(again.value("digest", ""), digest);
}

TEST_P(PeersInterop, OrasPullsAJsonKarmorPolicy) {
    const auto reference = ref("shop/policies:json");
    const auto pushed = karmor_push(reference, {(examples / "hsp-audit-passwd.yaml").string()}, {"--format", "json"});
    const std::string digest = pushed.value("digest", "");
    ASSERT_FALSE(digest.empty());

    TempDir out;
    const auto pull = oras({"pull", "-o", out.path().string(), reference});
    ASSERT_EQ(pull.exit_code, 0) << pull.err;
    ASSERT_EQ(names_of(files_in(out.path())), (std::set<std::string>{"hsp-audit-passwd-writes.json"}));
    const auto policy = nlohmann::json::parse(read_text(out / "hsp-audit-passwd-writes.json"));
    EXPECT_EQ(policy["kind"], "KubeArmorHostPolicy");
    EXPECT_EQ(policy["spec"]["severity"], 5);
    const auto manifest = nlohmann::json::parse(oras_manifest(reference));
    EXPECT_EQ(manifest["layers"][0]["mediaType"], media_type::kubearmor_layer_json);

    const auto again = karmor_push(ref("shop/policies:json-again"), {(out / "hsp-audit-passwd-writes.json").string()},
                                   {"--format", "json"});
    EXPECT_EQ(again.value("digest", ""), digest);
}

// Point 2: what ORAS pushes with KubeArmor's media types, karmor pulls.
TEST_P(PeersInterop, KarmorPullsWhatOrasPushedWithKubeArmorLayerTypes) {
    TempDir in;
    write_text(in / "cart.yaml", ksp("sh"));
    write_text(in / "host-and-cluster.yaml", hsp_and_csp());  // two documents in one file
    const auto reference = ref("shop/from-oras:v1");
    // One file per layer, titled by ORAS, and its empty config.
    const auto push =
        oras({"push", "--format", "json", reference, "cart.yaml:application/vnd.cncf.kubearmor.policy.layer.v1.yaml",
              "host-and-cluster.yaml:application/vnd.cncf.kubearmor.policy.layer.v1.yaml"},
             in.path());
    ASSERT_EQ(push.exit_code, 0) << push.err;
    const std::string digest = parse_json(push).value("digest", "");
    const auto manifest = nlohmann::json::parse(oras_manifest(reference));
    EXPECT_EQ(manifest["config"]["mediaType"], media_type::oci_empty);
    EXPECT_EQ(manifest["layers"][1]["annotations"][annotation::title], "host-and-cluster.yaml");

    const auto [files, pulled] = karmor_pull(reference);
    EXPECT_EQ(pulled.value("digest", ""), digest) << "karmor pulled another manifest than ORAS pushed";
    EXPECT_EQ(names_of(files),
              (std::set<std::string>{"ksp-shop-sh.yaml", "hsp-audit-shadow.yaml", "csp-no-curl.yaml"}));
    // The same policies as karmor's own artifact of the same files.
    karmor_push(ref("shop/from-karmor:v1"), {(in / "cart.yaml").string(), (in / "host-and-cluster.yaml").string()});
    EXPECT_EQ(files, karmor_pull(ref("shop/from-karmor:v1")).first);
}

TEST_P(PeersInterop, KarmorPullsWhatOrasPushedWithOurArtifactTypeAndConfigType) {
    TempDir in;
    write_text(in / "p.json", R"({"apiVersion":"security.kubearmor.com/v1","kind":"KubeArmorPolicy",)"
                              R"("metadata":{"name":"json-rule","namespace":"shop"},"spec":{"selector":{"matchLabels":)"
                              R"({"app":"cart"}},"process":{"matchPaths":[{"path":"/bin/ls"}]},"action":"Audit"}})");
    write_text(in / "bundle" / "a.yaml", ksp("tar-a"));
    write_text(in / "bundle" / "b.yaml", ksp("tar-b"));
    const auto tar =
        run_command({"tar", "-czf", "bundle.tar.gz", "-C", "bundle", "a.yaml", "b.yaml"}, {}, {}, in.path());
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    write_text(in / "config.json", "{}");

    const auto reference = ref("shop/typed:v1");
    const auto push = oras({"push", "--format", "json", "--artifact-type", media_type::kubearmor_config, "--config",
                            std::string("config.json:") + media_type::kubearmor_config, reference,
                            std::string("p.json:") + media_type::kubearmor_layer_json,
                            std::string("bundle.tar.gz:") + media_type::kubearmor_layer_tar_gzip},
                           in.path());
    ASSERT_EQ(push.exit_code, 0) << push.err;
    const std::string digest = parse_json(push).value("digest", "");
    const auto manifest = nlohmann::json::parse(oras_manifest(reference));
    EXPECT_EQ(manifest["artifactType"], media_type::kubearmor_config);
    EXPECT_EQ(manifest["config"]["mediaType"], media_type::kubearmor_config);

    const auto [files, pulled] = karmor_pull(reference);
    EXPECT_EQ(pulled.value("digest", ""), digest);
    ASSERT_EQ(names_of(files),
              (std::set<std::string>{"ksp-shop-json-rule.yaml", "ksp-shop-tar-a.yaml", "ksp-shop-tar-b.yaml"}));
    EXPECT_NE(files.at("ksp-shop-json-rule.yaml").find("path: /bin/ls"), std::string::npos);
    EXPECT_EQ(karmor_inspect(reference).value("kind", ""), "kubearmor-artifact");
}

// Point 3: karmor attaches to an image another tool pushed; ORAS sees the attachment, and an
// SBOM that ORAS attaches next to it changes nothing for karmor (nor karmor's next attach
// for the SBOM).
TEST_P(PeersInterop, AttachToAnImagePushedByOras) {
    const auto image = ref("shop/cart:1.4");
    const auto image_digest = oras_push_image(image);
    ASSERT_FALSE(image_digest.empty());
    check_attach("shop/cart", image, image_digest);
}

TEST_P(PeersInterop, AttachToAnImageCopiedBySkopeo) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    // The image is made in an OCI layout by ORAS and copied into the registry by skopeo.
    TempDir dir;
    write_text(dir / "config.json",
               R"({"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})");
    write_text(dir / "layer.tar", "another layer\n");
    const auto made = run_command({oras_.string(), "push", "--format", "json", "--oci-layout", "layout:2.0", "--config",
                                   "config.json:application/vnd.oci.image.config.v1+json",
                                   "layer.tar:application/vnd.oci.image.layer.v1.tar"},
                                  {}, {{"DOCKER_CONFIG", config_.path().string()}}, dir.path());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::string made_digest = parse_json(made).value("digest", "");
    const auto image = ref("shop/api:2.0");
    const auto copy = run_command({"skopeo", "copy", "--preserve-digests", "--dest-tls-verify=false",
                                   "oci:" + (dir / "layout").string() + ":2.0", "docker://" + image});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    ASSERT_EQ(oras_resolve(image), made_digest) << "skopeo changed the image's digest";
    check_attach("shop/api", image, made_digest);
}

// SPEC §13: policies that ORAS attached (our artifactType, ORAS's empty config) are pulled by
// karmor from the image, even where the registry reports the config's media type as the
// referrer's artifactType (go-containerregistry does) instead of the manifest's.
TEST_P(PeersInterop, KarmorPullsPoliciesThatOrasAttached) {
    const auto image = ref("shop/cart:1.4");
    const auto image_digest = oras_push_image(image);
    ASSERT_FALSE(image_digest.empty());
    TempDir in;
    write_text(in / "cart.yaml", ksp("attached-by-oras"));
    const auto attach = oras({"attach", "--format", "json", "--artifact-type", media_type::kubearmor_config, image,
                              std::string("cart.yaml:") + media_type::kubearmor_layer_yaml},
                             in.path());
    ASSERT_EQ(attach.exit_code, 0) << attach.err;
    const std::string digest = parse_json(attach).value("digest", "");

    const auto [files, pulled] = karmor_pull(image);
    EXPECT_EQ(pulled.value("digest", ""), digest);
    EXPECT_EQ(names_of(files), (std::set<std::string>{"ksp-shop-attached-by-oras.yaml"}));
    const auto shown = karmor_inspect(image);
    ASSERT_EQ(shown["attached"].size(), 1u) << shown.dump(2);
    EXPECT_EQ(shown["attached"][0]["digest"], digest);
}

// Point 4: `oras cp -r` copies the image with what is attached; karmor pulls from the copy.
TEST_P(PeersInterop, OrasCopyWithReferrersKeepsThePoliciesPullable) {
    const auto image = ref("shop/cart:1.4");
    const auto image_digest = oras_push_image(image);
    ASSERT_FALSE(image_digest.empty());
    const auto attached = karmor_push(
        image, {(examples / "ksp-block-shell.yaml").string(), (examples / "hsp-audit-passwd.yaml").string()},
        {"--attach"});
    const std::string digest = attached.value("digest", "");
    ASSERT_FALSE(digest.empty());
    TempDir in;
    write_text(in / "sbom.json", R"({"spdxVersion":"SPDX-2.3","name":"cart"})");
    ASSERT_EQ(oras({"attach", "--artifact-type", "application/spdx+json", image, "sbom.json:application/spdx+json"},
                   in.path())
                  .exit_code,
              0);

    const auto copy_ref = ref("mirror/cart:1.4");
    const auto cp = oras({"cp", "-r", image, copy_ref});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    EXPECT_EQ(oras_resolve(copy_ref), image_digest);
    // The attachment arrives with identical bytes, so with the digest its subject names.
    EXPECT_EQ(sha256_of(oras_manifest(ref("mirror/cart@") + digest)), digest);

    const auto [from_copy, pulled] = karmor_pull(copy_ref);
    EXPECT_EQ(pulled.value("digest", ""), digest);
    EXPECT_EQ(from_copy, karmor_pull(image).first);
    EXPECT_EQ(names_of(from_copy),
              (std::set<std::string>{"ksp-shop-block-shell.yaml", "hsp-audit-passwd-writes.yaml"}));
    const auto shown = karmor_inspect(copy_ref);
    ASSERT_EQ(shown["attached"].size(), 1u) << shown.dump(2);
    EXPECT_EQ(shown["attached"][0]["digest"], digest);
}

INSTANTIATE_TEST_SUITE_P(Registries, PeersInterop, ::testing::ValuesIn(testing::all_registry_kinds()),
                         testing::registry_kind_name);

// Point 5: against a registry with the referrers API, karmor's attach lets the registry index
// the artifact (no fallback tag is written or read) and pull finds it through the API. This
// registry does not filter by artifactType (it ignores the query), so karmor filters itself:
// the newer SBOM is not taken for policies.
class PeersReferrersApi : public PeersInterop {};

TEST_P(PeersReferrersApi, AttachWritesNoFallbackTagAndPullUsesTheApi) {
    const auto image = ref("shop/cart:1.4");
    const auto image_digest = oras_push_image(image);
    ASSERT_FALSE(image_digest.empty());
    const std::string referrers_query = "GET /v2/shop/cart/referrers/" + image_digest +
                                        "?artifactType=application%2Fvnd.cncf.kubearmor.config.v1%2Bjson";
    // The requests karmor makes while `step` runs.
    const auto requests_of = [&](const auto& step) {
        const auto before = registry_->requests().size();
        step();
        const auto all = registry_->requests();
        return std::vector<std::string>(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    };

    std::string digest;
    const auto attach_requests = requests_of([&] {
        const auto attached = karmor_push(image, {(examples / "ksp-block-shell.yaml").string()}, {"--attach"});
        digest = attached.value("digest", "");
        EXPECT_FALSE(attached.contains("referrersTag")) << attached.dump(2);
    });
    ASSERT_FALSE(digest.empty());
    EXPECT_EQ(count_containing(attach_requests, referrers_query), 1u) << "attach did not ask the referrers API";
    EXPECT_EQ(count_containing(attach_requests, "PUT /v2/shop/cart/manifests/" + digest), 1u);
    EXPECT_EQ(count_containing(attach_requests, "/manifests/sha256-"), 0u) << "attach wrote or read a fallback tag";
    EXPECT_EQ(oras_tags("shop/cart"), std::vector<std::string>{"1.4"});

    // A newer SBOM: the registry does not filter by artifactType, karmor does.
    TempDir in;
    write_text(in / "sbom.json", R"({"spdxVersion":"SPDX-2.3","name":"cart"})");
    ASSERT_EQ(oras({"attach", "--artifact-type", "application/spdx+json", image, "sbom.json:application/spdx+json"},
                   in.path())
                  .exit_code,
              0);
    const auto pull_requests = requests_of([&] {
        const auto [files, pulled] = karmor_pull(image);
        EXPECT_EQ(pulled.value("digest", ""), digest);
        EXPECT_EQ(names_of(files), (std::set<std::string>{"ksp-shop-block-shell.yaml"}));
    });
    EXPECT_EQ(count_containing(pull_requests, referrers_query), 1u) << "pull did not ask the referrers API";
    EXPECT_EQ(count_containing(pull_requests, "/manifests/sha256-"), 0u) << "pull read a fallback tag";
}

INSTANTIATE_TEST_SUITE_P(Registries, PeersReferrersApi, ::testing::Values(testing::RegistryKind::referrers_api),
                         testing::registry_kind_name);

}  // namespace
}  // namespace karmor
