// Memory per client is bounded: thousands of connections each sending a large request head
// slowly make the server hold at most about --max-header-bytes for each (a small factor for
// string growth and bookkeeping), and heads that go past the limit are refused with 431 rather
// than buffered.

#include <gtest/gtest.h>

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

constexpr std::size_t kConnections = 2000;
constexpr std::size_t kMaxHeaderBytes = 8192;
constexpr std::size_t kSlice = 1024;
// Allowed growth of the server's RSS per connection, in units of the header limit: a head's
// buffer may have up to twice the capacity it holds, plus the header index and the Session.
constexpr std::size_t kFactor = 3;

/// A request head of about `size` bytes made of filler header lines; without the final CRLF,
/// so that it stays incomplete until the test sends it.
std::string large_head(std::size_t size) {
    std::string head = "GET /index.html HTTP/1.1\r\nHost: big\r\n";
    for (int line = 0; head.size() + 80 < size; ++line) {
        head += "X-Fill-" + std::to_string(line) + ": " + std::string(64, 'a') + "\r\n";
    }
    return head;
}

TEST(HostileMemory, SlowLargeHeadsStayWithinHeaderLimitPerConnection) {
    TempDir site;
    site.write("index.html", "<p>hello</p>\n");
    ServerProcess server({"serve", "--root", site.path(), "--listen", "127.0.0.1:0", "--engine",
                          "epoll", "--threads", "1", "--header-timeout", "60s",
                          "--max-header-bytes", std::to_string(kMaxHeaderBytes)});
    ASSERT_EQ(fetch(server.port(), "/index.html").status, 200);
    std::uint64_t baseline = rss_kib(server.pid());

    // Half stay just under the limit, half go to twice it.
    const std::string under = large_head(kMaxHeaderBytes - 512);
    const std::string over = large_head(2 * kMaxHeaderBytes);
    SocketPool clients;
    ASSERT_EQ(clients.connect(server.port(), kConnections), kConnections);
    auto head_of = [&](std::size_t i) -> const std::string& { return i % 2 ? over : under; };

    std::uint64_t peak = baseline;
    for (std::size_t offset = 0; offset < over.size(); offset += kSlice) {
        for (std::size_t i = 0; i < clients.size(); ++i) {
            const std::string& head = head_of(i);
            if (offset < head.size()) clients.send(i, head.substr(offset, kSlice));
            clients.probe(i);  // collect a 431 before the connection goes away
        }
        std::this_thread::sleep_for(150ms);
        peak = std::max(peak, rss_kib(server.pid()));
    }
    std::this_thread::sleep_for(300ms);
    peak = std::max(peak, rss_kib(server.pid()));

    std::uint64_t growth_kib = peak - baseline;
    std::uint64_t bound_kib = kConnections * kMaxHeaderBytes * kFactor / 1024;
    EXPECT_LE(growth_kib, bound_kib) << "RSS grew " << growth_kib << " KiB for " << kConnections
                                     << " slow large heads (baseline " << baseline << " KiB)";
    RecordProperty("rss_growth_kib", std::to_string(growth_kib));

    // Those past the limit were refused with 431 and closed; those under it are still held and
    // are answered once their head is complete.
    std::size_t refused = 0, answered = 0;
    auto refused_by = Clock::now() + 3s;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        if (i % 2) {
            while (clients.probe(i) != PeerState::closed && Clock::now() < refused_by) {
                std::this_thread::sleep_for(5ms);
            }
            if (clients.received(i).rfind("HTTP/1.1 431 ", 0) == 0) ++refused;
        } else {
            EXPECT_EQ(clients.probe(i), PeerState::open);
            clients.send(i, "\r\n");
        }
    }
    auto until = Clock::now() + 5s;
    for (std::size_t i = 0; i < clients.size(); i += 2) {
        while (clients.received(i).find("\r\n\r\n") == std::string::npos && Clock::now() < until &&
               clients.probe(i) != PeerState::closed) {
            std::this_thread::sleep_for(1ms);
        }
        if (clients.received(i).rfind("HTTP/1.1 200 ", 0) == 0) ++answered;
    }
    EXPECT_EQ(refused, kConnections / 2);
    EXPECT_EQ(answered, kConnections / 2);
    EXPECT_TRUE(server.running());
}

}  // namespace
}  // namespace c10k::test
