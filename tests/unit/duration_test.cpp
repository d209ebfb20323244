#include <gtest/gtest.h>

#include "util/duration.hpp"

namespace karmor::util {
namespace {

TEST(Duration, ParsesEveryUnitAndTheirSums) {
    struct Case {
        const char* text;
        long long milliseconds;
    };
    const Case cases[] = {
        {"500ms", 500},       {"30s", 30'000},   {"5m", 300'000},           {"1h", 3'600'000},
        {"1h30m", 5'400'000}, {"1m30s", 90'000}, {"2s500ms", 2'500},        {"30", 30'000},
        {"+5s", 5'000},       {"1ms", 1},        {"8760h", 31'536'000'000},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_duration(c.text, "--every");
        ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().message;
        EXPECT_EQ(parsed->count(), c.milliseconds) << c.text;
    }
}

// Each bad value is named with its flag and the rule it breaks.
TEST(Duration, SaysWhichRuleAValueBreaks) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"0s", "--every 0s: a duration must be positive"},
        {"0", "--every 0: a duration must be positive"},
        {"0h0m", "--every 0h0m: a duration must be positive"},
        {"-5s", "--every -5s: a duration must be positive"},
        {"-1h30m", "--every -1h30m: a duration must be positive"},
        {"-99999999999999999999h", "--every -99999999999999999999h: a duration must be positive"},
        {"8761h", "--every 8761h: too long; the longest duration is 8760h (a year)"},
        {"99999999999999999999h", "--every 99999999999999999999h: too long; the longest duration is 8760h (a year)"},
        {"9223372036854775807ms", "--every 9223372036854775807ms: too long; the longest duration is 8760h (a year)"},
        {"8760h1ms", "--every 8760h1ms: too long; the longest duration is 8760h (a year)"},
        {"", "--every : not a duration"},
        {"-", "--every -: not a duration"},
        {"5", nullptr},
        {"5x", "--every 5x: not a duration"},
        {"5 s", "--every 5 s: not a duration"},
        {"1h30", "--every 1h30: not a duration"},
        {"s", "--every s: not a duration"},
        {"1.5s", "--every 1.5s: not a duration"},
        {"5min", "--every 5min: not a duration"},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_duration(c.text, "--every");
        if (c.message == nullptr) {
            EXPECT_TRUE(parsed) << c.text;
            continue;
        }
        ASSERT_FALSE(parsed) << c.text;
        EXPECT_EQ(parsed.error().kind, ErrorKind::usage) << c.text;
        EXPECT_EQ(parsed.error().message, c.message);
        EXPECT_NE(parsed.error().hint.find("1h30m"), std::string::npos) << c.text;
    }
}

}  // namespace
}  // namespace karmor::util
