// JSON text from strings that are bytes (issue 22, item 6): valid JSON, nothing lost.
#include <gtest/gtest.h>

#include <random>

#include "util/json_text.hpp"

namespace karmor::util {
namespace {

TEST(JsonText, ValidUtf8IsKeptAsItIs) {
    for (const std::string text :
         {"", "plain/ascii.yaml", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80", "\xef\xbf\xbd",
          "\xee\xb8\x80" /* U+EE00 */, "\xee\xbd\xbf" /* U+EF7F, below the escapes */})
        EXPECT_EQ(to_lossless_utf8(text), text);
}

TEST(JsonText, EachByteThatIsNotUtf8BecomesOnePrivateUseCharacter) {
    EXPECT_EQ(to_lossless_utf8("a\xff"
                               "b"),
              "a\xee\xbf\xbf"
              "b");                                       // U+EFFF
    EXPECT_EQ(to_lossless_utf8("\x80"), "\xee\xbe\x80");  // U+EF80
    // Overlong forms, surrogates, code points above U+10FFFF and cut sequences are not UTF-8.
    for (const std::string bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
        const auto encoded = to_lossless_utf8(bad);
        EXPECT_TRUE(is_valid_utf8(encoded)) << encoded;
        EXPECT_EQ(from_lossless_utf8(encoded), bad);
        EXPECT_FALSE(is_valid_utf8(bad));
    }
}

TEST(JsonText, TheEscapeCharactersThemselvesAreEscapedSoDecodingIsExact) {
    const std::string escape_in_input = "\xee\xbe\x80";  // U+EF80 as a real character
    const auto encoded = to_lossless_utf8(escape_in_input);
    EXPECT_NE(encoded, escape_in_input);
    EXPECT_EQ(from_lossless_utf8(encoded), escape_in_input);
    // ... and differs from what the lone byte 0x80 encodes to.
    EXPECT_NE(encoded, to_lossless_utf8("\x80"));
}

TEST(JsonText, RandomBytesRoundTripThroughValidJson) {
    std::mt19937 random(22);
    for (int round = 0; round < 2000; ++round) {
        std::string bytes(static_cast<std::size_t>(random() % 24), '\0');
        for (auto& b : bytes) b = static_cast<char>(random() % 256);
        const nlohmann::ordered_json document = {{"path", bytes}, {bytes, {bytes, 1}}};
        const auto text = dump_json(document);
        const auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << text;
        EXPECT_EQ(from_lossless_utf8(parsed.at("path").get<std::string>()), bytes);
        EXPECT_EQ(from_lossless_utf8(parsed.items().begin().key() == "path" ? std::next(parsed.items().begin()).key()
                                                                            : parsed.items().begin().key()),
                  bytes);
    }
}

TEST(JsonText, DumpIsNlohmannsForValidText) {
    const nlohmann::ordered_json document = {{"b", "x"}, {"a", {1, "caf\xc3\xa9", nullptr}}};
    EXPECT_EQ(dump_json(document), document.dump());
    EXPECT_EQ(dump_json(document, 2), document.dump(2));
}

}  // namespace
}  // namespace karmor::util
