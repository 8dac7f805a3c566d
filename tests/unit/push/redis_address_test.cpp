#include "push/redis_address.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace c10k::push {
namespace {

TEST(RedisUrl, ParsesHostPortPasswordAndDatabase) {
    std::string error;
    auto plain = parse_redis_url("redis://127.0.0.1:6380", error);
    ASSERT_TRUE(plain) << error;
    EXPECT_EQ(plain->host, "127.0.0.1");
    EXPECT_EQ(plain->port, 6380);
    EXPECT_EQ(plain->password, "");
    EXPECT_EQ(plain->database, 0);

    auto full = parse_redis_url("redis://:p@ss:w@redis.example:7000/3", error);
    ASSERT_TRUE(full) << error;
    EXPECT_EQ(full->host, "redis.example");
    EXPECT_EQ(full->port, 7000);
    EXPECT_EQ(full->password, "p@ss:w");
    EXPECT_EQ(full->database, 3);

    auto defaults = parse_redis_url("redis://cache/", error);
    ASSERT_TRUE(defaults) << error;
    EXPECT_EQ(defaults->host, "cache");
    EXPECT_EQ(defaults->port, 6379);

    auto v6 = parse_redis_url("redis://[::1]:6390/1", error);
    ASSERT_TRUE(v6) << error;
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 6390);
    EXPECT_EQ(v6->database, 1);
}

TEST(RedisUrl, RefusesMalformedAddressesWithAReason) {
    struct Case {
        const char* url;
        const char* says;
    };
    for (Case bad :
         {Case{"http://host:1", "redis://"}, Case{"host:6379", "redis://"},
          Case{"redis://", "no host"}, Case{"redis://:6379", "no host"},
          Case{"redis://host:", "port"}, Case{"redis://host:0", "port"},
          Case{"redis://host:65536", "port"}, Case{"redis://host:12ab", "port"},
          Case{"redis://host:1/x", "database"}, Case{"redis://host:1/-1", "database"},
          Case{"redis://user:pw@host:1", "user name"}, Case{"redis://:@host:1", "empty password"},
          Case{"redis://[::1:1", "']'"}, Case{"redis://[::1]x", "':PORT'"}}) {
        std::string error;
        EXPECT_FALSE(parse_redis_url(bad.url, error)) << bad.url;
        EXPECT_NE(error.find(bad.says), std::string::npos) << bad.url << ": " << error;
    }
}

TEST(ReconnectDelay, DoublesUpToTheCapWithAJitteredHalf) {
    for (std::uint64_t random : {0ull, 1ull, 77ull, 12345ull, ~0ull}) {
        std::uint64_t ceiling = 100;
        for (unsigned attempt = 0; attempt < 40; ++attempt) {
            std::uint64_t delay = reconnect_delay_ms(attempt, 100, 30'000, random);
            EXPECT_GE(delay, ceiling / 2) << attempt;
            EXPECT_LE(delay, ceiling) << attempt;
            ceiling = std::min<std::uint64_t>(ceiling * 2, 30'000);
        }
    }
    EXPECT_EQ(reconnect_delay_ms(0, 100, 30'000, 0), 50u);
    EXPECT_EQ(reconnect_delay_ms(0, 100, 30'000, 50), 100u);
    EXPECT_EQ(reconnect_delay_ms(3, 100, 30'000, 0), 400u);
    EXPECT_EQ(reconnect_delay_ms(1000, 100, 30'000, 15'000), 30'000u);
}

TEST(ReconnectDelay, DifferentDrawsSpreadAFleetApart) {
    std::set<std::uint64_t> delays;
    for (std::uint64_t random = 0; random < 100; ++random) {
        delays.insert(reconnect_delay_ms(5, 100, 30'000, random * 7919));
    }
    EXPECT_GT(delays.size(), 50u);
}

}  // namespace
}  // namespace c10k::push
