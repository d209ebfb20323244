#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "follow/pull_state.hpp"

namespace karmor::follow {
namespace {

// What write_pull_state wrote before it built the text itself: the same object through
// nlohmann's dump(1). The text must stay a JSON document that read_pull_state reads back.
std::string through_json_tree(const PullState& state) {
    nlohmann::ordered_json json = {{"version", 1}, {"digest", state.digest}, {"reference", state.reference}};
    auto files = nlohmann::ordered_json::array();
    for (const auto& f : state.files) {
        nlohmann::ordered_json entry = {{"name", f.name},
                                        {"sha256", f.sha256},
                                        {"kind", f.identity.kind},
                                        {"namespace", f.identity.namespace_name},
                                        {"policy", f.identity.name}};
        if (f.leftover) entry["leftover"] = true;
        files.push_back(std::move(entry));
    }
    json["files"] = std::move(files);
    return json.dump(1) + "\n";
}

TEST(PullState, TextIsTheJsonTreeDumpedWithIndentOne) {
    PullState state{"sha256:abc", "localhost:5000/p@sha256:abc", {}};
    EXPECT_EQ(pull_state_json(state), through_json_tree(state));

    RecordedFile plain{"ksp-shop-block.yaml", "00ff", {"KubeArmorPolicy", "shop", "block"}, false};
    // Quotes, backslashes, control characters and non-ASCII text are escaped as nlohmann does.
    RecordedFile odd{"hsp-a\"b\\c.yaml", "11ee", {"KubeArmorHostPolicy", "", "tab\there\x01-\xc3\xa9"}, true};
    state.files = {plain, odd, plain};
    EXPECT_EQ(pull_state_json(state), through_json_tree(state));
    const auto parsed = nlohmann::json::parse(pull_state_json(state));
    EXPECT_EQ(parsed["files"][1]["policy"], "tab\there\x01-\xc3\xa9");
    EXPECT_TRUE(parsed["files"][1]["leftover"].get<bool>());
}

// A small pull's texts are hashed on the calling thread, a large one's on every core: both give
// each file its own name, hash and identity, in order.
TEST(PullState, RecordedFilesHashEachTextSmallOrLarge) {
    for (const std::size_t text_size : {std::size_t{300}, std::size_t{64 * 1024}}) {
        std::vector<Policy> policies(12);
        std::vector<std::string> names;
        for (std::size_t i = 0; i < policies.size(); ++i) {
            policies[i].serialized = std::string(text_size, static_cast<char>('a' + i));
            policies[i].identity = {"KubeArmorPolicy", "shop", "p" + std::to_string(i)};
            names.push_back("f" + std::to_string(i) + ".yaml");
        }
        const auto files = recorded_files(policies, names);
        ASSERT_EQ(files.size(), policies.size());
        for (std::size_t i = 0; i < files.size(); ++i) {
            EXPECT_EQ(files[i].name, names[i]) << text_size;
            EXPECT_EQ(files[i].sha256, sha256_hex(policies[i].serialized)) << text_size << " " << i;
            EXPECT_EQ(files[i].identity, policies[i].identity) << text_size;
            EXPECT_FALSE(files[i].leftover);
        }
    }
}

}  // namespace
}  // namespace karmor::follow
