// Descriptor exhaustion: the server runs with `ulimit -n 256` and is flooded with more
// connections than it can hold. It must stay up, must not spin on a listener that stays readable
// (the EMFILE busy loop), must keep serving the connections it has, and must serve new ones again
// soon after the flood ends.
//
// Regression: the server used to accept sockets until EMFILE, leaving no descriptor to open the
// files its established clients asked for, so they got 503 too. It now keeps a reserve below
// the limit (engine::descriptor_ceiling) and refuses new connections with 503 at it.

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

constexpr rlim_t kServerDescriptors = 256;
constexpr std::size_t kFlood = 1000;  // about four times what the server can hold

/// One GET on a fresh connection with short bounded waits; status 0 when it did not work.
int quick_get(int port) {
    try {
        HttpClient client(port);
        client.send_get("/index.html");
        HttpResponse response;
        if (!client.read_response(response, 300)) return 0;
        return response.status;
    } catch (const std::exception&) {
        return 0;
    }
}

TEST(HostileDescriptors, FloodAtDescriptorLimitDegradesWithoutSpinningAndRecovers) {
    TempDir site;
    site.write("index.html", "<p>hello</p>\n");
    std::unique_ptr<ServerProcess> server;
    {
        ScopedDescriptorLimit limit(kServerDescriptors);
        server = std::make_unique<ServerProcess>(std::vector<std::string>{
            "serve", "--root", site.path(), "--listen", "127.0.0.1:0", "--engine", "epoll",
            "--threads", "1"});
    }
    int port = server->port();

    // Clients the server holds before the flood.
    HttpClient established_a(port);
    HttpClient established_b(port);
    for (HttpClient* client : {&established_a, &established_b}) {
        client->send_get("/index.html");
        HttpResponse response;
        ASSERT_TRUE(client->read_response(response, 2000)) << client->error();
        ASSERT_EQ(response.status, 200);
    }

    SocketPool flood;
    flood.connect(port, kFlood);
    ASSERT_GT(flood.size(), kServerDescriptors);
    // The server takes what it can; past its descriptor reserve the rest get a fast 503
    // rather than waiting in the backlog or being accepted into a table with no room left.
    auto flood_start = Clock::now();
    std::size_t refused = 0;
    while (Clock::now() < flood_start + 3s) {
        refused = 0;
        for (std::size_t i = 0; i < flood.size(); ++i) {
            flood.probe(i);
            if (flood.received(i).rfind("HTTP/1.1 503 ", 0) == 0) ++refused;
        }
        if (refused + kServerDescriptors >= flood.size()) break;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_GE(refused + kServerDescriptors, flood.size());
    EXPECT_TRUE(server->running());
    EXPECT_GE(open_descriptors(server->pid()), kServerDescriptors * 3 / 4)
        << "the flood did not fill the server's descriptor table";

    // Saturated: CPU use over two seconds stays well under one core (a spinning accept loop
    // would use all of it), while the established clients are still served.
    std::uint64_t before = cpu_ticks(server->pid());
    auto window_start = Clock::now();
    int served = 0;
    while (Clock::now() < window_start + 2s) {
        for (HttpClient* client : {&established_a, &established_b}) {
            client->send_get("/index.html");
            HttpResponse response;
            ASSERT_TRUE(client->read_response(response, 2000)) << client->error();
            ASSERT_EQ(response.status, 200);
            ++served;
        }
        std::this_thread::sleep_for(100ms);
    }
    std::uint64_t used = cpu_ticks(server->pid()) - before;
    double seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
    double share = static_cast<double>(used) / static_cast<double>(ticks_per_second()) / seconds;
    EXPECT_LT(share, 0.5) << "the server used " << share * 100 << "% of a core while saturated";
    EXPECT_GT(served, 10);
    EXPECT_TRUE(server->running());

    // The flood ends; new clients are served again within about a second.
    flood.close_all();
    auto ended = Clock::now();
    int status = 0;
    while (status != 200 && Clock::now() < ended + 1s) status = quick_get(port);
    EXPECT_EQ(status, 200) << "no new connection was served within 1 s of the flood ending";
    EXPECT_LT(Clock::now() - ended, 1s);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(quick_get(port), 200);
    EXPECT_TRUE(server->running());
    EXPECT_EQ(server->stop(), 0) << server->output();
}

}  // namespace
}  // namespace c10k::test
