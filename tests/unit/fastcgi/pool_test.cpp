// The per-loop pool: the cap counts busy and idle connections, a connection that comes free
// goes to the first waiter (kept-alive, or a place to open a new one), idle connections are
// watched and one the application closes is dropped.

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "fastcgi/pool.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"

namespace c10k::fastcgi {
namespace {

struct NoHandler final : http::Handler {
    void handle(const http::Request&, http::Response&) override {}
};

struct FakeWatcher final : http::DescriptorWatcher {
    std::map<int, http::DescriptorTask*> watched;
    bool watch(int fd, std::uint32_t, http::DescriptorTask& task) override {
        watched[fd] = &task;
        return true;
    }
    void unwatch(int fd) override { watched.erase(fd); }
};

struct RecordingWaiter final : Pool::Waiter {
    std::vector<int> given;  ///< the descriptors handed over; -1 for "open a new one"
    std::vector<Connection> kept;
    void on_connection_free(Connection connection) override {
        given.push_back(connection.fd ? connection.fd.get() : -1);
        if (connection.fd) kept.push_back(std::move(connection));
    }
    /// Only after the probe or on a multiplexed pool, which these tests do not reach.
    void on_pool_ready() override { given.push_back(-2); }
};

/// One end of a socket pair as a connection; `peer` keeps the application's end.
Connection connection_pair(core::unique_fd& peer) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    peer.reset(fds[1]);
    Connection connection;
    connection.fd.reset(fds[0]);
    return connection;
}

class FastcgiPool : public ::testing::Test {
protected:
    FastcgiPool() : context(handler, http::Limits{}, http::Timeouts{}) {
        context.set_descriptors(&watcher);
        std::string error;
        EXPECT_TRUE(parse_address("unix:/nonexistent/fpm.sock", address, error)) << error;
    }
    NoHandler handler;
    FakeWatcher watcher;
    http::LoopContext context;
    Address address;
};

TEST_F(FastcgiPool, CapCountsBusyAndIdleAndWaitersGetTheNextOne) {
    Pool pool(address, 1);
    pool.attach(&context);
    ASSERT_TRUE(pool.may_open());
    pool.opened();
    EXPECT_FALSE(pool.may_open());
    RecordingWaiter first, second;
    pool.wait(first);
    pool.wait(second);
    EXPECT_EQ(pool.waiting(), 2u);
    // A kept-alive connection comes free: straight to the first waiter, not idle.
    core::unique_fd peer;
    Connection connection = connection_pair(peer);
    int fd = connection.fd.get();
    pool.give_back(std::move(connection));
    ASSERT_EQ(first.given, std::vector<int>{fd});
    EXPECT_TRUE(watcher.watched.empty());
    // It is closed after its request: the place goes to the second waiter, to open anew.
    first.kept.clear();
    pool.closed();
    EXPECT_EQ(second.given, std::vector<int>{-1});
    EXPECT_EQ(pool.waiting(), 0u);
}

TEST_F(FastcgiPool, IdleConnectionsAreReusedAndDroppedWhenTheApplicationCloses) {
    Pool pool(address, 2);
    pool.attach(&context);
    core::unique_fd peer_a, peer_b;
    pool.opened();
    pool.opened();
    Connection a = connection_pair(peer_a);
    Connection b = connection_pair(peer_b);
    int fd_b = b.fd.get();
    pool.give_back(std::move(a));
    pool.give_back(std::move(b));
    EXPECT_EQ(watcher.watched.size(), 2u);
    EXPECT_FALSE(pool.may_open());
    // The most recent first. It stays registered and says so: the taker re-points the watch
    // at itself, so a hand-over costs no system call.
    Connection taken;
    ASSERT_TRUE(pool.take_idle(taken));
    EXPECT_EQ(taken.fd.get(), fd_b);
    EXPECT_TRUE(taken.watched);
    EXPECT_EQ(watcher.watched.count(fd_b), 1u);
    // Given back still watched: the idle watch takes it over again.
    pool.give_back(std::move(taken));
    ASSERT_EQ(watcher.watched.count(fd_b), 1u);
    ASSERT_TRUE(pool.take_idle(taken));
    watcher.unwatch(fd_b);  // what a request that closes it does
    // The application closes the idle one: dropped, and its place is free.
    ASSERT_EQ(watcher.watched.size(), 1u);
    peer_a.reset();
    watcher.watched.begin()->second->on_ready(http::DescriptorTask::readable);
    EXPECT_TRUE(watcher.watched.empty());
    EXPECT_TRUE(pool.may_open());
    Connection none;
    EXPECT_FALSE(pool.take_idle(none));
    // A cancelled waiter is not called.
    RecordingWaiter waiter;
    pool.opened();
    pool.wait(waiter);
    pool.cancel(waiter);
    pool.closed();
    EXPECT_TRUE(waiter.given.empty());
}

TEST_F(FastcgiPool, AddressesAreParsedWithReasons) {
    Address parsed;
    std::string error;
    EXPECT_TRUE(parse_address("127.0.0.1:9000", parsed, error)) << error;
    EXPECT_EQ(parsed.text, "127.0.0.1:9000");
    EXPECT_FALSE(parse_address("php.sock", parsed, error));
    EXPECT_NE(error.find("unix:PATH or HOST:PORT"), std::string::npos) << error;
    EXPECT_FALSE(parse_address("unix:relative.sock", parsed, error));
    EXPECT_NE(error.find("absolute"), std::string::npos) << error;
    EXPECT_FALSE(parse_address("unix:/" + std::string(200, 'x'), parsed, error));
    EXPECT_NE(error.find("longer than"), std::string::npos) << error;
    // Nobody at a socket that does not exist: the connect fails at once, with ENOENT.
    ASSERT_TRUE(parse_address("unix:/nonexistent/fpm.sock", parsed, error));
    auto fd = connect_to(parsed);
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.error(), ENOENT);
}

}  // namespace
}  // namespace c10k::fastcgi
