// SPEC §15 through the karmor binary: Debian's docker-registry as the upstream and a second one in
// proxy mode (a pull-through cache of it) as the mirror, on loopback, named the way a node names
// them (registries.conf, containerd's hosts.toml); skopeo reading the same registries.conf; a
// scripted mirror that lies; and a fleet of 200 followers behind one cache.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "karmor/digest.hpp"
#include "ops/open_target.hpp"
#include "support/http_server.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::CommandResult;
using testing::LocalRegistry;
using testing::RegistryConfig;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

const std::filesystem::path examples = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies";
const std::string policy_a = (examples / "ksp-block-shell.yaml").string();
const std::string policy_b = (examples / "hsp-audit-passwd.yaml").string();

std::string describe(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// A node's configuration in a directory of its own: registries.conf, an empty containerd hosts
// directory (or one a test fills), and a HOME without containers drop-ins.
struct Node {
    TempDir dir;
    std::map<std::string, std::string> env;

    explicit Node(const std::string& registries_conf) {
        write_text(dir / "registries.conf", registries_conf);
        std::filesystem::create_directories(dir / "certs.d");
        std::filesystem::create_directories(dir / "home");
        env = {{"CONTAINERS_REGISTRIES_CONF", (dir / "registries.conf").string()},
               {"HOME", (dir / "home").string()},
               {"KARMOR_HOSTS_DIR", (dir / "certs.d").string()},
               {"DOCKER_CONFIG", (dir / "docker").string()}};
    }
    CommandResult karmor(const std::vector<std::string>& args, const std::string& input = {}) const {
        return run_karmor(args, input, env);
    }
};

std::string mirror_conf(const LocalRegistry& upstream, const std::string& mirror_address,
                        const std::string& mirror_settings = "") {
    return "[[registry]]\nlocation = \"" + upstream.address() + "\"\n\n[[registry.mirror]]\nlocation = \"" +
           mirror_address + "\"\n" + mirror_settings;
}

// Debian's docker-registry as the upstream and a second one as its pull-through cache, on loopback.
class ThroughTheCache : public ::testing::Test {
protected:
    void SetUp() override {
        KARMOR_REQUIRE_PROGRAM("docker-registry");
        std::string error;
        upstream = LocalRegistry::start(RegistryConfig{}, error);
        ASSERT_TRUE(upstream) << "cannot start docker-registry: " << error;
        RegistryConfig cache;
        cache.proxy_remote_url = "http://" + upstream->address();
        mirror = LocalRegistry::start(cache, error);
        ASSERT_TRUE(mirror) << "cannot start docker-registry in proxy mode: " << error;
        reference = upstream->address() + "/team/policies:v1";
    }

    std::unique_ptr<LocalRegistry> upstream, mirror;
    std::string reference;  // a tag in the upstream
    TempDir work;
};

// A private key and its public key, made with openssl as a user would.
struct KeyPair {
    std::filesystem::path key, pub;
};

KeyPair make_key_pair(const TempDir& dir) {
    KeyPair pair{dir / "signer.pem", dir / "signer.pub"};
    EXPECT_EQ(run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                           pair.key.string()})
                  .exit_code,
              0);
    EXPECT_EQ(
        run_command({"openssl", "pkey", "-in", pair.key.string(), "-pubout", "-out", pair.pub.string()}).exit_code, 0);
    return pair;
}

std::string resolve_directly(const std::string& reference) {
    const auto r = run_karmor({"oci", "resolve", "-i", reference, "--no-mirrors"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return r.out.substr(0, r.out.find('\n'));
}

// Each distinct request (METHOD PATH) of `log` that starts with `prefix`, and how often it came.
std::map<std::string, int> tally(const std::vector<std::string>& log, const std::string& prefix, std::size_t from = 0) {
    std::map<std::string, int> counts;
    for (std::size_t i = from; i < log.size(); ++i)
        if (log[i].rfind(prefix, 0) == 0) ++counts[log[i]];
    return counts;
}

bool empty_or_missing(const std::filesystem::path& directory) {
    std::error_code ec;
    return !std::filesystem::exists(directory, ec) || std::filesystem::is_empty(directory, ec);
}

TEST_F(ThroughTheCache, PullFollowAndVerifyASignedArtifact) {
    const auto keys = make_key_pair(work);
    const auto digest = run_karmor({"oci", "push", "-i", reference, "-p", policy_a, "-p", policy_b});
    ASSERT_EQ(digest.exit_code, 0) << describe(digest);
    const auto signed_ = run_karmor({"oci", "sign", "-i", reference, "--key", keys.key.string()});
    ASSERT_EQ(signed_.exit_code, 0) << describe(signed_);

    const Node node(mirror_conf(*upstream, mirror->address()));
    const std::string through = "Reading " + upstream->address() + "/team/policies through the mirror " +
                                mirror->address() + "/team/policies (" + (node.dir / "registries.conf").string() +
                                ":4)";
    const auto pull = [&](int i) {
        const auto out = work / ("pulled-" + std::to_string(i));
        const auto pulled =
            node.karmor({"oci", "pull", "-i", reference, "-o", out.string(), "--verify-key", keys.pub.string()});
        ASSERT_EQ(pulled.exit_code, 0) << describe(pulled);
        EXPECT_NE(pulled.err.find(through), std::string::npos) << pulled.err;
        EXPECT_NE(pulled.err.find("Verified " + upstream->address() + "/team/policies@"), std::string::npos)
            << pulled.err;
        EXPECT_TRUE(std::filesystem::exists(out / "ksp-shop-block-shell.yaml"));
    };
    const auto before = upstream->requests().size();
    pull(0);  // fills the cache
    const auto filled = upstream->requests().size();
    for (int i = 1; i < 4; ++i) pull(i);
    const auto verified = node.karmor({"oci", "verify", "-i", reference, "--key", keys.pub.string()});
    ASSERT_EQ(verified.exit_code, 0) << describe(verified);
    EXPECT_NE(verified.err.find(through), std::string::npos) << verified.err;
    const auto followed = node.karmor({"oci", "follow", "-i", reference, "-o", (work / "followed").string(), "--once",
                                       "--verify-key", keys.pub.string()});
    ASSERT_EQ(followed.exit_code, 0) << describe(followed);
    // The cache's line is said once for the whole round (resolve, then pull by digest).
    EXPECT_EQ(followed.err.find(through), followed.err.rfind(through)) << followed.err;

    // Every blob (policies, signature payload) crossed from the upstream for the first pull that
    // filled the cache, and never again: the cache served the five reads after it. Distribution's
    // proxy fetches a blob it misses twice, one copy streamed to the client and one stored; the
    // stored copy's fetch may still be running when the next pull starts (seen under load), so
    // the bound is two per blob over all six reads, where six would cross without the cache.
    const auto log = upstream->requests();
    const auto blobs = tally(log, "GET /v2/team/policies/blobs/", before);
    ASSERT_FALSE(blobs.empty());
    for (const auto& [request, count] : blobs) EXPECT_LE(count, 2) << request;
    EXPECT_EQ(tally(log, "GET /v2/team/policies/manifests/sha256:", filled), (std::map<std::string, int>{}));
    // Each verified pull read every blob (the policies' layer, both signatures' blobs) from the cache.
    EXPECT_GE(mirror->count_requests("GET /v2/team/policies/blobs/"), 4 * blobs.size());
    std::cout << "[ upstream ] 4 pulls, 1 verify and 1 follow of a signed artifact through the cache:";
    for (const auto& [request, count] : tally(log, "", before)) std::cout << "\n  " << count << " x " << request;
    std::cout << std::endl;
}

TEST_F(ThroughTheCache, MirrorDownTheUpstreamServesAndTheOutputSaysSo) {
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    const Node node(mirror_conf(*upstream, mirror->address()));
    const auto mirror_address = mirror->address();
    mirror.reset();  // stopped: nothing listens on its port

    TempDir out;
    const auto pulled = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "a").string()});
    ASSERT_EQ(pulled.exit_code, 0) << describe(pulled);
    EXPECT_NE(pulled.err.find("Mirror " + mirror_address + "/team/policies failed (" + mirror_address +
                              ": GET /v2/team/policies/manifests/v1: cannot connect"),
              std::string::npos)
        << pulled.err;
    EXPECT_NE(pulled.err.find("Reading " + upstream->address() + "/team/policies from the registry itself"),
              std::string::npos)
        << pulled.err;
    // Said once: the later reads skip the mirror that could not be reached.
    EXPECT_EQ(pulled.err.find("Mirror "), pulled.err.rfind("Mirror ")) << pulled.err;

    // -q: the result alone, no mirror lines.
    const auto quiet = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "q").string(), "-q"});
    ASSERT_EQ(quiet.exit_code, 0) << describe(quiet);
    EXPECT_EQ(quiet.err.find("Mirror "), std::string::npos) << quiet.err;
    EXPECT_EQ(quiet.err.find("from the registry itself"), std::string::npos) << quiet.err;

    // -v names each endpoint tried.
    const auto traced = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "b").string(), "-v"});
    ASSERT_EQ(traced.exit_code, 0) << describe(traced);
    EXPECT_NE(traced.err.find("karmor: * asking " + mirror_address + "/team/policies for the manifest v1"),
              std::string::npos)
        << traced.err;
    EXPECT_NE(traced.err.find("karmor: * asking " + upstream->address() + "/team/policies for the manifest v1"),
              std::string::npos)
        << traced.err;
    EXPECT_NE(traced.err.find("karmor: * " + mirror_address + "/team/policies could not be reached before"),
              std::string::npos)
        << traced.err;
}

TEST_F(ThroughTheCache, NoMirrorsReadsFromTheRegistryAlone) {
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    // Even a registries.conf that would not parse is not read.
    const Node node(mirror_conf(*upstream, mirror->address()) + "[[registry]\n");
    TempDir out;
    const auto broken = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "a").string()});
    EXPECT_EQ(broken.exit_code, 2) << describe(broken);
    EXPECT_NE(broken.err.find("registries.conf:6:"), std::string::npos) << broken.err;
    EXPECT_NE(broken.err.find("--no-mirrors"), std::string::npos) << broken.err;
    const auto pulled = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "b").string(), "--no-mirrors"});
    ASSERT_EQ(pulled.exit_code, 0) << describe(pulled);
    EXPECT_EQ(pulled.err.find("mirror"), std::string::npos) << pulled.err;
    EXPECT_EQ(mirror->count_requests(""), 0u);
}

TEST_F(ThroughTheCache, WritesGoToTheUpstreamAndBlockedRegistriesAreRefused) {
    const auto keys = make_key_pair(work);
    const Node node(mirror_conf(*upstream, mirror->address()));
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"oci", "push", "-i", reference, "-p", policy_a},
             {"oci", "sign", "-i", reference, "--key", keys.key.string()},
             {"oci", "tag", "-i", reference, "v1.0.0"},
             {"oci", "copy", "--no-mirrors", reference, upstream->address() + "/team/copied:v1"}}) {
        const auto r = node.karmor(args);
        EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << describe(r);
    }
    EXPECT_EQ(mirror->count_requests(""), 0u) << "a write reached the mirror";
    // The source of a copy is a read: through the mirror; its destination is not.
    const auto copied = node.karmor({"oci", "copy", reference, upstream->address() + "/team/again:v1"});
    ASSERT_EQ(copied.exit_code, 0) << describe(copied);
    EXPECT_GT(mirror->count_requests("GET /v2/team/policies/"), 0u);
    EXPECT_EQ(mirror->count_requests("GET /v2/team/again/") + mirror->count_requests("PUT ") +
                  mirror->count_requests("POST "),
              0u);

    const Node blocked("[[registry]]\nlocation = \"" + upstream->address() + "/team\"\nblocked = true\n");
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"oci", "pull", "-i", reference, "-o", (work / "blocked").string()},
                                               {"oci", "push", "-i", reference, "-p", policy_a}}) {
        const auto r = blocked.karmor(args);
        EXPECT_EQ(r.exit_code, 5) << describe(r);
        EXPECT_NE(r.err.find(upstream->address() + "/team/policies is blocked by " +
                             (blocked.dir / "registries.conf").string() + ":1"),
                  std::string::npos)
            << r.err;
    }
    EXPECT_TRUE(empty_or_missing(work / "blocked"));
    EXPECT_EQ(blocked.karmor({"oci", "pull", "-i", reference, "-o", (work / "b").string(), "--no-mirrors"}).exit_code,
              0);
}

// A second plain registry stands for a mirror that holds an older v1 and the newer content by
// digest (as a mirror synchronised by digest would).
TEST(Mirrors, DigestOnlyMirrorsNeverAnswerForATag) {
    KARMOR_START_REGISTRY(upstream, RegistryConfig{});
    KARMOR_START_REGISTRY(mirror, RegistryConfig{});
    const auto reference = upstream->address() + "/team/policies:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", mirror->address() + "/team/policies:v1", "-p", policy_a}).exit_code, 0);
    const auto older = resolve_directly(mirror->address() + "/team/policies:v1");
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_b}).exit_code, 0);
    const auto newer = resolve_directly(reference);
    ASSERT_NE(older, newer);
    ASSERT_EQ(run_karmor({"oci", "copy", reference, mirror->address() + "/team/policies:synced"}).exit_code, 0);

    TempDir out;
    const Node digest_only(mirror_conf(*upstream, mirror->address(), "pull-from-mirror = \"digest-only\"\n"));
    const auto before = mirror->requests().size();
    const auto pulled =
        digest_only.karmor({"oci", "pull", "-i", reference, "-o", (out / "d").string(), "--output", "json"});
    ASSERT_EQ(pulled.exit_code, 0) << describe(pulled);
    EXPECT_EQ(nlohmann::json::parse(pulled.out)["digest"], newer);
    const auto log = mirror->requests();
    EXPECT_TRUE(tally(log, "HEAD /v2/team/policies/manifests/v1", before).empty());
    EXPECT_TRUE(tally(log, "GET /v2/team/policies/manifests/v1", before).empty());
    EXPECT_FALSE(tally(log, "GET /v2/team/policies/blobs/", before).empty()) << "content by digest";
    EXPECT_NE(pulled.err.find("through the mirror " + mirror->address()), std::string::npos) << pulled.err;

    // The same mirror allowed to answer for tags serves its older v1: the configuration decides.
    const Node all(mirror_conf(*upstream, mirror->address()));
    const auto stale = all.karmor({"oci", "resolve", "-i", reference});
    ASSERT_EQ(stale.exit_code, 0) << describe(stale);
    EXPECT_EQ(stale.out.substr(0, stale.out.find('\n')), older);

    // What the mirror has not got (404) the upstream serves, and the output says so.
    const auto elsewhere = upstream->address() + "/team/upstream-only:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", elsewhere, "-p", policy_a}).exit_code, 0);
    const auto missing = all.karmor({"oci", "pull", "-i", elsewhere, "-o", (out / "u").string()});
    ASSERT_EQ(missing.exit_code, 0) << describe(missing);
    EXPECT_NE(missing.err.find("Reading " + upstream->address() +
                               "/team/upstream-only from the registry itself: its mirrors have not got it"),
              std::string::npos)
        << missing.err;
    EXPECT_EQ(missing.err.find("failed"), std::string::npos) << missing.err;

    // The tag list is a question about tags too: the upstream's, unless the mirror may answer.
    const auto repository = upstream->address() + "/team/policies";
    const auto upstream_tags = digest_only.karmor({"oci", "tags", "-i", repository});
    ASSERT_EQ(upstream_tags.exit_code, 0) << describe(upstream_tags);
    EXPECT_EQ(upstream_tags.out, "v1\n");
    const auto mirror_tags = all.karmor({"oci", "tags", "-i", repository});
    ASSERT_EQ(mirror_tags.exit_code, 0) << describe(mirror_tags);
    EXPECT_NE(mirror_tags.out.find("synced"), std::string::npos) << mirror_tags.out;

    // A reference by digest skips a tag-only mirror.
    const Node tag_only(mirror_conf(*upstream, mirror->address(), "pull-from-mirror = \"tag-only\"\n"));
    const auto by_tag = tag_only.karmor({"oci", "resolve", "-i", reference});
    EXPECT_EQ(by_tag.out.substr(0, by_tag.out.find('\n')), older);
    const auto count = mirror->requests().size();
    const auto by_digest = tag_only.karmor(
        {"oci", "pull", "-i", upstream->address() + "/team/policies@" + newer, "-o", (out / "t").string()});
    ASSERT_EQ(by_digest.exit_code, 0) << describe(by_digest);
    EXPECT_EQ(mirror->requests().size(), count);
}

// A mirror that lies, scripted: a modified manifest, or a blob of another digest (the same length,
// one bit flipped), for what it is asked.
class LyingMirror {
public:
    enum class Lie { manifest, blob };

    LyingMirror(const std::string& upstream_reference, const std::string& repository) : repository_(repository) {
        RemoteOptions remote;
        auto reference = Reference::parse(upstream_reference);
        auto opened = ops::open_target(*reference, std::nullopt, remote, ops::Access::pull);
        auto fetched = opened->target->fetch_manifest(reference->tag());
        real_ = (*fetched)->bytes;
        real_digest_ = (*fetched)->digest.str();
        auto tampered = nlohmann::ordered_json::parse(real_);
        tampered["annotations"]["org.example.tampered"] = "yes";
        modified_ = tampered.dump();
        modified_digest_ = Digest::sha256_of(modified_).str();
        const auto& manifest = (*fetched)->manifest;
        const auto& config = *manifest.config;
        blobs_[config.digest.str()] = *opened->target->fetch_blob(config, 1 << 20, {});
        for (const auto& layer : manifest.layers)
            blobs_[layer.digest.str()] = *opened->target->fetch_blob(layer, 1 << 20, {});
        server_ = std::make_unique<testing::HttpServer>([this](const testing::ServedRequest& r) { return answer(r); });
    }
    void tell(Lie lie) { lie_ = lie; }
    std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
    const std::string& real_digest() const { return real_digest_; }
    const std::string& modified_digest() const { return modified_digest_; }

private:
    testing::ServedResponse answer(const testing::ServedRequest& request) {
        const std::string root = "/v2/" + repository_;
        const auto path = request.target.substr(0, request.target.find('?'));
        if (path == "/v2/") return {200, {{"Docker-Distribution-API-Version", "registry/2.0"}}, "{}"};
        if (path == root + "/manifests/v1" || path == root + "/manifests/" + real_digest_ ||
            path == root + "/manifests/" + modified_digest_) {
            const auto& bytes = lie_ == Lie::manifest ? modified_ : real_;
            return {200,
                    {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"},
                     {"Docker-Content-Digest", Digest::sha256_of(bytes).str()}},
                    bytes};
        }
        const auto blob = path.rfind(root + "/blobs/", 0) == 0 ? path.substr(root.size() + 7) : std::string();
        if (!blobs_.count(blob))
            return {404, {{"Content-Type", "application/json"}}, R"({"errors":[{"code":"BLOB_UNKNOWN"}]})"};
        auto bytes = blobs_[blob];
        if (lie_ == Lie::blob) bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
        return {200, {}, bytes};
        return {404, {{"Content-Type", "application/json"}}, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})"};
    }

    std::string repository_;
    std::string real_, real_digest_, modified_, modified_digest_;
    std::map<std::string, std::string> blobs_;
    std::atomic<Lie> lie_{Lie::manifest};
    std::unique_ptr<testing::HttpServer> server_;
};

TEST(Mirrors, ALyingMirrorIsRefusedAndNothingIsWritten) {
    KARMOR_START_REGISTRY(upstream, RegistryConfig{});
    TempDir work;
    const auto keys = make_key_pair(work);
    const auto reference = upstream->address() + "/team/policies:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a, "-p", policy_b}).exit_code, 0);
    ASSERT_EQ(run_karmor({"oci", "sign", "-i", reference, "--key", keys.key.string()}).exit_code, 0);
    LyingMirror liar(reference, "team/policies");
    const Node node(mirror_conf(*upstream, liar.address()));
    const auto by_digest = upstream->address() + "/team/policies@" + liar.real_digest();

    // Asked by digest, it sends a modified manifest: refused, and the error says which mirror.
    const auto manifest = node.karmor({"oci", "pull", "-i", by_digest, "-o", (work / "m").string()});
    EXPECT_EQ(manifest.exit_code, 3) << describe(manifest);
    EXPECT_NE(manifest.err.find("does not match the digest asked for"), std::string::npos) << manifest.err;
    EXPECT_NE(manifest.err.find("the mirror " + liar.address() + "/team/policies"), std::string::npos) << manifest.err;
    EXPECT_TRUE(empty_or_missing(work / "m"));

    // Asked for the tag, its modified manifest is what the tag names there; no signature names
    // that digest, so a verified pull or follow refuses it.
    const auto tag =
        node.karmor({"oci", "pull", "-i", reference, "-o", (work / "t").string(), "--verify-key", keys.pub.string()});
    EXPECT_EQ(tag.exit_code, 8) << describe(tag);
    EXPECT_NE(tag.err.find(liar.modified_digest()), std::string::npos) << tag.err;
    EXPECT_TRUE(empty_or_missing(work / "t"));
    const auto follow = node.karmor(
        {"oci", "follow", "-i", reference, "-o", (work / "f").string(), "--once", "--verify-key", keys.pub.string()});
    EXPECT_EQ(follow.exit_code, 8) << describe(follow);
    EXPECT_TRUE(empty_or_missing(work / "f"));

    // The manifest is right, a blob is another blob's bytes: refused.
    liar.tell(LyingMirror::Lie::blob);
    const auto blob = node.karmor({"oci", "pull", "-i", by_digest, "-o", (work / "b").string()});
    EXPECT_EQ(blob.exit_code, 3) << describe(blob);
    EXPECT_NE(blob.err.find("does not match its digest"), std::string::npos) << blob.err;
    EXPECT_NE(blob.err.find("--no-mirrors"), std::string::npos) << blob.err;
    EXPECT_TRUE(empty_or_missing(work / "b"));
    // The honest upstream, asked directly, serves it.
    EXPECT_EQ(node.karmor({"oci", "pull", "-i", by_digest, "-o", (work / "ok").string(), "--no-mirrors"}).exit_code, 0);
}

TEST_F(ThroughTheCache, ASignatureCopiedToAnotherRepositoryFailsOnIdentity) {
    const auto keys = make_key_pair(work);
    const auto signed_reference = upstream->address() + "/team/signed:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", signed_reference, "-p", policy_a}).exit_code, 0);
    ASSERT_EQ(run_karmor({"oci", "sign", "-i", signed_reference, "--key", keys.key.string()}).exit_code, 0);
    // The artifact and its signatures, copied as they are to another repository.
    const auto copied_reference = upstream->address() + "/team/copied:v1";
    ASSERT_EQ(run_karmor({"oci", "copy", "-r", signed_reference, copied_reference}).exit_code, 0);

    const Node node(mirror_conf(*upstream, mirror->address()));
    const auto honest = node.karmor({"oci", "verify", "-i", signed_reference, "--key", keys.pub.string()});
    EXPECT_EQ(honest.exit_code, 0) << describe(honest);
    EXPECT_NE(honest.err.find("through the mirror"), std::string::npos) << honest.err;
    const auto copied = node.karmor({"oci", "verify", "-i", copied_reference, "--key", keys.pub.string()});
    EXPECT_EQ(copied.exit_code, 8) << describe(copied);
    EXPECT_NE(copied.err.find("through the mirror " + mirror->address() + "/team/copied"), std::string::npos)
        << copied.err;
    EXPECT_NE(copied.err.find(upstream->address() + "/team/signed"), std::string::npos)
        << "names the repository it was signed for: " << copied.err;
    const auto pulled = node.karmor(
        {"oci", "pull", "-i", copied_reference, "-o", (work / "copied").string(), "--verify-key", keys.pub.string()});
    EXPECT_EQ(pulled.exit_code, 8) << describe(pulled);
    EXPECT_TRUE(empty_or_missing(work / "copied"));
}

TEST(Mirrors, SkopeoAndKarmorReadTheSameMirrorFromOneRegistriesConf) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    KARMOR_START_REGISTRY(upstream, RegistryConfig{});
    KARMOR_START_REGISTRY(mirror, RegistryConfig{});
    const auto reference = upstream->address() + "/team/policies:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    ASSERT_EQ(run_karmor({"oci", "push", "-i", mirror->address() + "/team/policies:v1", "-p", policy_b}).exit_code, 0);
    const auto at_mirror = resolve_directly(mirror->address() + "/team/policies:v1");
    ASSERT_NE(at_mirror, resolve_directly(reference));

    // Plain HTTP on loopback: containers tools need `insecure` for it; karmor's loopback rule does too.
    const Node node("[[registry]]\nlocation = \"" + upstream->address() + "\"\ninsecure = true\n\n" +
                    "[[registry.mirror]]\nlocation = \"" + mirror->address() + "\"\ninsecure = true\n");
    const auto before = mirror->count_requests("GET /v2/team/policies/manifests/v1");
    // skopeo 1.9 (Debian 12) reads the file from --registries-conf (later versions also from
    // CONTAINERS_REGISTRIES_CONF, which karmor reads).
    const auto raw = run_command({"skopeo", "--registries-conf", (node.dir / "registries.conf").string(), "inspect",
                                  "--raw", "docker://" + reference},
                                 {}, node.env);
    ASSERT_EQ(raw.exit_code, 0) << describe(raw);
    auto manifest = raw.out;
    while (!manifest.empty() && manifest.back() == '\n') manifest.pop_back();
    EXPECT_EQ(Digest::sha256_of(manifest).str(), at_mirror) << "skopeo read the mirror's v1";
    EXPECT_GT(mirror->count_requests("GET /v2/team/policies/manifests/v1"), before);

    const auto resolved = node.karmor({"oci", "resolve", "-i", reference});
    ASSERT_EQ(resolved.exit_code, 0) << describe(resolved);
    EXPECT_EQ(resolved.out.substr(0, resolved.out.find('\n')), at_mirror) << "karmor read the same";
    const auto inspected = node.karmor({"oci", "inspect", "-i", reference, "--output", "json"});
    ASSERT_EQ(inspected.exit_code, 0) << describe(inspected);
    EXPECT_EQ(nlohmann::json::parse(inspected.out)["digest"], at_mirror);
}

TEST_F(ThroughTheCache, ContainerdHostsTomlFromTheHostsDirectory) {
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    Node node("");
    const auto hosts = node.dir / "hosts";
    write_text(hosts / upstream->address() / "hosts.toml", "server = \"http://" + upstream->address() +
                                                               "\"\n\n[host.\"http://" + mirror->address() +
                                                               "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
    TempDir out;
    const auto by_flag =
        node.karmor({"oci", "pull", "-i", reference, "-o", (out / "a").string(), "--hosts-dir", hosts.string()});
    ASSERT_EQ(by_flag.exit_code, 0) << describe(by_flag);
    EXPECT_NE(by_flag.err.find("Reading " + upstream->address() + "/team/policies through the mirror " +
                               mirror->address() + "/team/policies (" + (hosts / upstream->address()).string() +
                               "/hosts.toml:3)"),
              std::string::npos)
        << by_flag.err;
    // containerd names the upstream to the mirror with ?ns=.
    EXPECT_GT(mirror->count_requests("GET /v2/team/policies/manifests/v1?ns=127.0.0.1%3A"), 0u);

    node.env["KARMOR_HOSTS_DIR"] = hosts.string();
    const auto by_environment = node.karmor({"oci", "inspect", "-i", reference});
    ASSERT_EQ(by_environment.exit_code, 0) << describe(by_environment);
    EXPECT_NE(by_environment.err.find("through the mirror " + mirror->address()), std::string::npos)
        << by_environment.err;
}

// A cache with a certificate from a private CA: hosts.toml's `ca` adds that CA (the system's stay),
// `skip_verify` and registries.conf's `insecure` skip the check; without either, the mirror's
// certificate does not verify and the upstream serves.
TEST(Mirrors, AMirrorsTlsSettingsAreItsConfigurations) {
    KARMOR_START_REGISTRY(upstream, RegistryConfig{});
    RegistryConfig private_ca;
    private_ca.proxy_remote_url = "http://" + upstream->address();
    private_ca.tls = true;
    KARMOR_START_REGISTRY(mirror, private_ca);
    const auto reference = upstream->address() + "/team/policies:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    const auto through = "through the mirror " + mirror->address() + "/team/policies";
    TempDir out;

    const Node untrusted(mirror_conf(*upstream, mirror->address()));
    const auto refused = untrusted.karmor({"oci", "pull", "-i", reference, "-o", (out / "a").string()});
    ASSERT_EQ(refused.exit_code, 0) << describe(refused);
    EXPECT_NE(refused.err.find("certificate did not verify"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("from the registry itself"), std::string::npos) << refused.err;

    const Node insecure(mirror_conf(*upstream, mirror->address(), "insecure = true\n"));
    const auto skipped = insecure.karmor({"oci", "pull", "-i", reference, "-o", (out / "b").string()});
    ASSERT_EQ(skipped.exit_code, 0) << describe(skipped);
    EXPECT_NE(skipped.err.find(through), std::string::npos) << skipped.err;

    for (const std::string setting : {"ca = \"mirror-ca.pem\"", "skip_verify = true"}) {
        Node node("");
        const auto directory = node.dir / "certs.d" / upstream->address();
        std::filesystem::create_directories(directory);
        std::filesystem::copy_file(mirror->ca_file(), directory / "mirror-ca.pem");
        write_text(directory / "hosts.toml", "[host.\"https://" + mirror->address() + "\"]\n  " + setting + "\n");
        const auto pulled = node.karmor({"oci", "pull", "-i", reference, "-o", (out / setting.substr(0, 2)).string()});
        ASSERT_EQ(pulled.exit_code, 0) << setting << ": " << describe(pulled);
        EXPECT_NE(pulled.err.find(through), std::string::npos) << setting << ": " << pulled.err;
        EXPECT_EQ(pulled.err.find("failed"), std::string::npos) << setting << ": " << pulled.err;
    }
}

TEST(Mirrors, AMirrorsCredentialsAreItsOwn) {
    KARMOR_START_REGISTRY(upstream, RegistryConfig{});
    RegistryConfig guarded;
    guarded.proxy_remote_url = "http://" + upstream->address();
    guarded.user = "mirror-user";
    guarded.password = "mirror-secret";
    KARMOR_START_REGISTRY(mirror, guarded);
    const auto reference = upstream->address() + "/team/policies:v1";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    const Node node(mirror_conf(*upstream, mirror->address()));
    TempDir out;

    // Without credentials for the mirror's host, the mirror refuses and the upstream serves.
    const auto refused = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "a").string()});
    ASSERT_EQ(refused.exit_code, 0) << describe(refused);
    EXPECT_NE(refused.err.find("Mirror " + mirror->address() + "/team/policies failed ("), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("requires authentication"), std::string::npos) << refused.err;

    // Stored for the mirror's host (karmor oci login), they are sent to the mirror, which serves.
    const auto login =
        node.karmor({"oci", "login", mirror->address(), "-u", "mirror-user", "--password-stdin"}, "mirror-secret\n");
    ASSERT_EQ(login.exit_code, 0) << describe(login);
    const auto pulled = node.karmor({"oci", "pull", "-i", reference, "-o", (out / "b").string()});
    ASSERT_EQ(pulled.exit_code, 0) << describe(pulled);
    EXPECT_NE(pulled.err.find("through the mirror " + mirror->address()), std::string::npos) << pulled.err;
    EXPECT_EQ(pulled.err.find("failed"), std::string::npos) << pulled.err;
}

// The fleet of issue 25: 200 nodes follow one tag through one pull-through cache; after a change
// every node applies it, and the upstream sees the new manifest and each new blob once.
TEST_F(ThroughTheCache, AFleetOf200FollowersCostsTheUpstreamOneFetchPerChange) {
    reference = upstream->address() + "/fleet/policies:stable";
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a}).exit_code, 0);
    const Node node(mirror_conf(*upstream, mirror->address()));
    TempDir fleet;
    constexpr int followers = 200;
    constexpr int concurrency = 8;

    // Runs `--once` for followers [first, last), `concurrency` at a time; the failures' outputs.
    const auto round = [&](int first, int last) {
        std::atomic<int> next{first};
        std::mutex mutex;
        std::vector<std::string> failures;
        std::vector<std::thread> workers;
        for (int w = 0; w < concurrency; ++w)
            workers.emplace_back([&] {
                for (int i = next++; i < last; i = next++) {
                    const auto r = node.karmor({"oci", "follow", "-i", reference, "-o",
                                                (fleet / ("node-" + std::to_string(i))).string(), "--once"});
                    if (r.exit_code != 0) {
                        std::lock_guard lock(mutex);
                        failures.push_back(describe(r));
                    }
                }
            });
        for (auto& worker : workers) worker.join();
        return failures;
    };
    ASSERT_EQ(round(0, followers), std::vector<std::string>());

    // The change.
    ASSERT_EQ(run_karmor({"oci", "push", "-i", reference, "-p", policy_a, "-p", policy_b}).exit_code, 0);
    const auto changed = resolve_directly(reference);
    const auto before = upstream->requests().size();
    const auto started = std::chrono::steady_clock::now();
    // The first node to wake fills the cache; the others follow, `concurrency` at a time.
    ASSERT_EQ(round(0, 1), std::vector<std::string>());
    const auto filled = upstream->requests().size();
    ASSERT_EQ(round(1, followers), std::vector<std::string>());
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    for (int i = 0; i < followers; i += 37) {
        const auto current = std::filesystem::read_symlink(fleet / ("node-" + std::to_string(i)));
        EXPECT_EQ(current.filename().string(), changed.substr(7)) << "node " << i;
    }
    const auto log = upstream->requests();
    // One manifest and one layer crossed from the upstream for the whole fleet (the layer twice:
    // Distribution streams a missed blob and stores it with two fetches); the 199 nodes after the
    // first cost the upstream only the cache's question of what the tag names now. The stored
    // copy's fetch may still run after the first node is done (seen under load): after that
    // node, only that same layer may cross, within its two fetches over the whole round.
    const auto manifests = tally(log, "GET /v2/fleet/policies/manifests/", before);
    EXPECT_EQ(manifests.size(), 1u);
    for (const auto& [request, count] : manifests) EXPECT_EQ(count, 1) << request;
    const auto blobs = tally(log, "GET /v2/fleet/policies/blobs/", before);
    EXPECT_EQ(blobs.size(), 1u) << "one new layer (pull does not read the config)";
    for (const auto& [request, count] : blobs) EXPECT_LE(count, 2) << request;
    const auto first_node_blobs =
        tally(std::vector<std::string>(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(filled)),
              "GET /v2/fleet/policies/blobs/", before);
    for (const auto& [request, count] : tally(log, "GET /v2/fleet/policies/blobs/", filled))
        EXPECT_TRUE(first_node_blobs.contains(request) && first_node_blobs.at(request) + count <= 2)
            << request << " crossed " << count << " more time(s) after the first node filled the cache";
    EXPECT_EQ(tally(log, "GET /v2/fleet/policies/manifests/", filled), (std::map<std::string, int>{}));
    std::cout << "[ fleet ] " << followers << " follow --once after one change, " << concurrency
              << " at a time, through one pull-through cache: " << seconds << " s; the upstream saw "
              << log.size() - before << " requests:";
    for (const auto& [request, count] : tally(log, "", before)) std::cout << "\n  " << count << " x " << request;
    std::cout << std::endl;
}

}  // namespace
}  // namespace karmor
