#include <gtest/gtest.h>

#include "karmor/reference.hpp"

TEST(Reference, Smoke) {
    auto r = karmor::Reference::parse("localhost:5000/myimage:latest");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->registry(), "localhost:5000");
}
