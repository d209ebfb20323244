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

}  // namespace
}  // namespace karmor::follow
