// SPEC §11 copy -r, save and load through the binary, between real docker-registry
// instances: an image with two attached KubeArmor artifacts, an SBOM-like referrer and
// cosign-style `.sig` tags arrives with the same digests, the fallback tag is rebuilt at the
// destination, same-registry copies mount, and a copy of what is already there sends nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <set>

#include "bundle/archive.hpp"
#include "ops/referrers_index.hpp"
#include "support/local_registry.hpp"
#include "support/peers.hpp"
#include "support/process.hpp"
#include "support/scripted_registry.hpp"
#include "support/test_images.hpp"

namespace karmor {
namespace {

using testing::read_text;
using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;

std::string ksp(const std::string& name, const std::string& action) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: " + name +
           "\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: cart\n"
           "  process:\n    matchPaths:\n      - path: /bin/" +
           name + "\n  action: " + action + "\n";
}

std::vector<std::string> since(const testing::LocalRegistry& registry, std::size_t mark) {
    const auto all = registry.requests();
    return {all.begin() + static_cast<std::ptrdiff_t>(std::min(mark, all.size())), all.end()};
}

std::size_t count_matching(const std::vector<std::string>& requests, const std::string& method,
                           const std::string& fragment) {
    return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [&](const std::string& r) {
        return r.rfind(method + " ", 0) == 0 && r.find(fragment) != std::string::npos;
    }));
}

// A cosign-style legacy signature manifest (SPEC §9) for `signed_digest`, stored under the tag
// sha256-<hex>.sig by hand, as cosign ≤ 2 would.
Digest push_sig_tag(oci::RegistryClient& client, const std::string& repository, const Digest& signed_digest) {
    const std::string payload = R"({"critical":{"identity":{"docker-reference":")" + repository +
                                R"("},"image":{"docker-manifest-digest":")" + signed_digest.str() +
                                R"("},"type":"cosign container image signature"},"optional":null})";
    const std::string config = "{}";
    Manifest m;
    m.media_type = media_type::oci_manifest;
    m.config = testing::describe_bytes(media_type::oci_image_config, config);
    auto layer = testing::describe_bytes("application/vnd.dev.cosign.simplesigning.v1+json", payload);
    layer.annotations["dev.cosignproject.cosign/signature"] = "MEUCIQDtest";
    m.layers = {layer};
    EXPECT_TRUE(client.upload_blob(*m.config, config));
    EXPECT_TRUE(client.upload_blob(layer, payload));
    const auto bytes = oci::serialize_manifest(m);
    EXPECT_TRUE(client.put_manifest(ops::referrers_tag(signed_digest) + ".sig", media_type::oci_manifest, bytes));
    return Digest::sha256_of(bytes);
}

struct Source {
    std::unique_ptr<oci::HttpTransport> transport = oci::make_curl_transport({});
    std::unique_ptr<oci::RegistryClient> client;
    Descriptor image;
    std::string image_ref;
    std::vector<Digest> attached;  // oldest first
    Digest sbom;
    Digest image_sig;
    Digest artifact_sig;
};

// shop/cart:1.4 with two attached KubeArmor artifacts, an SBOM, and .sig tags for the image and
// for the newer artifact.
std::unique_ptr<Source> make_source(const testing::LocalRegistry& registry, const TempDir& work) {
    auto s = std::make_unique<Source>();
    s->image_ref = registry.localhost() + "/shop/cart:1.4";
    oci::ClientOptions options;
    options.push_access = true;
    s->client = std::make_unique<oci::RegistryClient>(*Reference::parse(s->image_ref), options, *s->transport);
    s->image = testing::push_test_image(*s->client, "1.4", "cart");
    int epoch = 1700000000;
    for (const char* action : {"Audit", "Block"}) {
        const auto file = work / (std::string(action) + ".yaml");
        write_text(file, ksp("block-sh", action));
        auto push = run_karmor({"oci", "push", "--attach", "-i", s->image_ref, "-p", file.string()}, {},
                               {{"SOURCE_DATE_EPOCH", std::to_string(epoch++)}});
        EXPECT_EQ(push.exit_code, 0) << push.err;
        s->attached.push_back(*Digest::parse(push.out.substr(0, push.out.find('\n'))));
    }
    const auto sbom = testing::push_test_sbom(*s->client, s->image, "2030-01-01T00:00:00Z");
    s->sbom = Digest::sha256_of(sbom);
    // The SBOM goes into the fallback index too, as the other tool would have done.
    auto index = s->client->fetch_manifest(ops::referrers_tag(s->image.digest));
    EXPECT_TRUE(index && *index);
    auto with_sbom = ops::add_to_referrers_index(
        (*index)->bytes,
        ops::referrer_descriptor(*oci::parse_manifest(sbom, media_type::oci_manifest, "sbom"), s->sbom,
                                 static_cast<std::int64_t>(sbom.size())),
        "test");
    EXPECT_TRUE(with_sbom && *with_sbom);
    EXPECT_TRUE(s->client->put_manifest(ops::referrers_tag(s->image.digest), media_type::oci_index, **with_sbom));
    s->image_sig = push_sig_tag(*s->client, registry.localhost() + "/shop/cart", s->image.digest);
    s->artifact_sig = push_sig_tag(*s->client, registry.localhost() + "/shop/cart", s->attached.back());
    return s;
}

std::string resolve(const std::string& reference) {
    auto r = run_karmor({"oci", "resolve", "-i", reference});
    return r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "exit " + std::to_string(r.exit_code) + ": " + r.err;
}

// What inspect says about the image, without the parts that name where it is.
nlohmann::json inspect_attached(const std::string& reference) {
    auto r = run_karmor({"oci", "inspect", "-i", reference, "--output", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    if (!json.is_object()) return {};
    return {{"digest", json["digest"]}, {"kind", json["kind"]}, {"attached", json["attached"]}};
}

std::string pull_text(const std::string& reference) {
    auto r = run_karmor({"oci", "pull", "-i", reference, "-o", "-"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
}

nlohmann::json fallback_index(const std::string& repository, const Digest& subject) {
    auto transport = oci::make_curl_transport({});
    oci::RegistryClient client(*Reference::parse(repository), {}, *transport);
    auto fetched = client.fetch_manifest(ops::referrers_tag(subject));
    if (!fetched || !*fetched) return {};
    return nlohmann::json::parse((*fetched)->bytes);
}

std::set<std::string> digests_in(const nlohmann::json& index) {
    std::set<std::string> out;
    if (index.is_object())
        for (const auto& m : index["manifests"]) out.insert(m["digest"].get<std::string>());
    return out;
}

void expect_same_graph(const Source& s, const std::string& source_repo, const std::string& destination_repo) {
    EXPECT_EQ(resolve(destination_repo + ":1.4"), s.image.digest.str());
    EXPECT_EQ(pull_text(destination_repo + ":1.4"), pull_text(source_repo + ":1.4"));
    EXPECT_EQ(inspect_attached(destination_repo + ":1.4"), inspect_attached(source_repo + ":1.4"));
    EXPECT_EQ(digests_in(fallback_index(destination_repo, s.image.digest)),
              (std::set<std::string>{s.attached[0].str(), s.attached[1].str(), s.sbom.str()}));
    EXPECT_EQ(resolve(destination_repo + "@" + s.sbom.str()), s.sbom.str());
    EXPECT_EQ(resolve(destination_repo + ":" + ops::referrers_tag(s.image.digest) + ".sig"), s.image_sig.str());
    EXPECT_EQ(resolve(destination_repo + ":" + ops::referrers_tag(s.attached[1]) + ".sig"), s.artifact_sig.str());
}

TEST(MovingCopy, RecursiveCopyBetweenTwoRegistriesKeepsEverythingAndSendsNothingTheSecondTime) {
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    KARMOR_START_REGISTRY(b, testing::RegistryConfig{});
    TempDir work;
    const auto s = make_source(*a, work);
    const std::string from = a->localhost() + "/shop/cart";
    const std::string to = b->localhost() + "/shop/cart";

    auto copy = run_karmor({"oci", "copy", "-r", from + ":1.4", to, "--output", "json"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    const auto stats = nlohmann::json::parse(copy.out)["stats"];
    EXPECT_EQ(stats["referrers"], 3) << copy.out;
    EXPECT_EQ(stats["signatureTags"], 2) << copy.out;
    expect_same_graph(*s, from, to);

    // ORAS, an independent client, sees at the destination what is attached at the source.
    KARMOR_REQUIRE_PEER(oras, "oras");
    const auto discovered = [&](const std::string& reference) {
        auto listed = run_command({oras.string(), "discover", "--plain-http", "--format", "json", reference});
        EXPECT_EQ(listed.exit_code, 0) << listed.err;
        std::set<std::string> digests;
        if (listed.exit_code != 0) return digests;
        const auto document = nlohmann::json::parse(listed.out);
        for (const auto& entry : document.value("referrers", nlohmann::json::array()))
            digests.insert(entry.value("digest", ""));
        return digests;
    };
    const auto at_source = discovered(a->address() + "/shop/cart:1.4");
    EXPECT_EQ(at_source.size(), 3u);
    EXPECT_EQ(discovered(b->address() + "/shop/cart:1.4"), at_source);

    // Everything is there now: a second copy -r reads, compares and sends nothing.
    const auto mark_a = a->requests().size();
    const auto mark_b = b->requests().size();
    auto again = run_karmor({"oci", "copy", "-r", from + ":1.4", to + ":1.4", "--output", "json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const auto at_a = since(*a, mark_a);
    const auto at_b = since(*b, mark_b);
    EXPECT_EQ(count_matching(at_b, "PUT", ""), 0u);
    EXPECT_EQ(count_matching(at_b, "POST", ""), 0u);
    EXPECT_EQ(count_matching(at_b, "PATCH", ""), 0u);
    EXPECT_EQ(count_matching(at_a, "GET", "/blobs/"), 0u) << "no blob is read when the destination has it";
    const auto again_stats = nlohmann::json::parse(again.out)["stats"];
    EXPECT_EQ(again_stats["manifestsCopied"], 0);
    EXPECT_EQ(again_stats["blobsCopied"], 0);
    std::cout << "[ report   ] copy -r with everything already at the destination: " << at_a.size()
              << " requests to the source, " << at_b.size() << " to the destination, " << (at_a.size() + at_b.size())
              << " in all\n";
    for (const auto& r : at_a) std::cout << "[ source   ] " << r << "\n";
    for (const auto& r : at_b) std::cout << "[ dest     ] " << r << "\n";
}

// SPEC §9 "Signatures travel with the artifact": what `karmor oci sign` wrote in both formats
// comes along with copy -r and with save/load, and still verifies at the destination (as a
// mirror of the signed repository: --signed-identity names the source).
TEST(MovingCopy, SignaturesInBothFormatsStillVerifyAfterCopyAndSaveLoad) {
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    KARMOR_START_REGISTRY(b, testing::RegistryConfig{});
    KARMOR_START_REGISTRY(c, testing::RegistryConfig{});
    TempDir work;
    const auto key = work.path() / "signer.key";
    const auto pub = work.path() / "signer.pub";
    ASSERT_EQ(run_command({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                           key.string()})
                  .exit_code,
              0);
    ASSERT_EQ(run_command({"openssl", "pkey", "-in", key.string(), "-pubout", "-out", pub.string()}).exit_code, 0);
    write_text(work.path() / "p.yaml", ksp("block-sh", "Block"));

    const std::string source = a->localhost() + "/team/policies";
    auto push = run_karmor(
        {"oci", "push", source + ":v1", "-p", (work.path() / "p.yaml").string(), "--sign", key.string(), "-q"});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    auto verify_at = [&](const std::string& reference) {
        return run_karmor(
            {"oci", "verify", "-i", reference, "--key", pub.string(), "--signed-identity", source, "--output", "json"});
    };

    const std::string copied = b->localhost() + "/mirror/policies";
    auto copy = run_karmor({"oci", "copy", "-r", source + ":v1", copied + ":v1"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    auto verified = verify_at(copied + ":v1");
    ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    std::set<std::string> formats;
    const auto verified_json = nlohmann::json::parse(verified.out);
    for (const auto& s : verified_json["signatures"])
        if (s.value("verified", false)) formats.insert(s.value("format", ""));
    EXPECT_EQ(formats, (std::set<std::string>{"legacy", "bundle"})) << verified.out;
    // Without --signed-identity the mirror is not the repository that was signed: refused.
    auto unnamed = run_karmor({"oci", "verify", "-i", copied + ":v1", "--key", pub.string()});
    EXPECT_EQ(unnamed.exit_code, 8) << unnamed.err;

    const auto archive = work.path() / "policies.tar";
    auto save = run_karmor({"oci", "save", "-i", source + ":v1", "-o", archive.string(), "-r"});
    ASSERT_EQ(save.exit_code, 0) << save.err;
    a.reset();  // the source is gone: only the archive crosses the gap
    const std::string loaded = c->localhost() + "/inside/policies";
    auto load = run_karmor({"oci", "load", "-i", archive.string(), "--to", loaded});
    ASSERT_EQ(load.exit_code, 0) << load.err;
    auto after_load = verify_at(loaded + ":v1");
    ASSERT_EQ(after_load.exit_code, 0) << after_load.out << after_load.err;
    formats.clear();
    const auto after_load_json = nlohmann::json::parse(after_load.out);
    for (const auto& s : after_load_json["signatures"])
        if (s.value("verified", false)) formats.insert(s.value("format", ""));
    EXPECT_EQ(formats, (std::set<std::string>{"legacy", "bundle"})) << after_load.out;
}

TEST(MovingCopy, ToARegistryWithTheReferrersApiWritesNoFallbackTag) {
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    testing::ScriptedRegistry b(testing::ScriptedRegistryOptions{});
    ASSERT_TRUE(b.running());
    TempDir work;
    const auto s = make_source(*a, work);
    auto copy = run_karmor({"oci", "copy", "-r", a->localhost() + "/shop/cart:1.4", b.address() + "/shop/cart",
                            "--plain-http", "--output", "json"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    const auto stats = nlohmann::json::parse(copy.out)["stats"];
    EXPECT_EQ(stats["referrers"], 3);
    EXPECT_EQ(stats["fallbackTagEntries"], 0) << "the registry indexes referrers itself";
    const auto tags = b.tags("shop/cart");
    EXPECT_EQ(std::count(tags.begin(), tags.end(), ops::referrers_tag(s->image.digest)), 0);
    EXPECT_EQ(std::count(tags.begin(), tags.end(), ops::referrers_tag(s->image.digest) + ".sig"), 1);
    ASSERT_TRUE(b.manifest("shop/cart", "1.4"));
    EXPECT_TRUE(s->image.digest.matches(*b.manifest("shop/cart", "1.4")));
    // What the referrers API lists there is what was attached at the source.
    auto listed =
        run_karmor({"oci", "inspect", "-i", b.address() + "/shop/cart:1.4", "--plain-http", "--output", "json"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    std::set<std::string> attached;
    const auto inspected = nlohmann::json::parse(listed.out);
    for (const auto& a_entry : inspected["attached"]) attached.insert(a_entry["digest"].get<std::string>());
    EXPECT_EQ(attached, (std::set<std::string>{s->attached[0].str(), s->attached[1].str()})) << listed.out;
    for (const auto& d : {s->attached[0], s->attached[1], s->sbom})
        EXPECT_TRUE(b.manifest("shop/cart", d.str())) << d.str();
}

TEST(MovingCopy, CopyOfAnArtifactWhoseBlobsExistSendsNoBlob) {
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    KARMOR_START_REGISTRY(b, testing::RegistryConfig{});
    TempDir work;
    write_text(work / "p.yaml", ksp("block-sh", "Block"));
    for (const auto* registry : {a.get(), b.get()}) {
        auto push = run_karmor(
            {"oci", "push", "-i", registry->localhost() + "/team/policies:v1", "-p", (work / "p.yaml").string()}, {},
            {{"SOURCE_DATE_EPOCH", "1700000000"}});
        ASSERT_EQ(push.exit_code, 0) << push.err;
    }
    // The same policies under another tag and another creation time: a new manifest, same blobs.
    auto push =
        run_karmor({"oci", "push", "-i", a->localhost() + "/team/policies:v2", "-p", (work / "p.yaml").string()}, {},
                   {{"SOURCE_DATE_EPOCH", "1750000000"}});
    ASSERT_EQ(push.exit_code, 0) << push.err;
    const auto mark = b->requests().size();
    auto copy = run_karmor({"oci", "copy", "-r", a->localhost() + "/team/policies:v2",
                            b->localhost() + "/team/policies", "--output", "json"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    const auto at_b = since(*b, mark);
    EXPECT_EQ(count_matching(at_b, "POST", "/blobs/"), 0u);
    EXPECT_EQ(count_matching(at_b, "PUT", "/blobs/"), 0u);
    EXPECT_EQ(count_matching(at_b, "PUT", "/manifests/v2"), 1u);
    const auto stats = nlohmann::json::parse(copy.out)["stats"];
    EXPECT_EQ(stats["blobsPresent"], 2);
    EXPECT_EQ(stats["blobsCopied"], 0);
    std::cout << "[ report   ] copy -r of a new manifest whose blobs exist: " << at_b.size()
              << " requests to the destination\n";
    EXPECT_EQ(resolve(b->localhost() + "/team/policies:v2"), resolve(a->localhost() + "/team/policies:v2"));
}

TEST(MovingCopy, CopyWithinOneRegistryMountsBlobs) {
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    TempDir work;
    const auto s = make_source(*a, work);
    const auto mark = a->requests().size();
    auto copy = run_karmor(
        {"oci", "copy", "-r", a->localhost() + "/shop/cart:1.4", a->localhost() + "/prod/cart", "--output", "json"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    const auto during = since(*a, mark);
    EXPECT_GT(count_matching(during, "POST", "/v2/prod/cart/blobs/uploads/?mount=sha256"), 0u);
    for (const auto& r : during) {
        if (r.rfind("POST", 0) == 0) {
            EXPECT_NE(r.find("from=shop"), std::string::npos) << r;
        }
        EXPECT_FALSE(r.rfind("PUT", 0) == 0 && r.find("/blobs/") != std::string::npos) << "a blob was uploaded: " << r;
        EXPECT_NE(r.rfind("PATCH", 0), 0u) << r;
    }
    const auto stats = nlohmann::json::parse(copy.out)["stats"];
    EXPECT_GT(stats["blobsMounted"].get<int>(), 0);
    EXPECT_EQ(stats["blobsCopied"], 0);
    expect_same_graph(*s, a->localhost() + "/shop/cart", a->localhost() + "/prod/cart");
}

TEST(MovingCopy, ThroughAnOciLayoutAndBack) {
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    KARMOR_START_REGISTRY(b, testing::RegistryConfig{});
    TempDir work;
    const auto s = make_source(*a, work);
    const auto dir = (work / "airgap").string();
    auto out = run_karmor({"oci", "copy", "-r", a->localhost() + "/shop/cart:1.4", "--to-oci-layout", dir + ":1.4"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_EQ(out.out, s->image.digest.str() + "\n");
    auto back = run_karmor({"oci", "copy", "-r", "--from-oci-layout", dir + ":1.4", b->localhost() + "/shop/cart:1.4"});
    ASSERT_EQ(back.exit_code, 0) << back.err;
    expect_same_graph(*s, a->localhost() + "/shop/cart", b->localhost() + "/shop/cart");
}

TEST(MovingSaveLoad, SaveThenLoadIntoAnEmptyRegistryWithTheSourceStopped) {
    KARMOR_REQUIRE_PROGRAM("skopeo");
    KARMOR_START_REGISTRY(a, testing::RegistryConfig{});
    KARMOR_START_REGISTRY(c, testing::RegistryConfig{});
    TempDir work;
    const auto s = make_source(*a, work);
    const std::string from = a->localhost() + "/shop/cart";
    const auto before_pull = pull_text(from + ":1.4");
    const auto before_inspect = inspect_attached(from + ":1.4");
    const auto tar = (work / "cart.tar").string();

    auto save = run_karmor({"oci", "save", "-r", "-i", from + ":1.4", "-o", tar});
    ASSERT_EQ(save.exit_code, 0) << save.err;
    EXPECT_EQ(save.out, s->image.digest.str() + "  1.4\n");

    // skopeo reads the tar as an oci-archive: the same manifest bytes, and a copy out of it.
    auto raw = run_command({"skopeo", "inspect", "--raw", "oci-archive:" + tar + ":1.4"});
    ASSERT_EQ(raw.exit_code, 0) << raw.err;
    EXPECT_TRUE(s->image.digest.matches(raw.out)) << raw.out;
    auto skopeo_copy = run_command({"skopeo", "copy", "oci-archive:" + tar + ":1.4", "dir:" + (work / "d").string()});
    EXPECT_EQ(skopeo_copy.exit_code, 0) << skopeo_copy.err;

    a.reset();  // the source is gone: load needs nothing but the tar
    auto load = run_karmor({"oci", "load", "-i", tar, "--to", c->localhost() + "/mirror/cart"});
    ASSERT_EQ(load.exit_code, 0) << load.err;
    const std::string to = c->localhost() + "/mirror/cart";
    EXPECT_EQ(resolve(to + ":1.4"), s->image.digest.str());
    EXPECT_EQ(pull_text(to + ":1.4"), before_pull);
    EXPECT_EQ(inspect_attached(to + ":1.4"), before_inspect);
    EXPECT_EQ(digests_in(fallback_index(to, s->image.digest)),
              (std::set<std::string>{s->attached[0].str(), s->attached[1].str(), s->sbom.str()}));
    EXPECT_EQ(resolve(to + ":" + ops::referrers_tag(s->image.digest) + ".sig"), s->image_sig.str());
    EXPECT_EQ(resolve(to + ":" + ops::referrers_tag(s->attached[1]) + ".sig"), s->artifact_sig.str());
}

TEST(MovingSaveLoad, LoadRefusesUnsafeArchives) {
    TempDir work;
    const auto write_archive = [&](const std::string& file, const std::string& name) {
        auto tar = bundle::write_tar({{name, "{}"}}, 0);
        ASSERT_TRUE(tar);
        write_text(work / file, *tar);
    };
    write_archive("evil.tar", "../index.json");
    auto load = run_karmor({"oci", "load", "-i", (work / "evil.tar").string(), "--to", "localhost:1/x/y"});
    EXPECT_EQ(load.exit_code, 3) << load.err;
    EXPECT_NE(load.err.find(".."), std::string::npos) << load.err;
    EXPECT_FALSE(std::filesystem::exists(work.path().parent_path() / "index.json"));

    write_archive("other.tar", "notes.txt");
    auto other = run_karmor({"oci", "load", "-i", (work / "other.tar").string(), "--to", "localhost:1/x/y"});
    EXPECT_EQ(other.exit_code, 3) << other.err;
    EXPECT_NE(other.err.find("not part of an OCI image layout"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace karmor
