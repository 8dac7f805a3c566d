#include "push/redis_connection.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace c10k::push {
namespace {

using Type = RedisReply::Type;
using namespace std::string_literals;

/// Runs `check` once for every way of cutting `bytes` in two (including not at all), each time
/// on a fresh connection prepared by `prepare`, so that no reply depends on how reads fall.
void for_every_split(std::string_view bytes, const std::function<void(RedisConnection&)>& prepare,
                     const std::function<void(RedisConnection&, bool fed)>& check) {
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        RedisConnection connection;
        prepare(connection);
        bool fed = connection.feed(bytes.substr(0, cut));
        if (fed) fed = connection.feed(bytes.substr(cut));
        check(connection, fed);
    }
}

TEST(RedisConnection, FormatsCommandsBinarySafeAndPipelinesThem) {
    RedisConnection connection;
    std::string binary("a\0b\r\n", 5);
    EXPECT_TRUE(connection.command({"SET", "key", binary}, {}));
    EXPECT_TRUE(connection.command({"GET", "key"}, {}));
    EXPECT_EQ(connection.output(),
              "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\na\0b\r\n\r\n"
              "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"s);
    EXPECT_EQ(connection.pending(), 2u);
    connection.consume_output(8);
    EXPECT_EQ(connection.output().substr(0, 4), "SET\r");
    connection.consume_output(connection.output().size());
    EXPECT_TRUE(connection.output().empty());
}

TEST(RedisConnection, HandsEveryReplyTypeToItsCommandInOrder) {
    std::string bytes =
        "+OK\r\n"
        "$5\r\nh\0\r\nx\r\n"
        ":-42\r\n"
        "$-1\r\n"
        "*2\r\n*1\r\n$1\r\na\r\n:7\r\n"
        "*-1\r\n"
        "-ERR wrong type\r\n"s;  // the bulk string is binary: h NUL CR LF x
    std::vector<RedisReply> replies;
    for_every_split(
        bytes,
        [&](RedisConnection& connection) {
            replies.clear();
            for (int i = 0; i < 7; ++i) {
                ASSERT_TRUE(connection.command(
                    {"PING"}, [&replies](const RedisReply& reply) { replies.push_back(reply); }));
            }
        },
        [&](RedisConnection& connection, bool fed) {
            ASSERT_TRUE(fed) << connection.failure();
            ASSERT_EQ(replies.size(), 7u);
            EXPECT_EQ(replies[0].type, Type::status);
            EXPECT_EQ(replies[0].text, "OK");
            EXPECT_EQ(replies[1].type, Type::string);
            EXPECT_EQ(replies[1].text, std::string("h\0\r\nx", 5));
            EXPECT_EQ(replies[2].type, Type::integer);
            EXPECT_EQ(replies[2].integer, -42);
            EXPECT_EQ(replies[3].type, Type::nil);
            ASSERT_EQ(replies[4].type, Type::array);
            ASSERT_EQ(replies[4].elements.size(), 2u);
            ASSERT_EQ(replies[4].elements[0].elements.size(), 1u);
            EXPECT_EQ(replies[4].elements[0].elements[0].text, "a");
            EXPECT_EQ(replies[4].elements[1].integer, 7);
            EXPECT_EQ(replies[5].type, Type::nil);
            EXPECT_EQ(replies[6].type, Type::error);
            EXPECT_EQ(replies[6].text, "ERR wrong type");
            EXPECT_TRUE(replies[6].is_error());
            EXPECT_EQ(connection.pending(), 0u);
            EXPECT_FALSE(connection.failed());
        });
}

TEST(RedisConnection, AnErrorReplyGoesToItsCommandAndTheConnectionGoesOn) {
    std::vector<std::string> seen;
    RedisConnection connection;
    for (const char* name : {"a", "b", "c"}) {
        ASSERT_TRUE(connection.command({"GET", name}, [&seen, name](const RedisReply& reply) {
            seen.push_back(std::string(name) +
                           (reply.is_error() ? "!" + reply.text : "=" + reply.text));
        }));
    }
    ASSERT_TRUE(connection.feed("$1\r\n1\r\n-WRONGTYPE no\r\n$1\r\n3\r\n"));
    EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "b!WRONGTYPE no", "c=3"}));
}

TEST(RedisConnection, DeliversMessagesAndConfirmationsInSubscribeMode) {
    std::string bytes =
        "*3\r\n$9\r\nsubscribe\r\n$3\r\none\r\n:1\r\n"
        "*3\r\n$9\r\nsubscribe\r\n$3\r\ntwo\r\n:2\r\n"
        "*3\r\n$7\r\nmessage\r\n$3\r\none\r\n$5\r\nhe\0lo\r\n"
        "*3\r\n$7\r\nmessage\r\n$3\r\ntwo\r\n$0\r\n\r\n"
        "*3\r\n$11\r\nunsubscribe\r\n$3\r\none\r\n:1\r\n"s;
    std::vector<std::string> events;
    int subscribed_done = 0;
    int unsubscribed_done = 0;
    for_every_split(
        bytes,
        [&](RedisConnection& connection) {
            events.clear();
            subscribed_done = unsubscribed_done = 0;
            connection.set_message_handler([&](std::string_view channel, std::string_view payload) {
                events.push_back("message " + std::string(channel) + " " + std::string(payload));
            });
            connection.set_subscription_handler(
                [&](bool subscribed, std::string_view channel, long long count) {
                    events.push_back((subscribed ? "sub " : "unsub ") + std::string(channel) + " " +
                                     std::to_string(count));
                });
            std::string_view both[] = {"one", "two"};
            ASSERT_TRUE(connection.subscribe(both, [&](const RedisReply& reply) {
                EXPECT_FALSE(reply.is_error());
                ++subscribed_done;
            }));
            std::string_view one[] = {"one"};
            ASSERT_TRUE(
                connection.unsubscribe(one, [&](const RedisReply&) { ++unsubscribed_done; }));
            EXPECT_EQ(connection.output(),
                      "*3\r\n$9\r\nSUBSCRIBE\r\n$3\r\none\r\n$3\r\ntwo\r\n"
                      "*2\r\n$11\r\nUNSUBSCRIBE\r\n$3\r\none\r\n");
        },
        [&](RedisConnection& connection, bool fed) {
            ASSERT_TRUE(fed) << connection.failure();
            EXPECT_EQ(events, (std::vector<std::string>{"sub one 1", "sub two 2",
                                                        std::string("message one he\0lo", 17),
                                                        "message two ", "unsub one 1"}));
            EXPECT_EQ(subscribed_done, 1);
            EXPECT_EQ(unsubscribed_done, 1);
            EXPECT_EQ(connection.subscriptions(), 1);
            EXPECT_EQ(connection.pending(), 0u);
        });
}

TEST(RedisConnection, ASubscribedPingGetsItsPongBetweenMessages) {
    // In subscribe mode Redis answers PING with ["pong", ""]: neither a message nor a
    // confirmation, it is the PING's reply, whatever messages come around it.
    std::string bytes =
        "*3\r\n$9\r\nsubscribe\r\n$3\r\none\r\n:1\r\n"
        "*3\r\n$7\r\nmessage\r\n$3\r\none\r\n$6\r\nbefore\r\n"
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        "*3\r\n$7\r\nmessage\r\n$3\r\none\r\n$5\r\nafter\r\n"
        "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"s;
    std::vector<std::string> events;
    for_every_split(
        bytes,
        [&](RedisConnection& connection) {
            events.clear();
            connection.set_message_handler([&](std::string_view channel, std::string_view payload) {
                events.push_back("message " + std::string(channel) + " " + std::string(payload));
            });
            std::string_view one[] = {"one"};
            ASSERT_TRUE(connection.subscribe(one, [&](const RedisReply& reply) {
                events.push_back(reply.is_error() ? "subscribe failed" : "subscribed");
            }));
            auto pong = [&](const RedisReply& reply) {
                ASSERT_EQ(reply.type, Type::array);
                ASSERT_EQ(reply.elements.size(), 2u);
                events.push_back(reply.elements[0].text + " '" + reply.elements[1].text + "'");
            };
            ASSERT_TRUE(connection.command({"PING"}, pong));
            ASSERT_TRUE(connection.command({"PING", "hi"}, pong));
        },
        [&](RedisConnection& connection, bool fed) {
            ASSERT_TRUE(fed) << connection.failure();
            EXPECT_EQ(events,
                      (std::vector<std::string>{"subscribed", "message one before", "pong ''",
                                                "message one after", "pong 'hi'"}));
            EXPECT_EQ(connection.subscriptions(), 1);
            EXPECT_EQ(connection.pending(), 0u);
            EXPECT_EQ(connection.received(), 5u);
        });
}

TEST(RedisConnection, APongWhereAConfirmationWasDueFailsTheConnection) {
    // Replies out of step with the commands: handing the pong to the subscription would end it
    // early and give every later command the answer of the one before.
    RedisConnection connection;
    std::vector<RedisReply> replies;
    std::string_view channels[] = {"one", "two"};
    ASSERT_TRUE(
        connection.subscribe(channels, [&](const RedisReply& reply) { replies.push_back(reply); }));
    ASSERT_TRUE(
        connection.command({"PING"}, [&](const RedisReply& reply) { replies.push_back(reply); }));
    EXPECT_FALSE(connection.feed(
        "*3\r\n$9\r\nsubscribe\r\n$3\r\none\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n"));
    EXPECT_NE(connection.failure().find("protocol error"), std::string::npos)
        << connection.failure();
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].type, Type::failed);
    EXPECT_EQ(replies[1].type, Type::failed);
}

TEST(RedisConnection, AMessageWithoutAStringPayloadFailsTheConnection) {
    RedisConnection connection;
    int messages = 0;
    connection.set_message_handler([&](std::string_view, std::string_view) { ++messages; });
    std::string_view one[] = {"one"};
    ASSERT_TRUE(connection.subscribe(one, {}));
    ASSERT_TRUE(connection.feed("*3\r\n$9\r\nsubscribe\r\n$3\r\none\r\n:1\r\n"));
    EXPECT_FALSE(connection.feed("*3\r\n$7\r\nmessage\r\n$3\r\none\r\n:5\r\n"));
    EXPECT_EQ(messages, 0);
    EXPECT_NE(connection.failure().find("protocol error"), std::string::npos)
        << connection.failure();
}

TEST(RedisConnection, ReceivedCountsEveryReplyAndPushButNotPartialOnes) {
    RedisConnection connection;
    EXPECT_EQ(connection.received(), 0u);
    ASSERT_TRUE(connection.command({"GET", "a"}, {}));
    ASSERT_TRUE(connection.command({"GET", "b"}, {}));
    ASSERT_TRUE(connection.feed("$1\r\na\r\n$1\r"));
    EXPECT_EQ(connection.received(), 1u);
    ASSERT_TRUE(connection.feed("\nb\r\n"));
    EXPECT_EQ(connection.received(), 2u);
    std::string_view one[] = {"one"};
    ASSERT_TRUE(connection.subscribe(one, {}));
    ASSERT_TRUE(
        connection.feed("*3\r\n$9\r\nsubscribe\r\n$3\r\none\r\n:1\r\n"
                        "*3\r\n$7\r\nmessage\r\n$3\r\none\r\n$1\r\nx\r\n"));
    EXPECT_EQ(connection.received(), 4u);
}

TEST(RedisConnection, AMessageShapedReplyIsAnOrdinaryReplyWhenNotSubscribed) {
    RedisConnection connection;
    int messages = 0;
    RedisReply got;
    connection.set_message_handler([&](std::string_view, std::string_view) { ++messages; });
    ASSERT_TRUE(connection.command({"LRANGE", "l", "0", "-1"},
                                   [&](const RedisReply& reply) { got = reply; }));
    ASSERT_TRUE(connection.feed("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n"));
    EXPECT_EQ(messages, 0);
    ASSERT_EQ(got.elements.size(), 3u);
    EXPECT_EQ(got.elements[2].text, "b");
}

TEST(RedisConnection, AnErrorRefusingASubscribeGoesToItsCallback) {
    RedisConnection connection;
    RedisReply got;
    std::string_view channel[] = {"c"};
    ASSERT_TRUE(connection.subscribe(channel, [&](const RedisReply& reply) { got = reply; }));
    ASSERT_TRUE(connection.feed("-NOPERM no\r\n"));
    EXPECT_EQ(got.type, Type::error);
    EXPECT_EQ(connection.pending(), 0u);
    EXPECT_EQ(connection.subscriptions(), 0);
}

TEST(RedisConnection, GarbageFailsTheConnectionAndTellsEveryPendingCommand) {
    std::string bytes = "+OK\r\n?what\r\n";
    std::vector<RedisReply> replies;
    for_every_split(
        bytes,
        [&](RedisConnection& connection) {
            replies.clear();
            for (int i = 0; i < 3; ++i) {
                ASSERT_TRUE(connection.command(
                    {"PING"}, [&](const RedisReply& reply) { replies.push_back(reply); }));
            }
        },
        [&](RedisConnection& connection, bool fed) {
            EXPECT_FALSE(fed);
            EXPECT_TRUE(connection.failed());
            EXPECT_NE(connection.failure().find("not RESP"), std::string::npos)
                << connection.failure();
            ASSERT_EQ(replies.size(), 3u);
            EXPECT_EQ(replies[0].type, Type::status);
            EXPECT_EQ(replies[1].type, Type::failed);
            EXPECT_EQ(replies[2].type, Type::failed);
            EXPECT_EQ(replies[2].text, connection.failure());
            EXPECT_EQ(connection.pending(), 0u);
            EXPECT_FALSE(connection.command({"PING"}, {}));
            EXPECT_FALSE(connection.feed("+OK\r\n"));
        });
}

TEST(RedisConnection, AReplyToNoCommandFailsTheConnection) {
    RedisConnection connection;
    EXPECT_FALSE(connection.feed("+OK\r\n"));
    EXPECT_NE(connection.failure().find("no command"), std::string::npos);
}

TEST(RedisConnection, FailTellsEveryPendingCommandOnceAndRefusesWhatTheyQueue) {
    RedisConnection connection;
    int failed = 0;
    int answered = 0;
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(connection.command({"GET", "k"}, [&](const RedisReply& reply) {
            if (reply.type == Type::failed) {
                ++failed;
                EXPECT_EQ(reply.text, "connection lost");
                EXPECT_FALSE(connection.command({"GET", "again"}, {}));
            } else {
                ++answered;
            }
        }));
    }
    ASSERT_TRUE(connection.feed("$1\r\nv\r\n$1\r\nv"));
    connection.fail("connection lost");
    connection.fail("and again");
    EXPECT_EQ(answered, 1);
    EXPECT_EQ(failed, 4);
    EXPECT_EQ(connection.failure(), "connection lost");
    EXPECT_TRUE(connection.output().empty());
}

TEST(RedisConnection, ACallbackMayQueueTheNextCommand) {
    RedisConnection connection;
    std::vector<std::string> order;
    ASSERT_TRUE(connection.command({"GET", "a"}, [&](const RedisReply& reply) {
        order.push_back(reply.text);
        EXPECT_TRUE(connection.command(
            {"GET", "b"}, [&](const RedisReply& next) { order.push_back(next.text); }));
    }));
    ASSERT_TRUE(connection.feed("$1\r\na\r\n"));
    ASSERT_TRUE(connection.feed("$1\r\nb\r\n"));
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST(RedisConnection, AReplyLargerThanTheLimitFailsTheConnection) {
    RedisLimits limits;
    limits.max_unparsed_bytes = 64;
    std::string small = "$50\r\n" + std::string(50, 'x') + "\r\n";
    std::string large = "$100\r\n" + std::string(100, 'y') + "\r\n";
    RedisConnection connection(limits);
    std::vector<RedisReply> replies;
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(connection.command({"GET", "k"},
                                       [&](const RedisReply& reply) { replies.push_back(reply); }));
    }
    // Fed byte by byte, the small reply completes within the limit; the large one passes it.
    bool ok = true;
    for (char byte : small + large) {
        ok = connection.feed(std::string_view(&byte, 1));
        if (!ok) break;
    }
    EXPECT_FALSE(ok);
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].text, std::string(50, 'x'));
    EXPECT_EQ(replies[1].type, Type::failed);
    EXPECT_NE(replies[1].text.find("larger than 64 bytes"), std::string::npos) << replies[1].text;
}

TEST(RedisConnection, MorePendingCommandsThanTheLimitFailTheConnection) {
    RedisLimits limits;
    limits.max_pending = 3;
    RedisConnection connection(limits);
    int failed = 0;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(connection.command(
            {"PING"}, [&](const RedisReply& reply) { failed += reply.type == Type::failed; }));
    }
    EXPECT_FALSE(connection.command({"PING"}, [&](const RedisReply&) { ADD_FAILURE(); }));
    EXPECT_TRUE(connection.failed());
    EXPECT_NE(connection.failure().find("more than 3 commands"), std::string::npos);
    EXPECT_EQ(failed, 3);
}

TEST(RedisConnection, AnsweredCommandsMakeRoomUnderThePendingLimit) {
    RedisLimits limits;
    limits.max_pending = 2;
    RedisConnection connection(limits);
    for (int round = 0; round < 10; ++round) {
        ASSERT_TRUE(connection.command({"PING"}, {}));
        ASSERT_TRUE(connection.command({"PING"}, {}));
        ASSERT_TRUE(connection.feed("+PONG\r\n+PONG\r\n"));
    }
    EXPECT_FALSE(connection.failed());
}

TEST(RedisConnection, MoreUnwrittenOutputThanTheLimitFailsTheConnection) {
    RedisLimits limits;
    limits.max_output_bytes = 100;
    RedisConnection connection(limits);
    std::string value(60, 'v');
    ASSERT_TRUE(connection.command({"SET", "k", value}, {}));
    connection.consume_output(connection.output().size());
    ASSERT_TRUE(connection.command({"SET", "k", value}, {}));
    EXPECT_FALSE(connection.command({"SET", "k", value}, {}));
    EXPECT_NE(connection.failure().find("more than 100 bytes"), std::string::npos);
}

TEST(RedisConnection, SubscribingToNoChannelIsRefused) {
    RedisConnection connection;
    EXPECT_FALSE(connection.subscribe({}, {}));
    EXPECT_TRUE(connection.failed());
}

}  // namespace
}  // namespace c10k::push
