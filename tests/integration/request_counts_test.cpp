// Issue 26 goal 5: requests of sign and verify, counted from a real registry's own request log
// on both kinds of registry, so that a change which reads or writes an object twice fails here.
// The bounds are what karmor sends today; docs/benchmarks.md ("Requests of sign and verify")
// gives the request-by-request list and the floor of each registry kind.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "support/referrers_registry.hpp"

namespace karmor {
namespace {

using testing::RegistryKind;
using testing::run_karmor;
using testing::TempDir;

const std::string policy =
    (std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies" / "ksp-block-shell.yaml").string();

struct Bounds {
    std::size_t legacy, bundle, both, verify;
};

// docker-registry takes no single-request upload (a POST with the blob answers 202), so every
// blob costs a POST and a PUT; without the referrers API the bundle also costs the API's 404 and
// the fallback tag's re-read before and read-back after its PUT.
Bounds bounds_for(RegistryKind kind) {
    if (kind == RegistryKind::referrers_api) return {5, 6, 10, 7};
    return {7, 12, 18, 7};
}

class RequestCounts : public ::testing::TestWithParam<RegistryKind> {};

TEST_P(RequestCounts, SignAndVerifyReadAndWriteEachObjectOnce) {
    KARMOR_START_TEST_REGISTRY(registry, GetParam());
    TempDir dir;
    const std::map<std::string, std::string> env{{"KARMOR_PASSWORD", ""}};
    const auto prefix = (dir / "signer").string();
    ASSERT_EQ(run_karmor({"oci", "key", "generate", "--output-key-prefix", prefix}, {}, env).exit_code, 0);

    const auto bounds = bounds_for(GetParam());
    const std::map<std::string, std::size_t> sign_bounds{
        {"legacy", bounds.legacy}, {"bundle", bounds.bundle}, {"both", bounds.both}};
    for (const auto& [format, bound] : sign_bounds) {
        // A repository of its own: the first signature there, the empty config not yet stored.
        const auto ref = registry->address() + "/count-" + format + "/policies:v1";
        const auto pushed = run_karmor({"oci", "push", "-i", ref, "-p", policy, "-q"});
        ASSERT_EQ(pushed.exit_code, 0) << pushed.err;

        auto before = registry->requests().size();
        const auto s =
            run_karmor({"oci", "sign", "-i", ref, "--key", prefix + ".key", "--signature-format", format}, {}, env);
        ASSERT_EQ(s.exit_code, 0) << s.err;
        auto requests = registry->requests();
        const std::vector<std::string> sent(requests.begin() + static_cast<std::ptrdiff_t>(before), requests.end());
        std::string listing;
        for (const auto& r : sent) listing += "  " + r + "\n";
        std::cout << "sign --signature-format " << format << ": " << sent.size() << " requests\n" << listing;
        EXPECT_LE(sent.size(), bound) << listing;
        // Each object once: no request is sent twice, but for the fallback tag's reads (the
        // listing, the re-read just before its PUT, the read-back after it).
        std::map<std::string, int> seen;
        for (const auto& r : sent)
            if (++seen[r] > 1 && r.find("/manifests/sha256-") == std::string::npos)
                ADD_FAILURE() << "sent twice: " << r << "\n" << listing;

        before = registry->requests().size();
        const auto v = run_karmor({"oci", "verify", "-i", ref, "--key", prefix + ".pub", "--output", "json"}, {}, env);
        ASSERT_EQ(v.exit_code, 0) << v.err;
        const auto verify_requests = registry->requests().size() - before;
        std::cout << "verify (" << format << "): " << verify_requests << " requests\n";
        EXPECT_LE(verify_requests, bounds.verify);
        // The report still lists every signature.
        const auto report = nlohmann::json::parse(v.out);
        std::set<std::string> formats;
        for (const auto& signature : report["signatures"]) {
            EXPECT_TRUE(signature["verified"].get<bool>()) << signature.dump();
            formats.insert(signature["format"].get<std::string>());
        }
        const std::set<std::string> expected =
            format == "both" ? std::set<std::string>{"legacy", "bundle"} : std::set<std::string>{format};
        EXPECT_EQ(formats, expected) << v.out;
    }
}

INSTANTIATE_TEST_SUITE_P(Registries, RequestCounts, ::testing::ValuesIn(testing::all_registry_kinds()),
                         testing::registry_kind_name);

}  // namespace
}  // namespace karmor
