// Issue 16 through the binary: keyless signatures made with the private Sigstore of
// tests/support/test_sigstore, stored in a real docker-registry in both cosign formats, verified
// by `karmor oci verify` (and pull, follow) against the matching trusted_root.json. Every broken
// link exits 8 naming the check that refused it; the good signatures verify.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "ops/open_target.hpp"
#include "support/local_registry.hpp"
#include "support/process.hpp"
#include "support/test_sigstore.hpp"

namespace karmor {
namespace {

using testing::run_karmor;
using testing::TempDir;
using testing::write_text;
namespace ts = testing::sigstore;

const std::string policy_file =
    (std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies" / "ksp-block-shell.yaml").string();

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

class KeylessCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() { sigstore = new ts::TestSigstore(); }
    static void TearDownTestSuite() {
        delete sigstore;
        sigstore = nullptr;
    }
    static inline ts::TestSigstore* sigstore = nullptr;

    void SetUp() override {
        KARMOR_START_REGISTRY(started, testing::RegistryConfig{});
        registry = std::move(started);
        trusted_root = (dir.path() / "trusted_root.json").string();
        write_text(trusted_root, sigstore->trusted_root_json());
    }

    Digest push(const std::string& repository) {
        const auto r = run_karmor({"oci", "push", "-i", repository + ":v1", "-p", policy_file, "-q"}, {},
                                  {{"SOURCE_DATE_EPOCH", "1000"}});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto digest = Digest::parse(first_line(r.out));
        EXPECT_TRUE(digest) << r.out;
        return digest ? *digest : Digest();
    }

    std::unique_ptr<oci::Target> open(const std::string& repository) {
        RemoteOptions remote;
        remote.plain_http = true;
        auto opened = ops::open_target(*Reference::parse(repository), std::nullopt, remote, ops::Access::push);
        EXPECT_TRUE(opened);
        return opened ? std::move(opened->target) : nullptr;
    }

    // A fresh repository with the artifact and one keyless signature made with `options`.
    std::string signed_repository(const std::string& label, bool bundle, const ts::SignOptions& options = {}) {
        const auto repository = registry->address() + "/keyless/" + label;
        const auto digest = push(repository);
        auto target = open(repository);
        if (!target) return repository;
        if (bundle) {
            auto fetched = target->fetch_manifest(digest.str());
            EXPECT_TRUE(fetched && *fetched);
            const Descriptor subject{(*fetched)->manifest.media_type,
                                     digest,
                                     static_cast<std::int64_t>((*fetched)->bytes.size()),
                                     "",
                                     {},
                                     std::nullopt};
            EXPECT_EQ(
                ts::put_bundle_referrer(*target, subject, sigstore->make_bundle(repository, digest, options).json), "");
        } else {
            EXPECT_EQ(ts::put_legacy_signature(*target, digest, sigstore->make_legacy(repository, digest, options)),
                      "");
        }
        return repository;
    }

    // The policy of a case: its identity (or identity regexp), issuer and further flags.
    std::vector<std::string> case_flags(const ts::Case& c) const {
        std::vector<std::string> out{"--trusted-root", trusted_root};
        if (c.identity_regexp.empty())
            out.insert(out.end(), {"--certificate-identity", c.identity});
        else
            out.insert(out.end(), {"--certificate-identity-regexp", c.identity_regexp});
        out.insert(out.end(), {"--certificate-oidc-issuer", c.issuer});
        out.insert(out.end(), c.flags.begin(), c.flags.end());
        return out;
    }

    std::vector<std::string> keyless_flags(const std::string& identity = ts::default_identity,
                                           const std::string& issuer = ts::github_issuer) const {
        return {
            "--trusted-root", trusted_root, "--certificate-identity", identity, "--certificate-oidc-issuer", issuer};
    }

    testing::CommandResult verify(const std::string& reference, std::vector<std::string> extra) {
        std::vector<std::string> args{"oci", "verify", "-i", reference};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_karmor(args);
    }

    TempDir dir;
    std::string trusted_root;
    std::unique_ptr<testing::LocalRegistry> registry;
};

TEST_F(KeylessCli, EveryBrokenLinkExits8NamingItsCheckAndGoodSignaturesVerify) {
    int n = 0, accepted = 0, refused = 0, good = 0;
    for (const auto& c : ts::standard_cases()) {
        for (const bool bundle : {true, false}) {
            if (bundle ? !c.bundle : !c.legacy) continue;
            SCOPED_TRACE(c.name + (bundle ? " (bundle)" : " (legacy)"));
            const auto repository = signed_repository("case-" + std::to_string(++n), bundle, c.options);
            const auto r = verify(repository + ":v1", case_flags(c));
            if (c.good) {
                ++good;
                EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
                EXPECT_NE(r.out.find("verified  " + std::string(bundle ? "bundle" : "legacy")), std::string::npos)
                    << r.out;
                const auto identity = c.options.leaf.san_uri.empty() ? c.identity : c.options.leaf.san_uri;
                EXPECT_NE(r.out.find("certificate of " + identity), std::string::npos) << r.out;
                accepted += r.exit_code == 0;
                continue;
            }
            EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
            const auto named = c.check + ": ";
            EXPECT_NE((r.out + r.err).find(named), std::string::npos) << "expected \"" << named << "\" in\n"
                                                                      << r.out << r.err;
            refused += r.exit_code == 8;
        }
    }
    EXPECT_GE(good, 4);
    EXPECT_EQ(accepted, good);
    EXPECT_GE(refused, 30);
}

TEST_F(KeylessCli, RegexpFlagsAndJsonOutput) {
    const auto repository = signed_repository("regexp", true);
    auto r =
        verify(repository + ":v1", {"--trusted-root", trusted_root, "--certificate-identity-regexp",
                                    "^https://github\\.com/karmor-test/policies/", "--certificate-oidc-issuer-regexp",
                                    "^https://token\\.actions\\.githubusercontent\\.com$", "--output", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto json = nlohmann::json::parse(r.out);
    EXPECT_TRUE(json["verified"].get<bool>());
    ASSERT_EQ(json["signatures"].size(), 1u);
    EXPECT_NE(json["signatures"][0]["keys"][0].get<std::string>().find(ts::default_identity), std::string::npos);
    EXPECT_EQ(json["signatures"][0]["certificate"]["identity"], ts::default_identity);
    EXPECT_EQ(json["signatures"][0]["certificate"]["issuer"], ts::github_issuer);
    EXPECT_EQ(json["signatures"][0]["certificate"]["loggedAt"].get<std::string>().size(), 20u);
    r = verify(repository + ":v1",
               {"--trusted-root", trusted_root, "--certificate-identity-regexp", "^https://github\\.com/someone-else/",
                "--certificate-oidc-issuer", ts::github_issuer});
    EXPECT_EQ(r.exit_code, 8);
    EXPECT_NE(r.err.find("certificate-identity: "), std::string::npos) << r.err;
}

TEST_F(KeylessCli, GithubWorkflowFlags) {
    const auto repository = signed_repository("github", false);
    auto flags = keyless_flags();
    flags.insert(flags.end(), {"--certificate-github-workflow-trigger", "push", "--certificate-github-workflow-ref",
                               "refs/heads/main", "--certificate-github-workflow-repository", "karmor-test/policies"});
    EXPECT_EQ(verify(repository + ":v1", flags).exit_code, 0);
    flags = keyless_flags();
    flags.insert(flags.end(), {"--certificate-github-workflow-ref", "refs/heads/feature"});
    const auto r = verify(repository + ":v1", flags);
    EXPECT_EQ(r.exit_code, 8);
    EXPECT_NE(r.err.find("github-workflow: "), std::string::npos) << r.err;
}

TEST_F(KeylessCli, InsecureIgnoreSct) {
    ts::SignOptions options;
    options.knobs.no_sct = true;
    const auto repository = signed_repository("no-sct", true, options);
    EXPECT_EQ(verify(repository + ":v1", keyless_flags()).exit_code, 8);
    auto flags = keyless_flags();
    flags.push_back("--insecure-ignore-sct");
    EXPECT_EQ(verify(repository + ":v1", flags).exit_code, 0);
}

TEST_F(KeylessCli, PullAndFollowVerifyBeforeWriting) {
    const auto good = signed_repository("pull-good", true);
    ts::SignOptions bad_options;
    bad_options.knobs.bad_set = true;
    const auto bad = signed_repository("pull-bad", false, bad_options);

    std::vector<std::string> pull{"oci", "pull", "-i", good + ":v1", "-o", (dir.path() / "good").string()};
    for (const auto& f : keyless_flags()) pull.push_back(f);
    auto r = run_karmor(pull);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(std::filesystem::is_empty(dir.path() / "good"));

    pull = {"oci", "pull", "-i", bad + ":v1", "-o", (dir.path() / "bad").string()};
    for (const auto& f : keyless_flags()) pull.push_back(f);
    r = run_karmor(pull);
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_NE(r.err.find("signed-entry-timestamp: "), std::string::npos) << r.err;
    EXPECT_TRUE(!std::filesystem::exists(dir.path() / "bad") || std::filesystem::is_empty(dir.path() / "bad"));

    std::vector<std::string> follow{"oci", "follow", "--once", "-i", good + ":v1", "-o", (dir.path() / "f").string()};
    for (const auto& f : keyless_flags()) follow.push_back(f);
    r = run_karmor(follow);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    follow = {"oci", "follow", "--once", "-i", bad + ":v1", "-o", (dir.path() / "fb").string()};
    for (const auto& f : keyless_flags()) follow.push_back(f);
    r = run_karmor(follow);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("signed-entry-timestamp"), std::string::npos) << r.err;
}

TEST_F(KeylessCli, KeyFlagsAndKeylessFlagsAreCheckedTogether) {
    const auto repository = signed_repository("usage", true);
    // As cosign: a trusted root without an identity and an issuer says nothing about who signed.
    auto r = verify(repository + ":v1", {"--trusted-root", trusted_root});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--certificate-identity"), std::string::npos) << r.err;
    r = verify(repository + ":v1", {"--trusted-root", trusted_root, "--certificate-identity", ts::default_identity});
    EXPECT_EQ(r.exit_code, 2);
    r = verify(repository + ":v1",
               {"--certificate-identity", ts::default_identity, "--certificate-oidc-issuer", ts::github_issuer});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--trusted-root"), std::string::npos) << r.err;
    r = verify(repository + ":v1", {"--trusted-root", trusted_root, "--certificate-identity", "a",
                                    "--certificate-identity-regexp", "b", "--certificate-oidc-issuer", "c"});
    EXPECT_EQ(r.exit_code, 2);
    r = verify(repository + ":v1", {"--trusted-root", trusted_root, "--certificate-identity-regexp", "([",
                                    "--certificate-oidc-issuer", ts::github_issuer});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not a regular expression"), std::string::npos) << r.err;
    // A broken trusted root fails closed before any request, as the user's configuration error
    // it is (exit 2), not as an artifact that failed verification (issue 22).
    write_text(dir.path() / "broken.json", "{\"mediaType\":\"application/json\"}");
    r = verify(repository + ":v1", {"--trusted-root", (dir.path() / "broken.json").string(), "--certificate-identity",
                                    ts::default_identity, "--certificate-oidc-issuer", ts::github_issuer});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("media type"), std::string::npos) << r.err;
    // A key-based signature is refused with a trusted root alone (it has no certificate), and
    // the keyless one with a key alone.
    TempDir keys;
    const auto made = testing::run_command({KARMOR_BINARY, "oci", "key", "generate", "--output-key-prefix", "k"}, {},
                                           {{"KARMOR_PASSWORD", "pw"}}, keys.path());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    r = verify(repository + ":v1", {"--key", (keys.path() / "k.pub").string()});
    EXPECT_EQ(r.exit_code, 8);
    EXPECT_NE(r.err.find("certificate: it carries a certificate"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace karmor
