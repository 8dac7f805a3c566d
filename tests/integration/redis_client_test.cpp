// The sans-I/O Redis connection against a real redis-server on 127.0.0.1: the test owns the
// socket and moves bytes between it and the connection, as the loop's driver will.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"
#include "push/redis_client.hpp"
#include "push/redis_connection.hpp"
#include "support/poll_loop.hpp"
#include "support/redis_server.hpp"

namespace c10k::push {
namespace {

using Type = RedisReply::Type;
using namespace std::string_literals;

/// A blocking socket to the server driving one RedisConnection.
class Link {
public:
    explicit Link(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        connected_ =
            ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    }

    RedisConnection& connection() { return connection_; }
    bool connected() const { return connected_; }

    /// Writes what the connection asks and feeds it what the server sends until `done()` holds
    /// or the connection fails. False when a wait for the server passed its bound (a hang).
    bool run_until(const std::function<bool()>& done) {
        char buffer[64 * 1024];
        while (!done() && !connection_.failed()) {
            short events = POLLIN;
            if (!connection_.output().empty()) events |= POLLOUT;
            pollfd ready{fd_.get(), events, 0};
            if (::poll(&ready, 1, 30'000) != 1) return false;
            if ((ready.revents & POLLOUT) != 0) {
                std::string_view out = connection_.output();
                ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) {
                    connection_.consume_output(static_cast<std::size_t>(n));
                } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    connection_.fail("connection lost: "s + std::strerror(errno));
                }
            }
            if ((ready.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
                if (n > 0) {
                    connection_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
                } else if (n == 0) {
                    connection_.fail("connection lost: the server closed it");
                } else if (errno != EAGAIN && errno != EINTR) {
                    connection_.fail("connection lost: "s + std::strerror(errno));
                }
            }
        }
        return true;
    }

    /// Sends one command and waits for its reply.
    RedisReply call(std::initializer_list<std::string_view> args) {
        RedisReply got;
        bool answered = false;
        EXPECT_TRUE(connection_.command(args, [&](const RedisReply& reply) {
            got = reply;
            answered = true;
        }));
        EXPECT_TRUE(run_until([&] { return answered; }));
        return got;
    }

private:
    core::unique_fd fd_;
    RedisConnection connection_;
    bool connected_ = false;
};

TEST(RedisClient, SetThenGet) {
    test::RedisServer server;
    Link link(server.port());
    ASSERT_TRUE(link.connected());
    RedisReply set = link.call({"SET", "greeting", "hello"});
    EXPECT_EQ(set.type, Type::status);
    EXPECT_EQ(set.text, "OK");
    RedisReply get = link.call({"GET", "greeting"});
    EXPECT_EQ(get.type, Type::string);
    EXPECT_EQ(get.text, "hello");
    EXPECT_EQ(link.call({"GET", "nothing"}).type, Type::nil);
    RedisReply wrong = link.call({"LPUSH", "greeting", "x"});
    EXPECT_EQ(wrong.type, Type::error);
    EXPECT_TRUE(wrong.text.starts_with("WRONGTYPE")) << wrong.text;
    EXPECT_FALSE(link.connection().failed());
}

TEST(RedisClient, StreamKeepsABinaryPayload) {
    test::RedisServer server;
    Link link(server.port());
    std::string payload = "a\0b\r\n$3\r\n\xff\xfe end"s;
    RedisReply id =
        link.call({"XADD", "channel:scores", "MAXLEN", "~", "100", "*", "data", payload});
    ASSERT_EQ(id.type, Type::string) << id.text;
    RedisReply range = link.call({"XRANGE", "channel:scores", "-", "+"});
    ASSERT_EQ(range.type, Type::array);
    ASSERT_EQ(range.elements.size(), 1u);
    const RedisReply& entry = range.elements[0];
    ASSERT_EQ(entry.elements.size(), 2u);
    EXPECT_EQ(entry.elements[0].text, id.text);
    ASSERT_EQ(entry.elements[1].elements.size(), 2u);
    EXPECT_EQ(entry.elements[1].elements[0].text, "data");
    EXPECT_EQ(entry.elements[1].elements[1].text, payload);
}

TEST(RedisClient, PublishReachesASubscribedConnection) {
    test::RedisServer server;
    Link subscriber(server.port());
    Link publisher(server.port());
    std::vector<std::pair<std::string, std::string>> messages;
    subscriber.connection().set_message_handler(
        [&](std::string_view channel, std::string_view payload) {
            messages.emplace_back(channel, payload);
        });
    bool subscribed = false;
    std::string_view channels[] = {"news", "sport"};
    ASSERT_TRUE(subscriber.connection().subscribe(channels, [&](const RedisReply& reply) {
        EXPECT_FALSE(reply.is_error()) << reply.text;
        subscribed = true;
    }));
    ASSERT_TRUE(subscriber.run_until([&] { return subscribed; }));
    EXPECT_EQ(subscriber.connection().subscriptions(), 2);

    std::string payload = "goal\0!"s;
    EXPECT_EQ(publisher.call({"PUBLISH", "sport", payload}).integer, 1);
    EXPECT_EQ(publisher.call({"PUBLISH", "weather", "rain"}).integer, 0);
    EXPECT_EQ(publisher.call({"PUBLISH", "news", "second"}).integer, 1);
    ASSERT_TRUE(subscriber.run_until([&] { return messages.size() == 2; }));
    EXPECT_EQ(messages[0], (std::pair<std::string, std::string>{"sport", payload}));
    EXPECT_EQ(messages[1], (std::pair<std::string, std::string>{"news", "second"}));

    // Unsubscribed from one channel, the connection no longer gets its messages.
    bool unsubscribed = false;
    std::string_view news[] = {"news"};
    ASSERT_TRUE(
        subscriber.connection().unsubscribe(news, [&](const RedisReply&) { unsubscribed = true; }));
    ASSERT_TRUE(subscriber.run_until([&] { return unsubscribed; }));
    EXPECT_EQ(subscriber.connection().subscriptions(), 1);
    EXPECT_EQ(publisher.call({"PUBLISH", "news", "unheard"}).integer, 0);
    EXPECT_EQ(publisher.call({"PUBLISH", "sport", "third"}).integer, 1);
    ASSERT_TRUE(subscriber.run_until([&] { return messages.size() == 3; }));
    EXPECT_EQ(messages[2].second, "third");
}

TEST(RedisClient, AThousandPipelinedCommandsAreAnsweredInOrder) {
    test::RedisServer server;
    Link link(server.port());
    constexpr int kCommands = 1000;
    std::vector<long long> counts;
    for (int i = 0; i < kCommands; ++i) {
        ASSERT_TRUE(link.connection().command({"INCR", "counter"}, [&](const RedisReply& reply) {
            EXPECT_EQ(reply.type, Type::integer);
            counts.push_back(reply.integer);
        }));
    }
    EXPECT_EQ(link.connection().pending(), static_cast<std::size_t>(kCommands));
    ASSERT_TRUE(link.run_until([&] { return counts.size() == kCommands; }));
    for (int i = 0; i < kCommands; ++i) EXPECT_EQ(counts[i], i + 1);
    EXPECT_EQ(link.connection().pending(), 0u);
}

TEST(RedisClient, EveryPendingCommandIsToldWhenTheServerIsKilled) {
    test::RedisServer server;
    Link link(server.port());
    EXPECT_EQ(link.call({"SET", "before", "1"}).text, "OK");
    // BLPOP on an empty list never answers, so everything behind it is still pending when
    // the server dies.
    constexpr int kBehind = 100;
    int failed = 0;
    int answered = 0;
    auto count = [&](const RedisReply& reply) {
        if (reply.type == Type::failed) {
            ++failed;
            EXPECT_NE(reply.text.find("connection lost"), std::string::npos) << reply.text;
        } else {
            ++answered;
        }
    };
    ASSERT_TRUE(link.connection().command({"BLPOP", "empty", "0"}, count));
    for (int i = 0; i < kBehind; ++i) {
        ASSERT_TRUE(link.connection().command({"GET", "before"}, count));
    }
    ASSERT_TRUE(link.run_until([&] { return link.connection().output().empty(); }));
    server.stop(SIGKILL);
    ASSERT_TRUE(link.run_until([] { return false; }));
    EXPECT_TRUE(link.connection().failed());
    EXPECT_EQ(answered, 0);
    EXPECT_EQ(failed, kBehind + 1);
    EXPECT_EQ(link.connection().pending(), 0u);
}

/// The driver's loop: the test support's, with the client's tick (and `also`) each round.
class PollLoop {
public:
    http::LoopContext& context() { return loop_.context(); }
    bool run_until(RedisClient& client, const std::function<bool()>& done,
                   const std::function<void()>& also = {}) {
        return loop_.run_until(
            [&] {
                client.on_tick();
                if (also) also();
            },
            done);
    }

private:
    test::PollLoop loop_;
};

RedisAddress local(int port) {
    RedisAddress address;
    address.host = "127.0.0.1";
    address.port = static_cast<std::uint16_t>(port);
    return address;
}

RedisClientOptions quick_reconnect() {
    RedisClientOptions options;
    options.reconnect_base_ms = 10;
    options.reconnect_cap_ms = 200;
    return options;
}

/// Sends one command through the client and runs the loop until its reply.
RedisReply call(PollLoop& loop, RedisClient& client, std::initializer_list<std::string_view> args) {
    RedisReply got;
    bool answered = false;
    EXPECT_NE(client.connection(), nullptr);
    if (client.connection() == nullptr) return got;
    EXPECT_TRUE(client.connection()->command(args, [&](const RedisReply& reply) {
        got = reply;
        answered = true;
    }));
    client.flush();
    EXPECT_TRUE(loop.run_until(client, [&] { return answered; }));
    return got;
}

TEST(RedisClientDriver, ConnectsWithoutBlockingAndAnswers) {
    test::RedisServer server;
    PollLoop loop;
    RedisClient client(local(server.port()), loop.context());
    int ready = 0;
    client.set_ready_handler([&] { ++ready; });
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return client.ready(); }));
    EXPECT_EQ(ready, 1);
    EXPECT_EQ(call(loop, client, {"SET", "k", "v"}).text, "OK");
    EXPECT_EQ(call(loop, client, {"GET", "k"}).text, "v");
    client.stop();
}

TEST(RedisClientDriver, SendsAuthAndSelect) {
    test::RedisServer server({"--requirepass", "s3cret"});
    PollLoop loop;
    std::string error;
    auto address =
        parse_redis_url("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/2", error);
    ASSERT_TRUE(address) << error;
    RedisClient client(*address, loop.context());
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return client.ready(); }));
    RedisReply info = call(loop, client, {"CLIENT", "INFO"});
    EXPECT_NE(info.text.find(" db=2 "), std::string::npos) << info.text;
    client.stop();
}

TEST(RedisClientDriver, AWrongPasswordIsReportedAndRetried) {
    test::RedisServer server({"--requirepass", "right"});
    PollLoop loop;
    RedisAddress address = local(server.port());
    address.password = "wrong";
    RedisClient client(address, loop.context(), quick_reconnect());
    std::vector<std::string> lost;
    client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return lost.size() >= 3; }));
    EXPECT_FALSE(client.ready());
    EXPECT_NE(lost[0].find("AUTH refused"), std::string::npos) << lost[0];
    EXPECT_GE(client.attempts(), 3u);
    client.stop();
}

TEST(RedisClientDriver, ReconnectsAfterRedisRestartsAndTellsWhatWasPending) {
    test::RedisServer server;
    PollLoop loop;
    RedisClient client(local(server.port()), loop.context(), quick_reconnect());
    int ready = 0;
    std::vector<std::string> lost;
    client.set_ready_handler([&] { ++ready; });
    client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return ready == 1; }));
    RedisReply blocked;
    ASSERT_TRUE(client.connection()->command({"BLPOP", "empty", "0"},
                                             [&](const RedisReply& reply) { blocked = reply; }));
    client.flush();
    server.stop(SIGKILL);
    ASSERT_TRUE(loop.run_until(client, [&] { return !lost.empty(); }));
    EXPECT_EQ(blocked.type, Type::failed);
    EXPECT_FALSE(client.ready());
    server.restart();
    ASSERT_TRUE(loop.run_until(client, [&] { return ready == 2; }));
    EXPECT_EQ(call(loop, client, {"PING"}).text, "PONG");
    EXPECT_EQ(client.attempts(), 0u);
    client.stop();
}

TEST(RedisClientDriver, KeepsRetryingWhileRedisIsUnreachable) {
    int port = 0;
    {
        test::RedisServer server;
        port = server.port();
    }
    PollLoop loop;
    RedisClient client(local(port), loop.context(), quick_reconnect());
    std::vector<std::string> lost;
    client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return lost.size() >= 3; }));
    EXPECT_NE(lost[0].find("cannot connect"), std::string::npos) << lost[0];
    client.stop();
}

/// Short timeouts, so that the suite stays fast; keepalive off unless a test turns it on.
RedisClientOptions short_timeouts() {
    RedisClientOptions options = quick_reconnect();
    options.connect_timeout_ms = 300;
    options.reply_timeout_ms = 300;
    options.keepalive_ms = 0;
    return options;
}

/// Stops `pid` with SIGSTOP and waits until the kernel says it is stopped, so that nothing the
/// test sends afterwards can be answered before SIGCONT. False if it never stopped.
bool stop_process(pid_t pid) {
    if (::kill(pid, SIGSTOP) != 0) return false;
    for (int i = 0; i < 5000; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        // The state follows the command name, which is in parentheses and may hold spaces.
        std::size_t name_end = line.rfind(')');
        if (name_end != std::string::npos && name_end + 2 < line.size() &&
            line[name_end + 2] == 'T') {
            return true;
        }
        ::usleep(1000);
    }
    return false;
}

/// Sends SIGCONT when the test ends, passed or not, so that the RedisServer's destructor (run
/// after this guard's) can stop the server with SIGTERM.
class ContinueOnExit {
public:
    explicit ContinueOnExit(pid_t pid) : pid_(pid) {}
    ~ContinueOnExit() { ::kill(pid_, SIGCONT); }
    ContinueOnExit(const ContinueOnExit&) = delete;
    ContinueOnExit& operator=(const ContinueOnExit&) = delete;

private:
    pid_t pid_;
};

/// A listening socket on 127.0.0.1 that is not Redis: serve() accepts every waiting connection,
/// writes `greeting` to it (nothing if empty) and keeps it open, never reading it.
class MockRedis {
public:
    explicit MockRedis(std::string greeting)
        : greeting_(std::move(greeting)),
          listener_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::listen(listener_.get(), 64) == 0 &&
            ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0) {
            port_ = ntohs(address.sin_port);
        }
    }

    int port() const { return port_; }
    std::size_t accepted() const { return accepted_.size(); }

    void serve() {
        for (;;) {
            core::unique_fd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!client) return;
            if (!greeting_.empty()) {
                EXPECT_EQ(::send(client.get(), greeting_.data(), greeting_.size(), MSG_NOSIGNAL),
                          static_cast<ssize_t>(greeting_.size()));
            }
            accepted_.push_back(std::move(client));
        }
    }

private:
    std::string greeting_;
    core::unique_fd listener_;
    int port_ = 0;
    std::vector<core::unique_fd> accepted_;
};

TEST(RedisClientDriver, AStoppedRedisWithCommandsPendingIsLostAndFoundAgain) {
    test::RedisServer server;
    PollLoop loop;
    RedisClient client(local(server.port()), loop.context(), short_timeouts());
    int ready = 0;
    std::vector<std::string> lost;
    client.set_ready_handler([&] { ++ready; });
    client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return ready == 1; }));

    ContinueOnExit resume(server.pid());
    ASSERT_TRUE(stop_process(server.pid()));
    int failed = 0;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(client.connection()->command({"GET", "k"}, [&](const RedisReply& reply) {
            EXPECT_EQ(reply.type, Type::failed);
            EXPECT_NE(reply.text.find("did not answer"), std::string::npos) << reply.text;
            ++failed;
        }));
    }
    client.flush();
    ASSERT_TRUE(loop.run_until(client, [&] { return !lost.empty(); }));
    EXPECT_NE(lost[0].find("did not answer for 300 ms (3 commands pending)"), std::string::npos)
        << lost[0];
    EXPECT_EQ(failed, 3);
    EXPECT_FALSE(client.ready());

    ASSERT_EQ(::kill(server.pid(), SIGCONT), 0);
    ASSERT_TRUE(loop.run_until(client, [&] { return ready == 2; }));
    EXPECT_EQ(call(loop, client, {"SET", "after", "1"}).text, "OK");
    EXPECT_EQ(client.attempts(), 0u);
    client.stop();
}

TEST(RedisClientDriver, AnIdleConnectionToAStoppedRedisIsFoundByKeepalive) {
    test::RedisServer server;
    PollLoop loop;
    RedisClientOptions options = short_timeouts();
    options.keepalive_ms = 50;
    RedisClient client(local(server.port()), loop.context(), options);
    int ready = 0;
    std::vector<std::string> lost;
    client.set_ready_handler([&] { ++ready; });
    client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
    client.start();
    // A live Redis answers the keepalives and the connection stays.
    ASSERT_TRUE(loop.run_until(client, [&] { return client.keepalives_answered() >= 3; }));
    EXPECT_TRUE(lost.empty());
    EXPECT_EQ(ready, 1);

    ContinueOnExit resume(server.pid());
    ASSERT_TRUE(stop_process(server.pid()));
    ASSERT_TRUE(loop.run_until(client, [&] { return !lost.empty(); }));
    // Nobody sent a command: the one pending is the keepalive's PING.
    EXPECT_NE(lost[0].find("did not answer for 300 ms (1 command pending)"), std::string::npos)
        << lost[0];
    EXPECT_FALSE(client.ready());

    ASSERT_EQ(::kill(server.pid(), SIGCONT), 0);
    ASSERT_TRUE(loop.run_until(client, [&] { return ready == 2; }));
    client.stop();
}

TEST(RedisClientDriver, ASubscribedConnectionKeepsWorkingAcrossKeepalives) {
    test::RedisServer server;
    PollLoop loop;
    RedisClientOptions options = short_timeouts();
    options.keepalive_ms = 50;
    options.reply_timeout_ms = 1000;
    RedisClient client(local(server.port()), loop.context(), options);
    std::vector<std::string> messages;
    std::vector<std::string> lost;
    bool subscribed = false;
    client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
    client.set_ready_handler([&] {
        RedisConnection* connection = client.connection();
        connection->set_message_handler(
            [&](std::string_view, std::string_view payload) { messages.emplace_back(payload); });
        std::string_view news[] = {"news"};
        EXPECT_TRUE(connection->subscribe(news, [&](const RedisReply& reply) {
            EXPECT_FALSE(reply.is_error()) << reply.text;
            subscribed = true;
        }));
    });
    client.start();
    ASSERT_TRUE(loop.run_until(client, [&] { return subscribed; }));

    Link publisher(server.port());
    ASSERT_TRUE(publisher.connected());
    std::vector<std::string> published;
    for (int i = 0; i < 4; ++i) {
        std::uint64_t before = client.keepalives_answered();
        // Two keepalives answered, each a ["pong", ""] in subscribe mode, between messages.
        ASSERT_TRUE(
            loop.run_until(client, [&] { return client.keepalives_answered() >= before + 2; }));
        published.push_back("update " + std::to_string(i));
        EXPECT_EQ(publisher.call({"PUBLISH", "news", published.back()}).integer, 1);
        ASSERT_TRUE(loop.run_until(client, [&] { return messages.size() == published.size(); }));
    }
    EXPECT_EQ(messages, published);
    // The owner's own PING on the subscribed connection sees the pong too.
    RedisReply pong = call(loop, client, {"PING"});
    ASSERT_EQ(pong.type, Type::array);
    ASSERT_FALSE(pong.elements.empty());
    EXPECT_EQ(pong.elements[0].text, "pong");
    EXPECT_TRUE(lost.empty()) << lost.front();
    EXPECT_TRUE(client.ready());
    EXPECT_EQ(client.connection()->subscriptions(), 1);
    client.stop();
}

TEST(RedisClientDriver, AServerThatAnswersGarbageIsRetriedAndNeverTrusted) {
    // Not RESP at all; a negative bulk length other than nil's -1; and valid RESP (a nil)
    // that is no answer to the handshake's PING.
    for (std::string greeting : {"HTTP/1.1 400 Bad Request\r\n\r\n"s, "$-5\r\n"s, "$-1\r\n"s}) {
        SCOPED_TRACE(greeting);
        MockRedis mock(greeting);
        ASSERT_NE(mock.port(), 0);
        PollLoop loop;
        RedisClient client(local(mock.port()), loop.context(), short_timeouts());
        int ready = 0;
        std::vector<std::string> lost;
        client.set_ready_handler([&] { ++ready; });
        client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
        client.start();
        ASSERT_TRUE(loop.run_until(
            client, [&] { return lost.size() >= 3; }, [&] { mock.serve(); }));
        for (const std::string& why : lost) {
            EXPECT_NE(why.find("protocol error"), std::string::npos) << why;
        }
        EXPECT_EQ(ready, 0);
        EXPECT_FALSE(client.ready());
        EXPECT_GE(client.attempts(), 3u);
        EXPECT_GE(mock.accepted(), 3u);
        client.stop();
    }
}

TEST(RedisClientDriver, AServerThatNeverAnswersTimesOutTheHandshake) {
    // With a password the handshake is AUTH then PING; without, PING alone: either way it
    // must complete within the connect timeout.
    for (std::string password : {""s, "s3cret"s}) {
        SCOPED_TRACE("password '" + password + "'");
        MockRedis mock("");
        ASSERT_NE(mock.port(), 0);
        PollLoop loop;
        RedisAddress address = local(mock.port());
        address.password = password;
        RedisClient client(address, loop.context(), short_timeouts());
        std::vector<std::string> lost;
        client.set_lost_handler([&](std::string_view why) { lost.emplace_back(why); });
        client.start();
        ASSERT_TRUE(loop.run_until(
            client, [&] { return lost.size() >= 2; }, [&] { mock.serve(); }));
        for (const std::string& why : lost) {
            EXPECT_NE(why.find("Redis at 127.0.0.1:" + std::to_string(mock.port()) +
                               " did not complete the connection within 300 ms"),
                      std::string::npos)
                << why;
        }
        EXPECT_FALSE(client.ready());
        EXPECT_GE(client.attempts(), 2u);
        EXPECT_GE(mock.accepted(), 2u);
        client.stop();
    }
}

}  // namespace
}  // namespace c10k::push
