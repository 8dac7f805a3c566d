// FastCGI multiplexing with the real binary: an application that answers FCGI_MPXS_CONNS=1 gets
// several requests at once on one connection. No application Debian ships multiplexes (php-fpm
// answers 0), so these run against the mock's multiplexing mode (support/mock_fastcgi.hpp);
// php-fpm's own path is fastcgi_test.cpp's, unchanged.

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/mock_fastcgi.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

std::unique_ptr<ServerProcess> serve_to(const TempDir& root, const MockFastcgi& app) {
    for (const char* name : {"a.php", "b.php", "c.php", "d.php", "leave.php", "none.php"}) {
        root.write(name, "never read by the mock");
    }
    return std::make_unique<ServerProcess>(std::vector<std::string>{
        "serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads", "1", "--fastcgi",
        "/=" + app.address(), "--fastcgi-timeout", "30s"});
}

/// A body of `size` bytes that names its request in every line, so that a mix-up shows.
std::string body_for(const std::string& uri, std::size_t size) {
    std::string body;
    while (body.size() < size) body += uri + " " + std::to_string(body.size()) + "\n";
    return body;
}

std::string page(const std::string& body) {
    return "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

/// Waits (bounded) until `done` holds; the bound only stops a broken run.
template <typename Done>
bool eventually(Done done) {
    for (int i = 0; i < 400 && !done(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return done();
}

TEST(FastcgiMultiplex, ConcurrentRequestsShareOneConnection) {
    Multiplexing mode;
    mode.gather = 4;  // nothing is answered until all four are in flight on the connection
    mode.behave = [](const std::string& uri, const std::string&) {
        return MultiplexReply{page(body_for(uri, 50000))};
    };
    MockFastcgi app(mode);
    TempDir root;
    auto server = serve_to(root, app);
    std::vector<std::unique_ptr<HttpClient>> clients;
    const std::vector<std::string> uris{"/a.php", "/b.php", "/c.php", "/d.php"};
    for (const auto& uri : uris) {
        clients.push_back(std::make_unique<HttpClient>(server->port()));
        clients.back()->send("GET " + uri + " HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    for (std::size_t i = 0; i < uris.size(); ++i) {
        HttpResponse r;
        ASSERT_TRUE(clients[i]->read_response(r, 20000)) << clients[i]->error();
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(r.body == body_for(uris[i], 50000)) << uris[i];  // intact, not mixed
    }
    EXPECT_EQ(app.queries(), 1);
    EXPECT_EQ(app.connections(), 1);
    EXPECT_EQ(app.most_in_flight(), 4);
    std::vector<int> ids = app.request_ids();
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<int>{1, 2, 3, 4}));
    // The ids are reused once ended: the next request goes on the same connection.
    EXPECT_TRUE(fetch(server->port(), "/a.php").body == body_for("/a.php", 50000));
    EXPECT_EQ(app.connections(), 1);
    EXPECT_TRUE(server->running());
}

TEST(FastcgiMultiplex, ClientThatLeavesAbortsOnlyItsRequest) {
    Multiplexing mode;
    mode.gather = 3;
    mode.behave = [](const std::string& uri, const std::string&) {
        if (uri == "/leave.php") {
            // A head and part of a body; the rest never comes unless aborted.
            return MultiplexReply{"Content-Type: text/plain\r\n\r\n" + std::string(20000, 'l'),
                                  10000};
        }
        return MultiplexReply{page(body_for(uri, 30000))};
    };
    MockFastcgi app(mode);
    TempDir root;
    auto server = serve_to(root, app);
    HttpClient a(server->port());
    HttpClient b(server->port());
    {
        HttpClient leaving(server->port());
        leaving.send("GET /leave.php HTTP/1.1\r\nHost: t\r\n\r\n");
        a.send("GET /a.php HTTP/1.1\r\nHost: t\r\n\r\n");
        b.send("GET /b.php HTTP/1.1\r\nHost: t\r\n\r\n");
        char buffer[4096];
        ASSERT_GT(::recv(leaving.fd(), buffer, sizeof buffer, 0), 0);
    }  // closed mid-response
    HttpResponse r;
    ASSERT_TRUE(a.read_response(r, 20000)) << a.error();
    EXPECT_TRUE(r.body == body_for("/a.php", 30000));
    ASSERT_TRUE(b.read_response(r, 20000)) << b.error();
    EXPECT_TRUE(r.body == body_for("/b.php", 30000));
    EXPECT_TRUE(eventually([&] { return !app.aborted().empty(); }));
    EXPECT_EQ(app.aborted(), std::vector<std::string>{"/leave.php"});
    // The connection stayed open for the others, and serves on.
    EXPECT_TRUE(fetch(server->port(), "/c.php").body == body_for("/c.php", 30000));
    EXPECT_EQ(app.connections(), 1);
}

TEST(FastcgiMultiplex, ConnectionClosingFailsEveryRequestOnIt) {
    Multiplexing mode;
    mode.gather = 3;
    mode.close_after_round = true;
    mode.behave = [](const std::string& uri, const std::string&) {
        if (uri == "/a.php") return MultiplexReply{page(body_for(uri, 5000))};
        if (uri == "/none.php") return MultiplexReply{"Content-Type: text/plain\r\n\r\nx", 0};
        if (uri == "/b.php") return MultiplexReply{page(body_for(uri, 20000)), 3000};  // cut
        return MultiplexReply{page(body_for(uri, 20000))};
    };
    MockFastcgi app(mode);
    TempDir root;
    auto server = serve_to(root, app);
    HttpClient whole(server->port());
    HttpClient cut(server->port());
    HttpClient none(server->port());
    whole.send("GET /a.php HTTP/1.1\r\nHost: t\r\n\r\n");
    cut.send("GET /b.php HTTP/1.1\r\nHost: t\r\n\r\n");
    none.send("GET /none.php HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(whole.read_response(r, 20000)) << whole.error();
    EXPECT_TRUE(r.body == body_for("/a.php", 5000));
    EXPECT_FALSE(cut.read_response(r, 20000));  // the head went out: cut, never short
    EXPECT_TRUE(cut.wait_closed(20000));
    ASSERT_TRUE(none.read_response(r, 20000)) << none.error();
    EXPECT_EQ(r.status, 502) << r.body;
    // A new connection serves the next request.
    EXPECT_TRUE(fetch(server->port(), "/c.php").body == body_for("/c.php", 20000));
    EXPECT_EQ(app.connections(), 2);
    EXPECT_TRUE(server->running());
}

TEST(FastcgiMultiplex, SlowClientIsAbortedPastTheBoundAndOthersGoOn) {
    // The connection is read for everyone, so output a client does not take is held only up to
    // a bound (4 x 256 KiB); past it the request is aborted. 24 MiB outruns that bound and
    // whatever the loopback's socket buffers absorb.
    const std::size_t large = 24 * 1024 * 1024;
    Multiplexing mode;
    mode.gather = 2;
    mode.record_bytes = 60000;
    mode.behave = [&](const std::string& uri, const std::string&) {
        if (uri == "/leave.php") return MultiplexReply{page(std::string(large, 's'))};
        return MultiplexReply{page(body_for(uri, 30000))};
    };
    MockFastcgi app(mode);
    TempDir root;
    auto server = serve_to(root, app);
    HttpClient slow(server->port());  // never reads until the end
    HttpClient other(server->port());
    slow.send("GET /leave.php HTTP/1.1\r\nHost: t\r\n\r\n");
    other.send("GET /a.php HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(other.read_response(r, 20000)) << other.error();
    EXPECT_TRUE(r.body == body_for("/a.php", 30000));
    EXPECT_TRUE(eventually([&] { return !app.aborted().empty(); }));
    EXPECT_EQ(app.aborted(), std::vector<std::string>{"/leave.php"});
    EXPECT_FALSE(slow.read_response(r, 20000));  // cut: never passes for the whole body
    EXPECT_TRUE(fetch(server->port(), "/b.php").body == body_for("/b.php", 30000));
    EXPECT_EQ(app.connections(), 1);
    server->stop();
    EXPECT_NE(server->output().find("takes the response too slowly"), std::string::npos);
}

TEST(FastcgiMultiplex, ApplicationSayingNoIsAskedOnceAndServedOneAtATime) {
    // As php-fpm: GET_VALUES answered with FCGI_MPXS_CONNS=0 and the connection closed. The
    // answer is kept for the pool: asked once, then one kept-alive connection, request id 1.
    MockFastcgi app([](int connection, int) {
        return FastcgiReply{
            fastcgi_response("Content-Type: text/plain\r\n\r\non " + std::to_string(connection)),
            false};
    });
    TempDir root;
    auto server = serve_to(root, app);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(fetch(server->port(), "/a.php").body, "on 1");
    EXPECT_EQ(app.queries(), 1);
    EXPECT_EQ(app.connections(), 1);
    EXPECT_EQ(app.requests(), 3);
}

TEST(FastcgiMultiplex, ApplicationThatNeverAnswersTheQueryIsServedOneAtATime) {
    // The query goes unanswered: the server stops waiting for it, closes its connection, and
    // serves as for php-fpm.
    MockFastcgi app(
        [](int connection, int) {
            return FastcgiReply{fastcgi_response("Content-Type: text/plain\r\n\r\non " +
                                                 std::to_string(connection)),
                                false};
        },
        false);
    TempDir root;
    auto server = serve_to(root, app);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(fetch(server->port(), "/a.php").body, "on 1");
    EXPECT_EQ(app.queries(), 1);
    EXPECT_EQ(app.connections(), 1);
    EXPECT_EQ(app.requests(), 3);
}

TEST(FastcgiMultiplex, BodiesWithALengthAndInChunksGoUpWhole) {
    // Larger than the 256 KiB held for a request: the client's body pauses and resumes as the
    // shared connection takes the request's records. The chunked one is held whole first.
    Multiplexing mode;
    mode.gather = 2;
    mode.behave = [](const std::string& uri, const std::string& body) {
        return MultiplexReply{page(uri + " got " + std::to_string(body.size()) + " " +
                                   (body == body_for(uri, body.size()) ? "intact" : "mixed"))};
    };
    MockFastcgi app(mode);
    TempDir root;
    auto server = serve_to(root, app);
    const std::size_t size = 700 * 1000;
    std::string a = body_for("/a.php", size);
    std::string b = body_for("/b.php", size);
    HttpClient sized(server->port());
    HttpClient chunked(server->port());
    sized.send("POST /a.php HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(a.size()) +
               "\r\n\r\n");
    chunked.send("POST /b.php HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (std::size_t at = 0; at < std::max(a.size(), b.size()); at += 100 * 1000) {
        if (at < a.size()) sized.send(std::string_view(a).substr(at, 100 * 1000));
        if (at >= b.size()) continue;
        std::string_view piece = std::string_view(b).substr(at, 100 * 1000);
        char length[16];
        std::snprintf(length, sizeof length, "%zx\r\n", piece.size());
        chunked.send(std::string(length) + std::string(piece) + "\r\n");
    }
    chunked.send("0\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(sized.read_response(r, 20000)) << sized.error();
    EXPECT_EQ(r.body, "/a.php got " + std::to_string(a.size()) + " intact");
    ASSERT_TRUE(chunked.read_response(r, 20000)) << chunked.error();
    EXPECT_EQ(r.body, "/b.php got " + std::to_string(b.size()) + " intact");
    EXPECT_EQ(app.connections(), 1);
    EXPECT_EQ(app.most_in_flight(), 2);
}

}  // namespace
}  // namespace c10k::test
