// The thread-per-connection engine at its descriptor limit: clients it cannot serve get a 503,
// and the server lives on (it used to abort when a connection's handler could not be built).

#include <gtest/gtest.h>

#include "support/hostile_clients.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

TEST(ThreadEngineLimits, ConnectionsBeyondTheDescriptorLimitGet503AndTheServerLives) {
    std::unique_ptr<ServerProcess> server;
    {
        ScopedDescriptorLimit limit(128);
        server = std::make_unique<ServerProcess>(std::vector<std::string>{
            "serve", "--engine", "thread", "--listen", "127.0.0.1:0", "--max-connections",
            "10000", "--keepalive-timeout", "30s"});
    }
    SocketPool pool;
    ASSERT_GE(pool.connect(server->port(), 300), 250u);
    for (std::size_t i = 0; i < pool.size(); ++i) pool.send(i, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    // Let every connection be accepted and answered (or refused).
    std::size_t answered = 0;
    std::size_t refused = 0;
    for (int round = 0; round < 100 && answered + refused < pool.size(); ++round) {
        answered = refused = 0;
        for (std::size_t i = 0; i < pool.size(); ++i) {
            pool.probe(i);
            const std::string& got = pool.received(i);
            if (got.rfind("HTTP/1.1 200", 0) == 0) ++answered;
            else if (got.rfind("HTTP/1.1 503", 0) == 0 || pool.closed(i)) ++refused;
        }
        usleep(50'000);
    }
    EXPECT_GT(answered, 0u);
    EXPECT_GT(refused, 0u) << "128 descriptors cannot hold 300 connections";
    EXPECT_TRUE(server->running()) << server->output();
    pool.close_all();
    // Once the crowd is gone, new clients are served again.
    HttpResponse r;
    for (int i = 0; i < 50 && r.status != 200; ++i) {
        usleep(100'000);
        r = fetch(server->port(), "/");
    }
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(server->stop(), 0) << server->output();
}

}  // namespace
}  // namespace c10k::test
