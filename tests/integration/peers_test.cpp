// SPEC §13: karmor against the tools people use, through the real binary. ORAS v1.3.6 as the
// independent client, against docker-registry 2.8 (no referrers API: the fallback tag) and
// go-containerregistry v0.22.1's registry with the referrers API. The peers come from
// scripts/peers.sh (support/peers.hpp says how a missing one fails the test).
#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace karmor
