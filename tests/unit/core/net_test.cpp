#include "core/net.hpp"

#include <gtest/gtest.h>

#include "core/duration.hpp"

namespace c10k::core {
namespace {

TEST(ParseEndpoint, AcceptsIpv4Ipv6AndPortOnly) {
    Endpoint e;
    std::string error;
    ASSERT_TRUE(parse_endpoint("127.0.0.1:8080", e, error)) << error;
    EXPECT_EQ(e.to_string(), "127.0.0.1:8080");
    ASSERT_TRUE(parse_endpoint("[::1]:443", e, error)) << error;
    EXPECT_EQ(e.to_string(), "[::1]:443");
    ASSERT_TRUE(parse_endpoint(":9000", e, error)) << error;
    EXPECT_EQ(e.to_string(), "0.0.0.0:9000");
}

TEST(ParseEndpoint, RejectsWithAReason) {
    Endpoint e;
    std::string error;
    EXPECT_FALSE(parse_endpoint("8080", e, error));
    EXPECT_NE(error.find("HOST:PORT"), std::string::npos);
    EXPECT_FALSE(parse_endpoint("127.0.0.1:70000", e, error));
    EXPECT_NE(error.find("port"), std::string::npos);
    EXPECT_FALSE(parse_endpoint("::1:80", e, error));
    EXPECT_NE(error.find("brackets"), std::string::npos);
    EXPECT_FALSE(parse_endpoint("[::1]80", e, error));
}

TEST(ParseDuration, UnitsAndBareNumbers) {
    std::int64_t us = 0;
    std::string error;
    ASSERT_TRUE(parse_duration_us("10s", 1, us, error));
    EXPECT_EQ(us, 10'000'000);
    ASSERT_TRUE(parse_duration_us("250ms", 1, us, error));
    EXPECT_EQ(us, 250'000);
    ASSERT_TRUE(parse_duration_us("2m", 1, us, error));
    EXPECT_EQ(us, 120'000'000);
    ASSERT_TRUE(parse_duration_us("1.5", 1'000'000, us, error));
    EXPECT_EQ(us, 1'500'000);
    EXPECT_FALSE(parse_duration_us("ten", 1, us, error));
    EXPECT_FALSE(parse_duration_us("5 parsecs", 1, us, error));
    EXPECT_FALSE(parse_duration_us("-1s", 1, us, error));
}

}  // namespace
}  // namespace c10k::core
