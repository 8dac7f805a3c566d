#include "push/names.hpp"

#include <gtest/gtest.h>

#include <string>

namespace c10k::push {
namespace {

TEST(ChannelName, AcceptsTheAllowedCharacters) {
    EXPECT_TRUE(valid_channel_name("a"));
    EXPECT_TRUE(valid_channel_name("scoreboard"));
    EXPECT_TRUE(valid_channel_name("Game-7_koshien.2007~live:user@host"));
    EXPECT_TRUE(valid_channel_name("..."));
    EXPECT_TRUE(valid_channel_name(".hidden"));
    EXPECT_TRUE(valid_channel_name(std::string(128, 'x')));
}

TEST(ChannelName, RefusesEmptyTooLongDotsAndOtherCharacters) {
    EXPECT_FALSE(valid_channel_name(""));
    EXPECT_FALSE(valid_channel_name(std::string(129, 'x')));
    EXPECT_FALSE(valid_channel_name("."));
    EXPECT_FALSE(valid_channel_name(".."));
    for (std::string_view bad : {"a/b", "a b", "a%20b", "a?b", "a#b", "a&b", "a\nb", "a\rb", "é",
                                 "a+b", "a\\b", "a\"b", "a=b", "a,b", "a;b"}) {
        EXPECT_FALSE(valid_channel_name(bad)) << bad;
    }
    EXPECT_FALSE(valid_channel_name(std::string_view("a\0b", 3)));
}

TEST(EventId, Decimal) {
    EXPECT_EQ(parse_event_id("0"), 0u);
    EXPECT_EQ(parse_event_id("123"), 123u);
    EXPECT_EQ(parse_event_id("1700000000000000"), 1700000000000000u);
    EXPECT_EQ(parse_event_id("007"), 7u);
    EXPECT_EQ(parse_event_id("  42 "), 42u);
    EXPECT_EQ(parse_event_id("\t42\t"), 42u);
}

TEST(EventId, EtagForms) {
    EXPECT_EQ(parse_event_id("\"123\""), 123u);
    EXPECT_EQ(parse_event_id("W/\"123\""), 123u);
    EXPECT_EQ(parse_event_id(" W/\"123\" "), 123u);
    EXPECT_FALSE(parse_event_id("W/123"));
    EXPECT_FALSE(parse_event_id("W/"));
    EXPECT_FALSE(parse_event_id("\"123"));
    EXPECT_FALSE(parse_event_id("123\""));
    EXPECT_FALSE(parse_event_id("\"\""));
    EXPECT_FALSE(parse_event_id("W/\"\""));
    EXPECT_FALSE(parse_event_id("\""));
    EXPECT_FALSE(parse_event_id("\" 123\""));
    EXPECT_FALSE(parse_event_id("w/\"123\""));
    EXPECT_FALSE(parse_event_id("\"123\", \"124\""));
}

TEST(EventId, LimitsOfSixtyFourBits) {
    EXPECT_EQ(parse_event_id("18446744073709551615"), 18446744073709551615u);
    EXPECT_FALSE(parse_event_id("18446744073709551616"));
    EXPECT_FALSE(parse_event_id("99999999999999999999"));
    EXPECT_FALSE(parse_event_id("000000000000000000001"));  // 21 digits
    EXPECT_FALSE(parse_event_id("\"18446744073709551616\""));
}

TEST(EventId, RefusesJunk) {
    for (std::string_view bad :
         {"", " ", "-1", "+1", "1.0", "1e3", "0x10", "12a", "a12", "1 2", "null", "1,2"}) {
        EXPECT_FALSE(parse_event_id(bad)) << bad;
    }
    EXPECT_FALSE(parse_event_id(std::string_view("1\0", 2)));
}

TEST(QueryParam, FindsTheFirstRawValue) {
    EXPECT_EQ(query_param("last_event_id=5", "last_event_id"), "5");
    EXPECT_EQ(query_param("a=1&last_event_id=5&b=2", "last_event_id"), "5");
    EXPECT_EQ(query_param("a=1&b=2&c=%20x", "c"), "%20x");
    EXPECT_EQ(query_param("a=1&a=2", "a"), "1");
    EXPECT_EQ(query_param("?a=1", "a"), "1");
    EXPECT_EQ(query_param("a=x=y", "a"), "x=y");
}

TEST(QueryParam, EmptyWhenAbsentOrEmpty) {
    EXPECT_EQ(query_param("", "a"), "");
    EXPECT_EQ(query_param("b=1", "a"), "");
    EXPECT_EQ(query_param("a=", "a"), "");
    EXPECT_EQ(query_param("a", "a"), "");
    EXPECT_EQ(query_param("aa=1&ba=2", "a"), "");
    EXPECT_EQ(query_param("xa=1", "a"), "");
    EXPECT_EQ(query_param("&&a=3&", "a"), "3");
    EXPECT_EQ(query_param("a&a=4", "a"), "4");
}

}  // namespace
}  // namespace c10k::push
