// Live push over WebSocket end to end: the real binary with --push, WebSocket subscribers on raw
// sockets (tests/support/ws_client, written apart from the server's websocket layer), publishes
// through the publish listener. The core behaviours run on every engine that holds subscribers.

#include <signal.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/json_value.hpp"
#include "support/push_server.hpp"
#include "support/ws_client.hpp"

namespace c10k::test {
namespace {

/// One message of the push protocol (src/push/ws_format.hpp), parsed.
struct Pushed {
    std::string channel, id, event, data;
    JsonValue whole;
};

std::optional<Pushed> next_pushed(WsClient& client, int timeout_ms = 5000) {
    std::optional<WsMessage> message = client.read_message(timeout_ms);
    if (!message) return std::nullopt;
    EXPECT_EQ(message->opcode, ws_opcode::text);
    std::optional<JsonValue> json = parse_json(message->payload);
    EXPECT_TRUE(json) << message->payload;
    if (!json) return std::nullopt;
    Pushed p;
    p.channel = (*json)["channel"].string;
    p.id = (*json)["id"].string;
    p.event = (*json)["event"].string;
    p.data = (*json)["data"].string;
    p.whole = *json;
    return p;
}

/// A subscriber connected to `path`, its handshake accepted and its "subscribed" notice read
/// (when `channel` is not empty).
std::unique_ptr<WsClient> ws_subscribe(int port, const std::string& path,
                                       const std::string& channel, WsHandshake handshake = {}) {
    auto client = std::make_unique<WsClient>(port);
    handshake.path = path;
    EXPECT_TRUE(client->handshake(handshake))
        << client->answer().status << " " << client->answer().body;
    if (!channel.empty()) {
        std::optional<Pushed> first = next_pushed(*client);
        EXPECT_TRUE(first);
        if (first) {
            EXPECT_EQ(first->event, "subscribed");
            EXPECT_EQ(first->channel, channel);
        }
    }
    return client;
}

class PushWsOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(PushWsOnEveryEngine, SubscriberGetsEveryPublishInOrderOnce) {
    PushServer s(GetParam());
    auto sub = ws_subscribe(s.port, "/live/news", "news");
    ASSERT_TRUE(s.subscribers_are("news", 1));
    std::vector<std::string> ids;
    for (int m = 0; m < 5; ++m) ids.push_back(s.publish("news", "line " + std::to_string(m)));
    for (int m = 0; m < 5; ++m) {
        std::optional<Pushed> p = next_pushed(*sub);
        ASSERT_TRUE(p) << sub->last_error();
        EXPECT_EQ(p->channel, "news");
        EXPECT_EQ(p->id, ids[static_cast<std::size_t>(m)]);
        EXPECT_EQ(p->data, "line " + std::to_string(m));
    }
    EXPECT_FALSE(sub->read_message(300)) << "nothing more, nothing twice";
}

TEST_P(PushWsOnEveryEngine, OneConnectionCarriesSeveralChannels) {
    PushServer s(GetParam());
    auto sub = ws_subscribe(s.port, "/live/", "");
    ASSERT_TRUE(sub->send_text(R"({"subscribe":"a"})"));
    ASSERT_TRUE(sub->send_text(R"({"subscribe":"b"})"));
    for (const char* name : {"a", "b"}) {
        std::optional<Pushed> ack = next_pushed(*sub);
        ASSERT_TRUE(ack);
        EXPECT_EQ(ack->event, "subscribed");
        EXPECT_EQ(ack->channel, name);
    }
    ASSERT_TRUE(s.subscribers_are("b", 1));
    s.publish("a", "to a");
    s.publish("b", "to b");
    std::optional<Pushed> first = next_pushed(*sub);
    std::optional<Pushed> second = next_pushed(*sub);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->channel + ":" + first->data, "a:to a");
    EXPECT_EQ(second->channel + ":" + second->data, "b:to b");

    ASSERT_TRUE(sub->send_text(R"({"unsubscribe":"a"})"));
    std::optional<Pushed> gone = next_pushed(*sub);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->event, "unsubscribed");
    ASSERT_TRUE(s.subscribers_are("a", 0));
    s.publish("a", "not for us");
    s.publish("b", "still for us");
    std::optional<Pushed> after = next_pushed(*sub);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->channel + ":" + after->data, "b:still for us");
}

TEST_P(PushWsOnEveryEngine, ResumeByLastEventIdLosesNothingAndRepeatsNothing) {
    PushServer s(GetParam());
    std::vector<std::string> ids;
    for (int m = 0; m < 4; ++m) ids.push_back(s.publish("r", "m" + std::to_string(m)));
    // Saw m0 and m1 before it dropped: resumes with m2, m3, then the live m4.
    auto sub = ws_subscribe(s.port, "/live/r?last_event_id=" + ids[1], "r");
    for (int m = 2; m < 4; ++m) {
        std::optional<Pushed> p = next_pushed(*sub);
        ASSERT_TRUE(p);
        EXPECT_EQ(p->id, ids[static_cast<std::size_t>(m)]);
    }
    std::string live = s.publish("r", "m4");
    std::optional<Pushed> p = next_pushed(*sub);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, live);
    EXPECT_EQ(p->data, "m4");
    EXPECT_FALSE(sub->read_message(300));
}

TEST_P(PushWsOnEveryEngine, CompressedFramesDecodeForEveryWindow) {
    PushServer s(GetParam());
    std::string big(300, 'z');
    big += " and the rest of a long enough message";
    // Two windows: each gets its own shared compressed frame.
    WsHandshake wide;
    wide.extensions = "permessage-deflate";
    WsHandshake narrow;
    narrow.extensions = "permessage-deflate; server_max_window_bits=10";
    auto a = ws_subscribe(s.port, "/live/z", "z", wide);
    auto b = ws_subscribe(s.port, "/live/z", "z", narrow);
    EXPECT_NE(a->answer().header("sec-websocket-extensions").find("server_no_context_takeover"),
              std::string::npos)
        << "subscribers are compressed without context, so one frame serves all";
    a->use_deflate(15, false, 15, true);
    b->use_deflate(15, false, 10, true);
    ASSERT_TRUE(s.subscribers_are("z", 2));
    for (int m = 0; m < 3; ++m) s.publish("z", big + std::to_string(m));
    for (auto* client : {a.get(), b.get()}) {
        for (int m = 0; m < 3; ++m) {
            std::optional<WsMessage> raw = client->read_message();
            ASSERT_TRUE(raw) << client->last_error();
            EXPECT_TRUE(raw->compressed);
            std::optional<JsonValue> json = parse_json(raw->payload);
            ASSERT_TRUE(json) << raw->payload;
            EXPECT_EQ((*json)["data"].string, big + std::to_string(m));
        }
    }
}

TEST_P(PushWsOnEveryEngine, SigtermClosesWithGoingAway) {
    PushServer s(GetParam());
    auto sub = ws_subscribe(s.port, "/live/t", "t");
    ASSERT_TRUE(s.subscribers_are("t", 1));
    ::kill(s.server->pid(), SIGTERM);
    std::optional<WsClose> close = sub->read_close(5000);
    ASSERT_TRUE(close) << sub->last_error();
    EXPECT_EQ(close->code, 1001);
    ASSERT_TRUE(sub->send_close(1001));
    EXPECT_TRUE(sub->wait_tcp_closed(5000));
    EXPECT_EQ(s.server->stop(SIGTERM, 10000), 0);
}

INSTANTIATE_TEST_SUITE_P(PushEngines, PushWsOnEveryEngine, ::testing::ValuesIn(kPushEngines),
                         engine_param_name);

// ---- the rest on the default engine --------------------------------------------------------

TEST(PushWs, HistoryLostIsAnExplicitEvent) {
    PushServer s("epoll", {"--push-history", "2"});
    std::vector<std::string> ids;
    for (int m = 0; m < 5; ++m) ids.push_back(s.publish("h", "m" + std::to_string(m)));
    auto sub = ws_subscribe(s.port, "/live/h?last_event_id=" + ids[0], "h");
    std::optional<Pushed> lost = next_pushed(*sub);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->event, "history-lost");
    EXPECT_EQ(lost->whole["data"]["last_event_id"].string, ids[0]);
    EXPECT_EQ(lost->whole["data"]["first_available"].string, ids[3]);
    for (int m = 3; m < 5; ++m) {
        std::optional<Pushed> p = next_pushed(*sub);
        ASSERT_TRUE(p);
        EXPECT_EQ(p->id, ids[static_cast<std::size_t>(m)]);
    }
}

TEST(PushWs, UnsharedCompressionKeepsEachSubscribersOwnContext) {
    // The comparison mode of the benchmark: each subscriber compressed apart, with context.
    PushServer s("epoll", {"--ws-share-compressed", "false"});
    WsHandshake offer;
    offer.extensions = "permessage-deflate";
    auto sub = ws_subscribe(s.port, "/live/u", "u", offer);
    EXPECT_EQ(sub->answer().header("sec-websocket-extensions").find("server_no_context_takeover"),
              std::string::npos);
    sub->use_deflate(15, false, 15, false);
    std::string big(300, 'y');
    for (int m = 0; m < 3; ++m) s.publish("u", big + std::to_string(m));
    for (int m = 0; m < 3; ++m) {
        std::optional<WsMessage> raw = sub->read_message();
        ASSERT_TRUE(raw) << sub->last_error();
        EXPECT_TRUE(raw->compressed);
        std::optional<JsonValue> json = parse_json(raw->payload);
        ASSERT_TRUE(json) << raw->payload;
        EXPECT_EQ((*json)["data"].string, big + std::to_string(m));
    }
}

TEST(PushWs, PublishingOverWebSocketOnlyOnThePublishListenerWithTheToken) {
    PushServer s("epoll", {"--publish-token", "sesame"});
    // The public listener has no /pub/: a WebSocket there is not a publisher.
    WsClient outsider(s.port);
    WsHandshake to_pub;
    to_pub.path = "/pub/x";
    EXPECT_FALSE(outsider.handshake(to_pub));
    EXPECT_EQ(outsider.answer().status, 404);
    // The publish listener wants the token before it switches protocols.
    WsClient anonymous(s.pub);
    EXPECT_FALSE(anonymous.handshake(to_pub));
    EXPECT_EQ(anonymous.answer().status, 401);

    auto sub = ws_subscribe(s.port, "/live/x", "x");  // registered once "subscribed" came
    WsClient publisher(s.pub);
    WsHandshake with_token = to_pub;
    with_token.extra_headers = "Authorization: Bearer sesame\r\n";
    ASSERT_TRUE(publisher.handshake(with_token)) << publisher.answer().status;
    ASSERT_TRUE(publisher.send_text("over a socket"));
    std::optional<WsMessage> ack = publisher.read_message();
    ASSERT_TRUE(ack);
    std::optional<JsonValue> json = parse_json(ack->payload);
    ASSERT_TRUE(json) << ack->payload;
    EXPECT_EQ((*json)["subscribers"].integer(), 1);
    std::optional<Pushed> p = next_pushed(*sub);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->data, "over a socket");
    EXPECT_EQ(p->id, (*json)["id"].string);
}

TEST(PushWs, BadCommandsAreAnsweredAndTheConnectionStays) {
    PushServer s("epoll");
    auto sub = ws_subscribe(s.port, "/live/ok", "ok");
    for (std::string bad :
         {std::string("not json"), std::string(R"({"subscribe":"../x"})"),
          std::string(R"({"subscribe":"a","unsubscribe":"b"})"),
          std::string(R"({"unsubscribe":"never"})"), std::string(R"({"subscribe":"ok"})")}) {
        ASSERT_TRUE(sub->send_text(bad));
        std::optional<Pushed> answer = next_pushed(*sub);
        ASSERT_TRUE(answer) << bad;
        EXPECT_FALSE(answer->whole["error"].string.empty()) << bad;
    }
    ASSERT_TRUE(sub->send_binary("binary is not a command"));
    std::optional<Pushed> answer = next_pushed(*sub);
    ASSERT_TRUE(answer);
    EXPECT_FALSE(answer->whole["error"].string.empty());
    // A command over the subscriber's message limit ends the connection with 1009.
    ASSERT_TRUE(sub->send_text(std::string(5000, ' ')));
    std::optional<WsClose> close = sub->read_close();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->code, 1009);

    // A bad channel in the URL is refused before the switch.
    WsClient refused(s.port);
    WsHandshake bad_name;
    bad_name.path = "/live/..";
    EXPECT_FALSE(refused.handshake(bad_name));
    EXPECT_EQ(refused.answer().status, 400);
}

TEST(PushWs, DeletedChannelUnsubscribesItsWebSockets) {
    PushServer s("epoll");
    auto sub = ws_subscribe(s.port, "/live/d", "d");
    ASSERT_TRUE(s.subscribers_are("d", 1));
    EXPECT_EQ(request(s.pub, "DELETE", "/pub/d").status, 200);
    std::optional<Pushed> gone = next_pushed(*sub);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->event, "unsubscribed");
    EXPECT_EQ(gone->channel, "d");
}

TEST(PushWs, DisconnectFreesEverySubscriptionAtOnce) {
    PushServer s("epoll");
    std::vector<std::unique_ptr<WsClient>> subs;
    for (int i = 0; i < 20; ++i) {
        subs.push_back(ws_subscribe(s.port, "/live/one", "one"));
        ASSERT_TRUE(subs.back()->send_text(R"({"subscribe":"two"})"));
    }
    EXPECT_TRUE(s.subscribers_are("one", 20));
    EXPECT_TRUE(s.subscribers_are("two", 20));
    subs.resize(5);  // closed without a close frame: the server sees the socket end
    EXPECT_TRUE(s.subscribers_are("one", 5));
    EXPECT_TRUE(s.subscribers_are("two", 5));
    for (auto& sub : subs) ASSERT_TRUE(sub->send_close(1000));
    for (auto& sub : subs) EXPECT_TRUE(sub->wait_tcp_closed());
    EXPECT_TRUE(s.subscribers_are("one", 0));
    EXPECT_TRUE(s.subscribers_are("two", 0));
}

TEST(PushWs, SlowSubscriberIsClosedAtItsBoundAndOthersGetEverything) {
    PushServer s("epoll", {"--push-max-queue", "262144", "--push-max-message", "100000",
                           "--push-history", "1"});
    // A subscriber that never reads, behind a small receive buffer.
    auto slow = std::make_unique<WsClient>(s.port);
    int small = 4096;
    ::setsockopt(slow->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    WsHandshake handshake;
    handshake.path = "/live/firehose";
    ASSERT_TRUE(slow->handshake(handshake));
    auto fast = ws_subscribe(s.port, "/live/firehose", "firehose");
    ASSERT_TRUE(s.subscribers_are("firehose", 2));
    std::string body(50'000, 'p');
    for (int i = 0; i < 300; ++i) {
        s.publish("firehose", body);
        std::optional<Pushed> p = next_pushed(*fast);
        ASSERT_TRUE(p) << "message " << i;
        ASSERT_EQ(p->data.size(), body.size());
    }
    EXPECT_TRUE(s.subscribers_are("firehose", 1)) << "the slow one is still subscribed";
    EXPECT_NE(s.server->output().find("closing a slow WebSocket subscriber"), std::string::npos);
}

TEST(PushWs, ProcessesDeliverToWebSocketsInEveryProcess) {
    PushServer s("epoll", {"--processes", "3"});
    s.wait_for_group();
    std::vector<std::unique_ptr<WsClient>> subs;
    for (int i = 0; i < 12; ++i) subs.push_back(ws_subscribe(s.port, "/live/g", "g"));
    // Each "subscribed" notice came after its process registered the subscription, and the
    // sequencer sends every message to every process.
    std::string id = s.publish("g", "everywhere");
    for (auto& sub : subs) {
        std::optional<Pushed> p = next_pushed(*sub);
        ASSERT_TRUE(p);
        EXPECT_EQ(p->id, id);
        EXPECT_EQ(p->data, "everywhere");
    }
}

}  // namespace
}  // namespace c10k::test
