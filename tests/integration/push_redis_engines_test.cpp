// The Redis backplane where only it can carry push: a process per client (fork, prefork), each
// following Redis for its one subscriber; and when a server leaves a channel in Redis (after
// --redis-linger without subscribers). Redis's own view (PUBSUB NUMSUB, through redis-cli)
// says which channels a server follows, so the tests need not guess from timing.

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/push_client.hpp"
#include "support/push_server.hpp"
#include "support/redis_server.hpp"

namespace c10k::test {
namespace {

std::vector<std::string> with_redis(const RedisServer& redis, std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {"--redis",
                                      "redis://127.0.0.1:" + std::to_string(redis.port())};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
}

/// How many connections Redis says are subscribed to push channel `channel` (redis-cli, from
/// the redis-server package); -1 when it could not be asked.
int followers(const RedisServer& redis, const std::string& channel) {
    std::string command = "redis-cli -h 127.0.0.1 -p " + std::to_string(redis.port()) +
                          " PUBSUB NUMSUB c10k:" + channel + " 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return -1;
    char line[256];
    std::vector<std::string> lines;
    while (std::fgets(line, sizeof line, pipe) != nullptr) lines.emplace_back(line);
    ::pclose(pipe);
    if (lines.size() != 2) return -1;  // the channel's name, then its count
    return std::stoi(lines[1]);
}

/// Waits (bounded: 15 s) until Redis counts `n` followers of the channel.
bool followers_are(const RedisServer& redis, const std::string& channel, int n) {
    for (int i = 0; i < 1500; ++i) {
        if (followers(redis, channel) == n) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

class PushRedisPerClient : public ::testing::TestWithParam<std::string> {};

TEST_P(PushRedisPerClient, EachProcessFollowsRedisForItsSubscriber) {
    RedisServer redis;
    PushServer publisher("epoll", with_redis(redis));
    PushServer per_client(GetParam(), with_redis(redis));

    // Two subscribers: two processes, each subscribed in Redis on its own.
    SseClient first(per_client.port, "/live/news", "Accept: text/event-stream\r\n");
    ASSERT_TRUE(first.read_head());
    SseClient second(per_client.port, "/live/news", "Accept: text/event-stream\r\n");
    ASSERT_TRUE(second.read_head());
    ASSERT_TRUE(followers_are(redis, "news", 2));

    std::string from_epoll = publisher.publish("news", "from the epoll server");
    // A publish on the per-client server itself: its process publishes through Redis too.
    std::string from_self = per_client.publish("news", "from a process of its own");
    for (SseClient* sub : {&first, &second}) {
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.id, from_epoll);
        EXPECT_EQ(e.data, "from the epoll server");
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.id, from_self);
        EXPECT_EQ(e.data, "from a process of its own");
    }

    // A client that resumes in a new process gets what it missed from the stream.
    std::string missed = publisher.publish("news", "while away");
    SseClient resumed(per_client.port, "/live/news",
                      "Accept: text/event-stream\r\nLast-Event-ID: " + from_self + "\r\n");
    ASSERT_TRUE(resumed.read_head());
    SseEvent e;
    ASSERT_TRUE(resumed.next_event(e));
    EXPECT_EQ(e.id, missed);
    EXPECT_EQ(e.data, "while away");
}

INSTANTIATE_TEST_SUITE_P(ProcessPerClient, PushRedisPerClient, ::testing::Values("fork", "prefork"),
                         engine_param_name);

TEST(PushRedisFollow, AChannelLeavesRedisWhenNobodyWatchesItForTheLinger) {
    RedisServer redis;
    PushServer server("epoll", with_redis(redis, {"--redis-linger", "0s"}));
    {
        SseClient sub(server.port, "/live/brief", "Accept: text/event-stream\r\n");
        ASSERT_TRUE(sub.read_head());
        ASSERT_TRUE(followers_are(redis, "brief", 1));
    }
    // The last subscriber left: the channel is dropped and unsubscribed in Redis.
    EXPECT_TRUE(followers_are(redis, "brief", 0));
    // Someone comes back: followed again, and what is published reaches them.
    SseClient again(server.port, "/live/brief", "Accept: text/event-stream\r\n");
    ASSERT_TRUE(again.read_head());
    ASSERT_TRUE(followers_are(redis, "brief", 1));
    std::string id = server.publish("brief", "back");
    SseEvent e;
    ASSERT_TRUE(again.next_event(e));
    EXPECT_EQ(e.id, id);
}

TEST(PushRedisFollow, AChannelStaysFollowedDuringTheLinger) {
    RedisServer redis;
    PushServer server("epoll", with_redis(redis, {"--redis-linger", "1h"}));
    {
        SseClient sub(server.port, "/live/polled", "Accept: text/event-stream\r\n");
        ASSERT_TRUE(sub.read_head());
        ASSERT_TRUE(followers_are(redis, "polled", 1));
    }
    // Long enough for several prunes (once a second) and leave checks.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_EQ(followers(redis, "polled"), 1);
    // Published meanwhile, while nobody watched here: a client that comes back resuming from
    // it is up to date, and the next message reaches it.
    std::string meanwhile = server.publish("polled", "meanwhile");
    SseClient back(server.port, "/live/polled",
                   "Accept: text/event-stream\r\nLast-Event-ID: " + meanwhile + "\r\n");
    ASSERT_TRUE(back.read_head());
    std::string next = server.publish("polled", "next");
    SseEvent e;
    ASSERT_TRUE(back.next_event(e));
    EXPECT_EQ(e.id, next);
    EXPECT_EQ(e.data, "next");
}

TEST(PushRedisFollow, ASubscriberWithItsHeadGetsEveryMessagePublishedAfter) {
    RedisServer redis;
    PushServer a("epoll", with_redis(redis));
    PushServer b("epoll", with_redis(redis));
    // Each channel is new to B: its head comes once B has read the channel, and promises
    // every message from then on, even one published the moment it arrives.
    for (int i = 0; i < 10; ++i) {
        std::string channel = "cold" + std::to_string(i);
        SseClient sub(b.port, "/live/" + channel, "Accept: text/event-stream\r\n");
        ASSERT_TRUE(sub.read_head());
        std::string id = a.publish(channel, "right after the head");
        SseEvent e;
        ASSERT_TRUE(sub.next_event(e)) << channel;
        EXPECT_EQ(e.id, id);
        EXPECT_EQ(e.data, "right after the head");
    }
}

}  // namespace
}  // namespace c10k::test
