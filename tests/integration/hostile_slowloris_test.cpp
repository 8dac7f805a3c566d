// Slowloris: thousands of connections that each trickle a request head one byte every few
// seconds, hoping to hold the server's slots forever. The header timeout runs from a request's
// first byte and progress does not extend it, so each is closed when it expires; meanwhile a
// normal client is served as if they were not there.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/hostile_clients.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kTricklers = 2000;
constexpr auto kHeaderTimeout = 4s;
constexpr auto kTrickleEvery = 1500ms;

TEST(HostileSlowloris, TricklersAreClosedAtHeaderTimeoutWhileNormalClientIsServed) {
    TempDir site;
    site.write("index.html", "<p>hello</p>\n");
    ServerProcess server({"serve", "--root", site.path(), "--listen", "127.0.0.1:0", "--engine",
                          "epoll", "--threads", "1", "--header-timeout", "4s"});

    SocketPool tricklers;
    ASSERT_EQ(tricklers.connect(server.port(), kTricklers), kTricklers);
    // Each trickler's first byte starts its header clock.
    static const std::string head = "GET / HTTP/1.1\r\nHost: slow\r\nX-Pad: aaaaaaaaaaaaaaaa";
    std::size_t sent = 0;
    auto first_byte = Clock::now();
    for (std::size_t i = 0; i < tricklers.size(); ++i) {
        ASSERT_TRUE(tricklers.send(i, head.substr(0, 1)));
    }
    ++sent;

    // The normal client works throughout: new connections and keep-alive ones, every request
    // answered within a bounded wait, while the tricklers keep dribbling.
    HttpClient keep_alive(server.port());
    auto next_trickle = first_byte + kTrickleEvery;
    std::size_t served = 0;
    while (Clock::now() < first_byte + kHeaderTimeout - 1s) {
        keep_alive.send_get("/index.html");
        HttpResponse response;
        ASSERT_TRUE(keep_alive.read_response(response, 2000)) << keep_alive.error();
        ASSERT_EQ(response.status, 200);
        HttpResponse fresh = fetch(server.port(), "/index.html");
        ASSERT_EQ(fresh.status, 200);
        served += 2;
        if (Clock::now() >= next_trickle) {
            for (std::size_t i = 0; i < tricklers.size(); ++i) {
                tricklers.send(i, head.substr(sent % head.size(), 1));
            }
            ++sent;
            next_trickle += kTrickleEvery;
        }
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(served, 20u);

    // Shortly before the timeout every trickler is still held: nothing was shed early.
    std::size_t open_before = 0;
    for (std::size_t i = 0; i < tricklers.size(); ++i) {
        if (tricklers.probe(i) == PeerState::open) ++open_before;
    }
    EXPECT_EQ(open_before, kTricklers);

    // After it (plus the timer wheel's 100 ms slots and scheduling slack) all are closed,
    // without a response: they never finished a request.
    std::this_thread::sleep_until(first_byte + kHeaderTimeout);
    EXPECT_EQ(tricklers.wait_all_closed(3000), 0u);
    for (std::size_t i = 0; i < tricklers.size(); ++i) {
        EXPECT_TRUE(tricklers.received(i).empty()) << "trickler " << i << " got a response";
        if (!tricklers.received(i).empty()) break;
    }

    // The keep-alive client outlived them all and is still served.
    keep_alive.send_get("/index.html");
    HttpResponse response;
    ASSERT_TRUE(keep_alive.read_response(response, 2000)) << keep_alive.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_TRUE(server.running());
}

}  // namespace
}  // namespace c10k::test
