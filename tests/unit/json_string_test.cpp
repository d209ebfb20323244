// util::append_json_string writes what nlohmann::json(text).dump() writes (the pull state and the
// config index depend on it byte for byte).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/json_string.hpp"

namespace karmor {
namespace {

TEST(JsonString, IsWhatNlohmannDumps) {
    std::vector<std::string> texts = {"",        "plain",         "ksp-default-block-shell.yaml",
                                      "a\"b\\c", "tab\there\r\n", "\x7f",
                                      "ünïcode", "漢字 🙂",   std::string("nul\0byte", 8)};
    for (int c = 0; c < 0x80; ++c) {
        texts.push_back(std::string(1, static_cast<char>(c)));
        texts.push_back("x" + std::string(1, static_cast<char>(c)) + "y");
    }
    for (const auto& text : texts) {
        std::string out = "prefix";
        util::append_json_string(out, text);
        EXPECT_EQ(out, "prefix" + nlohmann::json(text).dump()) << text;
    }
    std::string out;
    EXPECT_THROW(util::append_json_string(out, "\xff"), nlohmann::json::exception) << "not UTF-8: refused as before";
}

}  // namespace
}  // namespace karmor
