// The messages of push over WebSocket and the commands subscribers send (push/ws_format.hpp).

#include "push/ws_format.hpp"

#include <gtest/gtest.h>

namespace c10k::push {
namespace {

TEST(WsFormat, AMessageNamesItsChannelIdEventAndData) {
    Message m;
    m.id = 1796025099499000;
    m.event = "goal";
    m.data = "line 1\n\"quoted\"";
    std::string out;
    append_ws_event(out, "scores", m);
    EXPECT_EQ(out, R"({"channel":"scores","id":"1796025099499000","event":"goal",)"
                   R"("data":"line 1\n\"quoted\""})");
    m.event.clear();
    out.clear();
    append_ws_event(out, "s", m);
    EXPECT_EQ(out.find("\"event\""), std::string::npos) << "the default event is left out";
}

TEST(WsFormat, DataThatIsNotUtf8ArrivesWithReplacementCharacters) {
    Message m;
    m.id = 5;
    m.data = std::string("ok \xff\xc3\xa9 \xe2\x82", 9);
    std::string out;
    append_ws_event(out, "c", m);
    EXPECT_NE(out.find("ok \xEF\xBF\xBD\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos)
        << out;
}

TEST(WsFormat, NoticesForSubscribeHistoryLostAndErrors) {
    std::string out;
    append_ws_subscribed(out, "a", 17);
    EXPECT_EQ(out, R"({"channel":"a","event":"subscribed","last_id":"17"})");
    out.clear();
    append_ws_subscribed(out, "a", 0);
    EXPECT_EQ(out, R"({"channel":"a","event":"subscribed"})") << "no position before a message";
    out.clear();
    append_ws_history_lost(out, "a", 9, 12);
    EXPECT_EQ(out, R"({"channel":"a","event":"history-lost","data":)"
                   R"({"last_event_id":"9","first_available":"12"}})");
    out.clear();
    append_ws_unsubscribed(out, "a");
    EXPECT_EQ(out, R"({"channel":"a","event":"unsubscribed"})");
    out.clear();
    append_ws_error(out, "no \"such\" thing");
    EXPECT_EQ(out, R"({"error":"no \"such\" thing"})");
}

TEST(WsFormat, CommandsParse) {
    WsCommand c;
    std::string error;
    ASSERT_TRUE(parse_ws_command(R"({"subscribe":"news"})", c, error)) << error;
    EXPECT_EQ(c.kind, WsCommand::Kind::subscribe);
    EXPECT_EQ(c.channel, "news");
    EXPECT_FALSE(c.last_event_id);
    ASSERT_TRUE(parse_ws_command(R"({"subscribe":"news","last_event_id":"42"})", c, error));
    EXPECT_EQ(c.last_event_id, 42u);
    ASSERT_TRUE(parse_ws_command(R"({"subscribe":"news","last_event_id":43})", c, error));
    EXPECT_EQ(c.last_event_id, 43u);
    ASSERT_TRUE(parse_ws_command(R"({"subscribe":"news","last_event_id":"x"})", c, error));
    EXPECT_FALSE(c.last_event_id) << "a malformed id counts as none, as for SSE";
    ASSERT_TRUE(parse_ws_command(R"( {"unsubscribe":"news"} )", c, error));
    EXPECT_EQ(c.kind, WsCommand::Kind::unsubscribe);
}

TEST(WsFormat, BadCommandsSayWhatIsWrong) {
    WsCommand c;
    for (const char* bad : {"", "subscribe news", "[]", "{}", R"({"subscribe":5})",
                            R"({"subscribe":"a","unsubscribe":"a"})", R"({"subscribe":"../x"})",
                            R"({"subscribe":""})", R"({"subscribe":"a")"}) {
        std::string error;
        EXPECT_FALSE(parse_ws_command(bad, c, error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

}  // namespace
}  // namespace c10k::push
