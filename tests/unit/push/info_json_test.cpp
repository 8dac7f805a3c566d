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

}  // namespace
}  // namespace c10k::push
