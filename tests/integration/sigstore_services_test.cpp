// Issue 24 with Sigstore's own services on loopback: the timestamp authority's timestamp-server
// v2.1.3 and rekor-tiles' Rekor v2 server v2.3.0 (tests/support/sigstore_services.hpp), a trusted
// root and a signing config written here, cosign v3.1.2 signing karmor artifacts with a key
// (a) with an RFC 3161 timestamp and no log, (b) with a Rekor v2 entry and a timestamp. karmor
// verifies both, and refuses each when the timestamp or the log entry is removed, swapped from
// another signature, signed by an authority (or log) not in the root, or outside its validity;
// cosign and @sigstore/verify judge the same cases. Each test prints a verdict table.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>

#include "karmor/signing.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"
#include "signing/sigstore_bundle.hpp"
#include "support/local_registry.hpp"
#include "support/peers.hpp"
#include "support/sigstore_services.hpp"
#include "support/test_sigstore.hpp"

namespace karmor {
namespace {

using testing::run_command;
using testing::run_karmor;
using testing::TempDir;
using testing::write_text;
namespace ts = testing::sigstore;

std::string last_error_line(const std::string& text) {
    std::istringstream in(text);
    std::string line, last, error;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        last = line;
        if (line.find("rror") != std::string::npos) error = line;
    }
    auto out = error.empty() ? last : error;
    return out.size() > 200 ? out.substr(0, 197) + "..." : out;
}

struct Verdict {
    bool accepted = false;
    std::string detail;
    std::string check;  // karmor's
};

// One way to break the signature: a change of the bundle, or of the trusted root.
struct Case {
    std::string name;
    bool good = false;
    std::string check;  // the check karmor must name
    std::function<void(nlohmann::json&)> change_bundle;
    ts::ServicesRootOptions root;
};

class SigstoreServices : public ::testing::Test {
protected:
    void SetUp() override {
        KARMOR_REQUIRE_PEER(cosign_program, "cosign");
        KARMOR_REQUIRE_PEER(tsa_program, "timestamp-server");
        cosign = cosign_program;
        timestamp_server = tsa_program;
        sigstore_verify = testing::find_peer("sigstore-verify");
        KARMOR_START_REGISTRY(started, testing::RegistryConfig{});
        registry = std::move(started);
        const auto r = run_command({cosign.string(), "generate-key-pair"}, {}, cosign_env(), dir.path());
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    std::map<std::string, std::string> cosign_env() const {
        return {{"HOME", (dir / "home").string()}, {"TUF_ROOT", (dir / "tuf").string()}, {"COSIGN_PASSWORD", ""}};
    }

    // cosign sign with the signing config; returns the bundle it stored as a referrer.
    std::string cosign_sign(const std::string& repository, const std::string& signing_config,
                            const std::string& trusted_root) {
        const auto digest = ts::push_example_artifact(repository);
        const auto config = dir / "signing_config.json";
        const auto root = dir / "signing_root.json";
        write_text(config, signing_config);
        write_text(root, trusted_root);
        const auto r = run_command({cosign.string(), "sign", "--key", (dir / "cosign.key").string(), "--signing-config",
                                    config.string(), "--trusted-root", root.string(), "-y", "--allow-insecure-registry",
                                    "--allow-http-registry", repository + "@" + digest.str()},
                                   {}, cosign_env());
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto target = ts::open_plain_http(repository);
        auto listing = ops::find_referrers(*target, digest, "");
        EXPECT_TRUE(listing);
        if (!listing) return {};
        for (const auto& referrer : listing->referrers) {
            auto manifest = target->fetch_manifest(referrer.digest.str());
            if (!manifest || !*manifest || (*manifest)->manifest.layers.size() != 1) continue;
            const auto& layer = (*manifest)->manifest.layers.front();
            if (layer.media_type != signing::bundle_media_type) continue;
            auto bytes = target->fetch_blob(layer, signing::max_bundle_bytes, {});
            if (bytes) return *bytes;
        }
        ADD_FAILURE() << "cosign stored no bundle for " << repository << ": " << r.err;
        return {};
    }

    Verdict karmor_verdict(const std::string& ref, const std::filesystem::path& root,
                           const std::vector<std::string>& flags) {
        std::vector<std::string> args{
            "oci", "verify", "-i", ref, "--key", (dir / "cosign.pub").string(), "--trusted-root", root.string()};
        args.insert(args.end(), flags.begin(), flags.end());
        const auto r = run_karmor(args);
        Verdict v;
        v.accepted = r.exit_code == 0;
        if (r.exit_code != 0 && r.exit_code != 8) {
            v.detail = "exit " + std::to_string(r.exit_code) + ", not a verdict: " + last_error_line(r.err);
            v.check = "(none)";
            return v;
        }
        if (!v.accepted) {
            static const std::regex line(R"(^  bundle \S+: ([a-z][a-z-]*): (.*)$)");
            std::istringstream in(r.err + r.out);
            std::string text;
            std::smatch match;
            while (std::getline(in, text))
                if (std::regex_match(text, match, line)) {
                    v.check = match[1];
                    v.detail = match[1].str() + ": " + match[2].str();
                    break;
                }
            if (v.detail.size() > 220) v.detail = v.detail.substr(0, 217) + "...";
        }
        return v;
    }

    Verdict cosign_verdict(const std::string& ref, const std::filesystem::path& root,
                           const std::vector<std::string>& flags) {
        std::vector<std::string> args{cosign.string(),
                                      "verify",
                                      "--key",
                                      (dir / "cosign.pub").string(),
                                      "--trusted-root",
                                      root.string(),
                                      "--allow-insecure-registry",
                                      "--allow-http-registry"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back(ref);
        const auto r = run_command(args, {}, cosign_env());
        return {r.exit_code == 0, r.exit_code == 0 ? "" : last_error_line(r.err), ""};
    }

    Verdict sigstore_js_verdict(const std::filesystem::path& bundle, const std::filesystem::path& root,
                                bool tlog_required) {
        const auto r = run_command({sigstore_verify->string(), "--trusted-root", root.string(), "--key",
                                    (dir / "cosign.pub").string(), "--tlog-threshold", tlog_required ? "1" : "0",
                                    "--timestamp-threshold", "1", bundle.string()});
        return {r.exit_code == 0, r.exit_code == 0 ? "" : last_error_line(r.err + r.out), ""};
    }

    // Every case in a repository of its own; prints the table and checks the verdicts.
    void judge(const std::string& title, const std::string& good_bundle, const std::vector<Case>& cases,
               const ts::TimestampServer& tsa, const ts::RekorV2Server* rekor, const std::vector<std::string>& flags,
               const std::map<std::pair<std::string, std::string>, std::string>& divergences = {}) {
        std::ostringstream table;
        table << "\n"
              << title << "\n"
              << std::left << std::setw(52) << "case" << std::setw(10) << "expected" << std::setw(10) << "karmor"
              << std::setw(10) << "cosign"
              << "sigstore-js\n";
        int n = 0;
        for (const auto& c : cases) {
            const auto repository = registry->address() + "/services/case-" + std::to_string(++n);
            const auto digest = ts::push_example_artifact(repository);
            auto target = ts::open_plain_http(repository);
            ASSERT_TRUE(target);
            auto bundle = nlohmann::json::parse(good_bundle);
            if (c.change_bundle) c.change_bundle(bundle);
            ASSERT_EQ(ts::put_bundle_referrer(*target, ts::manifest_descriptor(*target, digest), bundle.dump()), "");
            const auto root = dir / ("root-" + std::to_string(n) + ".json");
            write_text(root, ts::services_trusted_root(tsa, rekor, c.root));
            const auto bundle_file = dir / ("bundle-" + std::to_string(n) + ".json");
            write_text(bundle_file, bundle.dump());
            std::map<std::string, Verdict> verdicts;
            verdicts["karmor"] = karmor_verdict(repository + ":v1", root, flags);
            verdicts["cosign"] = cosign_verdict(repository + ":v1", root, flags);
            if (sigstore_verify) verdicts["sigstore-js"] = sigstore_js_verdict(bundle_file, root, rekor != nullptr);
            table << std::setw(52) << c.name << std::setw(10) << (c.good ? "accept" : "refuse");
            for (const char* verifier : {"karmor", "cosign", "sigstore-js"}) {
                const auto found = verdicts.find(verifier);
                std::string cell = found == verdicts.end() ? "-" : found->second.accepted ? "accept" : "refuse";
                if (found != verdicts.end() && found->second.accepted != c.good) cell += "(!)";
                table << std::setw(10) << cell;
            }
            table << "\n";
            for (const auto& [verifier, verdict] : verdicts) {
                if (!verdict.detail.empty()) table << "      " << verifier << ": " << verdict.detail << "\n";
                const auto known = divergences.find({verifier, c.name});
                const bool expected = known != divergences.end() ? !c.good : c.good;
                if (known != divergences.end())
                    table << "      " << verifier << " (!) known: " << known->second << "\n";
                EXPECT_EQ(verdict.accepted, expected) << verifier << " on \"" << c.name << "\": " << verdict.detail;
            }
            if (!c.good) {
                EXPECT_EQ(verdicts["karmor"].check, c.check) << c.name << ": " << verdicts["karmor"].detail;
            }
        }
        std::cout << table.str() << std::flush;
    }

    TempDir dir;
    std::filesystem::path cosign, timestamp_server;
    std::optional<std::filesystem::path> sigstore_verify;
    std::unique_ptr<testing::LocalRegistry> registry;
};

std::int64_t now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

const auto remove_timestamps = [](nlohmann::json& bundle) {
    bundle["verificationMaterial"].erase("timestampVerificationData");
};
const auto remove_log_entries = [](nlohmann::json& bundle) { bundle["verificationMaterial"].erase("tlogEntries"); };

// (a) A private timestamp authority and no transparency log: the air-gapped setup of
// docs/signing.md. Verified with --insecure-ignore-tlog --use-signed-timestamps.
TEST_F(SigstoreServices, KeyAndTimestampWithoutALog) {
    std::string error;
    auto tsa = ts::TimestampServer::start(timestamp_server, error);
    ASSERT_TRUE(tsa) << error;
    const auto root = ts::services_trusted_root(*tsa, nullptr);
    const auto good =
        cosign_sign(registry->address() + "/services/signed", ts::services_signing_config(*tsa, nullptr), root);
    ASSERT_FALSE(good.empty());
    ASSERT_TRUE(nlohmann::json::parse(good)["verificationMaterial"].contains("timestampVerificationData")) << good;
    const auto other =
        cosign_sign(registry->address() + "/services/other", ts::services_signing_config(*tsa, nullptr), root);
    const auto other_timestamps = nlohmann::json::parse(other)["verificationMaterial"]["timestampVerificationData"];
    const auto other_authority = ts::make_timestamp_authority(now() - 86400, now() + 86400);

    // inspect --trusted-root: per signature, the checks passed and the time used.
    const auto root_file = dir / "inspect-root.json";
    write_text(root_file, root);
    const auto inspected = run_karmor({"oci", "inspect", registry->address() + "/services/signed:v1", "--key",
                                       (dir / "cosign.pub").string(), "--trusted-root", root_file.string(),
                                       "--insecure-ignore-tlog", "--use-signed-timestamps"});
    EXPECT_EQ(inspected.exit_code, 0) << inspected.err;
    EXPECT_NE(inspected.out.find("signed at "), std::string::npos) << inspected.out;
    EXPECT_NE(inspected.out.find("(RFC 3161 timestamp of " + tsa->url() + ")"), std::string::npos) << inspected.out;
    EXPECT_NE(inspected.out.find("passed well-formed signature timestamp payload digest"), std::string::npos)
        << inspected.out;
    const auto json = run_karmor({"oci", "verify", "-i", registry->address() + "/services/signed:v1", "--key",
                                  (dir / "cosign.pub").string(), "--trusted-root", root_file.string(),
                                  "--insecure-ignore-tlog", "--use-signed-timestamps", "--output", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto report = nlohmann::json::parse(json.out)["signatures"][0];
    EXPECT_EQ(report["signingTimes"].size(), 1u) << json.out;
    EXPECT_NE(std::find(report["checksPassed"].begin(), report["checksPassed"].end(), "timestamp"),
              report["checksPassed"].end())
        << json.out;

    std::vector<Case> cases;
    cases.push_back({"good: cosign's timestamp, no log", true, "", nullptr, {}});
    cases.push_back({"timestamp removed", false, "timestamp", remove_timestamps, {}});
    cases.push_back(
        {"timestamp of another signature (swapped)",
         false,
         "timestamp",
         [&](nlohmann::json& b) { b["verificationMaterial"]["timestampVerificationData"] = other_timestamps; },
         {}});
    Case unknown{"timestamp by an authority not in the root", false, "timestamp", nullptr, {}};
    unknown.root.other_authority = &other_authority;
    cases.push_back(unknown);
    Case outside{"timestamp outside the authority's validity", false, "timestamp", nullptr, {}};
    outside.root.tsa_start = now() + 3600;
    cases.push_back(outside);
    judge("cosign sign --key with a timestamp authority and no log; verify --key --trusted-root "
          "--insecure-ignore-tlog --use-signed-timestamps",
          good, cases, *tsa, nullptr, {"--insecure-ignore-tlog", "--use-signed-timestamps"});
}

// (b) Rekor v2 and a timestamp authority. Verified with --use-signed-timestamps.
TEST_F(SigstoreServices, KeyWithRekorV2AndTimestamp) {
    KARMOR_REQUIRE_PEER(rekor_program, "rekor-server-posix");
    std::string error;
    auto tsa = ts::TimestampServer::start(timestamp_server, error);
    ASSERT_TRUE(tsa) << error;
    auto rekor = ts::RekorV2Server::start(rekor_program, error);
    ASSERT_TRUE(rekor) << error;
    const auto root = ts::services_trusted_root(*tsa, rekor.get());
    const auto config = ts::services_signing_config(*tsa, rekor.get());
    const auto good = cosign_sign(registry->address() + "/services/signed", config, root);
    ASSERT_FALSE(good.empty());
    const auto parsed = nlohmann::json::parse(good);
    ASSERT_TRUE(parsed["verificationMaterial"].contains("timestampVerificationData")) << good;
    ASSERT_EQ(parsed["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"], "0.0.2") << good;
    const auto other = nlohmann::json::parse(cosign_sign(registry->address() + "/services/other", config, root));
    const auto other_authority = ts::make_timestamp_authority(now() - 86400, now() + 86400);
    const auto other_log_key = ts::EdKey::generate();

    // The time one verification takes, through the binary and through the library (issue 24).
    {
        const auto bundle_file = dir / "timed-bundle.json";
        write_text(bundle_file, good);
        const auto root_file = dir / "timed-root.json";
        write_text(root_file, root);
        BundleVerifyOptions options;
        options.bundle = good;
        options.requirements.public_keys = {dir / "cosign.pub"};
        KeylessRequirements trust;
        trust.trusted_root = root_file;
        trust.use_signed_timestamps = true;
        options.requirements.keyless = trust;
        const auto parsed_bundle = signing::parse_sigstore_bundle(good);
        ASSERT_TRUE(parsed_bundle) << parsed_bundle.error().message << "\n" << good;
        const auto statement = nlohmann::json::parse(parsed_bundle->payload);
        options.artifact_digest =
            *Digest::parse("sha256:" + statement["subject"][0]["digest"]["sha256"].get<std::string>());
        const int rounds = 200;
        const auto start = std::chrono::steady_clock::now();
        int verified = 0;
        for (int i = 0; i < rounds; ++i) verified += verify_sigstore_bundle(options) ? 1 : 0;
        const auto library_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / rounds;
        EXPECT_EQ(verified, rounds);
        const auto cli_start = std::chrono::steady_clock::now();
        const int cli_rounds = 5;
        for (int i = 0; i < cli_rounds; ++i) {
            const auto r = run_karmor({"oci", "verify", "-i", registry->address() + "/services/signed:v1", "--key",
                                       (dir / "cosign.pub").string(), "--trusted-root", root_file.string(),
                                       "--use-signed-timestamps"});
            EXPECT_EQ(r.exit_code, 0) << r.err;
        }
        const auto cli_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - cli_start).count() /
            cli_rounds;
        std::cout << "\nverify one bundle with an RFC 3161 timestamp and a Rekor v2 entry: library " << std::fixed
                  << std::setprecision(2) << library_ms << " ms (mean of " << rounds
                  << "), karmor oci verify against the registry " << cli_ms << " ms (mean of " << cli_rounds << ")\n";
    }

    std::vector<Case> cases;
    cases.push_back({"good: cosign's Rekor v2 entry and timestamp", true, "", nullptr, {}});
    cases.push_back({"timestamp removed", false, "timestamp", remove_timestamps, {}});
    cases.push_back({"timestamp of another signature (swapped)",
                     false,
                     "timestamp",
                     [&](nlohmann::json& b) {
                         b["verificationMaterial"]["timestampVerificationData"] =
                             other["verificationMaterial"]["timestampVerificationData"];
                     },
                     {}});
    Case unknown{"timestamp by an authority not in the root", false, "timestamp", nullptr, {}};
    unknown.root.other_authority = &other_authority;
    cases.push_back(unknown);
    Case outside{"timestamp outside the authority's validity", false, "timestamp", nullptr, {}};
    outside.root.tsa_start = now() + 3600;
    cases.push_back(outside);
    cases.push_back({"log entry removed", false, "transparency-log", remove_log_entries, {}});
    cases.push_back({"log entry of another signature (swapped)",
                     false,
                     "log-entry",
                     [&](nlohmann::json& b) {
                         b["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"];
                     },
                     {}});
    Case unknown_log{"log entry by a log not in the root", false, "transparency-log", nullptr, {}};
    unknown_log.root.other_log_key = &other_log_key;
    cases.push_back(unknown_log);
    Case expired_log{"log key outside its validity at the timestamp", false, "transparency-log", nullptr, {}};
    expired_log.root.log_start = now() - 3 * 86400;
    expired_log.root.log_end = now() - 2 * 86400;
    cases.push_back(expired_log);
    const std::map<std::pair<std::string, std::string>, std::string> divergences = {
        {{"cosign", "log key outside its validity at the timestamp"},
         "cosign v3.1.2 (sigstore-go v1.2.1, pkg/verify/tlog.go VerifyTlogEntry) checks a log key's validFor only "
         "against a SET's integrated time; a Rekor v2 entry has none, so a checkpoint signed by a key the root no "
         "longer trusted at the signature's time is accepted. karmor checks the key at every verified timestamp"},
        {{"sigstore-js", "good: cosign's Rekor v2 entry and timestamp"},
         "@sigstore/verify 3.1.1 compares a hashedrekord 0.0.2 entry of a DSSE envelope with the SHA-256 of the "
         "payload (dist/bundle/dsse.js compareDigest), while cosign v3.1.2 logs the hash of the envelope's PAE "
         "(rekor-v2-spec, sigstore-go sign/transparency.go): it refuses cosign's own bundles (TLOG_BODY_ERROR digest "
         "mismatch), so its refusals of this table's other cases are not evidence"}};
    judge("cosign sign --key with Rekor v2 and a timestamp authority; verify --key --trusted-root "
          "--use-signed-timestamps",
          good, cases, *tsa, rekor.get(), {"--use-signed-timestamps"}, divergences);
}

}  // namespace
}  // namespace karmor
