#include "push/info_json.hpp"

#include <gtest/gtest.h>

namespace c10k::push {
namespace {

TEST(ChannelInfoJson, IdsAreStrings) {
    Registry::Info info{12000, 1700000000000123, 100};
    EXPECT_EQ(
        channel_info_json("score", info),
        R"({"channel":"score","subscribers":12000,"last_id":"1700000000000123","messages":100})");
}

TEST(ChannelInfoJson, EmptyChannel) {
    EXPECT_EQ(channel_info_json("a.b", {}),
              R"({"channel":"a.b","subscribers":0,"last_id":"0","messages":0})");
}

TEST(ChannelInfoJson, NameIsQuoted) {
    // Valid channel names need no escaping, but the JSON stays well-formed whatever it is given.
    EXPECT_EQ(channel_info_json("a\"b\\c", {}),
              R"({"channel":"a\"b\\c","subscribers":0,"last_id":"0","messages":0})");
}

TEST(PushStatusJson, WithoutRedisOnlyTheChannels) {
    BackplaneStats stats;
    EXPECT_EQ(push_status_json(3, nullptr, stats), R"({"channels":3})");
}

TEST(PushStatusJson, WithRedisTheBackplaneCounters) {
    BackplaneStats stats;
    stats.commands_up = true;
    stats.published = 7;
    stats.gaps = 2;
    stats.caught_up = 5;
    stats.history_lost = 1;
    RedisAddress address;
    address.host = "127.0.0.1";
    address.port = 6380;
    EXPECT_EQ(push_status_json(0, &address, stats),
              R"({"channels":0,"redis":{"address":"127.0.0.1:6380","commands_up":true,)"
              R"("subscriptions_up":false,"published":7,"publish_failed":0,"received":0,)"
              R"("duplicates":0,"gaps":2,"caught_up":5,"history_lost":1,"connection_losses":0}})");
}

}  // namespace
}  // namespace c10k::push
