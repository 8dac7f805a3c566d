// `c10k proxy` with the real binary in front of real backends (`c10k serve` processes started
// here) and of a backend that misbehaves on demand (support/mock_backend.hpp): balancing,
// kept-alive backend connections, failover, the stale-connection retry, no replay of a POST,
// forwarded headers, 502/504 for broken or slow backends, streamed large bodies, bad flags.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/net.hpp"
#include "core/proxy_protocol.hpp"
#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/push_client.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace c10k::test {
namespace {

TEST(Proxy, RoundRobinSpreadsRequestsEvenly) {
    Backend a("a"), b("b"), c("c");
    auto proxy = start_proxy({a.address(), b.address(), c.address()});
    auto seen = tally(proxy->port(), "/id.txt", 30);
    EXPECT_EQ(seen["a"], 10);
    EXPECT_EQ(seen["b"], 10);
    EXPECT_EQ(seen["c"], 10);
}

TEST(Proxy, WeightsShareRequestsInProportion) {
    Backend a("a"), b("b");
    auto proxy = start_proxy({a.address() + ",weight=3", b.address()});
    auto seen = tally(proxy->port(), "/id.txt", 40);
    EXPECT_EQ(seen["a"], 30);
    EXPECT_EQ(seen["b"], 10);
}

TEST(Proxy, LeastOutstandingUsesEveryServer) {
    Backend a("a"), b("b");
    auto proxy = start_proxy({a.address(), b.address()}, {"--balance", "least-outstanding"});
    // One request at a time: every server has none outstanding, so the first in order wins
    // each time; the point is that the method serves correctly and ties go by order.
    auto seen = tally(proxy->port(), "/id.txt", 10);
    EXPECT_EQ(seen["a"], 10);
}

TEST(Proxy, HashOnACookieKeepsEachUserOnOneServer) {
    Backend a("a"), b("b"), c("c");
    auto proxy = start_proxy({a.address(), b.address(), c.address()},
                             {"--balance", "hash", "--hash-key", "cookie:user"});
    std::map<std::string, int> servers_seen;
    for (int user = 0; user < 30; ++user) {
        HttpClient client(proxy->port());
        std::string first;
        for (int i = 0; i < 4; ++i) {
            client.send_get("/id.txt",
                            "Cookie: theme=dark; user=u" + std::to_string(user) + "\r\n");
            HttpResponse response;
            ASSERT_TRUE(client.read_response(response)) << client.error();
            if (i == 0) first = response.body;
            EXPECT_EQ(response.body, first) << "user " << user << " moved";
        }
        ++servers_seen[first];
    }
    // Thirty users over three servers: each server gets some.
    EXPECT_EQ(servers_seen.size(), 3u);
}

TEST(Proxy, SourceHashSendsOneClientAddressToOneServer) {
    Backend a("a"), b("b"), c("c");
    auto proxy = start_proxy({a.address(), b.address(), c.address()}, {"--balance", "source"});
    auto seen = tally(proxy->port(), "/id.txt", 12);
    EXPECT_EQ(seen.size(), 1u);  // every request comes from 127.0.0.1
}

TEST(Proxy, KeepsBackendConnectionsAlive) {
    MockBackend backend([](const ReceivedRequest&) { return Reply{ok_response("hello")}; });
    auto proxy = start_proxy({backend.address()});
    // Several client connections one after another, many requests: one backend connection.
    for (int round = 0; round < 5; ++round) {
        auto seen = tally(proxy->port(), "/", 10);
        EXPECT_EQ(seen["hello"], 10);
    }
    EXPECT_EQ(backend.requests().size(), 50u);
    EXPECT_EQ(backend.accepted(), 1);
}

TEST(Proxy, ForwardsHeadersAndDropsHopByHop) {
    MockBackend backend([](const ReceivedRequest&) {
        return Reply{ok_response("x", 200,
                                 "Connection: X-Backend-Private\r\nX-Backend-Private: 1\r\n"
                                 "X-Backend-Public: 2\r\nKeep-Alive: timeout=5\r\n")};
    });
    auto proxy = start_proxy({backend.address()});
    HttpClient client(proxy->port());
    client.send(
        "GET /path?q=1 HTTP/1.1\r\nHost: site.test\r\nConnection: keep-alive, X-Secret\r\n"
        "X-Secret: s\r\nX-Kept: k\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "x");
    EXPECT_EQ(response.header("X-Backend-Public"), "2");
    EXPECT_FALSE(response.has_header("X-Backend-Private"));
    EXPECT_FALSE(response.has_header("Keep-Alive"));
    auto requests = backend.requests();
    ASSERT_EQ(requests.size(), 1u);
    const std::string& head = requests[0].head;
    EXPECT_EQ(requests[0].target, "/path?q=1");
    EXPECT_NE(head.find("\r\nHost: site.test\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nX-Kept: k\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("X-Secret"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nX-Forwarded-For: 192.0.2.7, 127.0.0.1\r\n"), std::string::npos)
        << head;
    EXPECT_NE(head.find("\r\nX-Forwarded-Proto: http\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nForwarded: for=127.0.0.1"), std::string::npos) << head;
}

TEST(Proxy, DeadServerIsSkippedAndGetsNeverFail) {
    Backend live("live");
    // A port nobody listens on (a listener made and closed): a server down from the start.
    int dead_port = 0;
    {
        MockBackend gone([](const ReceivedRequest&) { return Reply{}; });
        dead_port = gone.port();
    }
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(dead_port), live.address()});
    auto seen = tally(proxy->port(), "/id.txt", 20);
    EXPECT_EQ(seen["live"], 20);
}

TEST(Proxy, BackendKilledMidRunFailsNoGet) {
    auto a = std::make_unique<Backend>("a");
    Backend b("b");
    auto proxy = start_proxy({a->address(), b.address()});
    auto first = tally(proxy->port(), "/id.txt", 10);
    EXPECT_EQ(first["a"], 5);
    EXPECT_EQ(first["b"], 5);
    a->server->stop(SIGKILL);  // its kept-alive connections die with it
    auto after = tally(proxy->port(), "/id.txt", 20);
    EXPECT_EQ(after["b"], 20);
}

TEST(Proxy, StaleKeepAliveConnectionIsRetriedOnceEvenForPost) {
    // The backend reads the second request on a connection and closes without a word, as a
    // server whose keep-alive timeout ran out at that moment does.
    MockBackend backend([](const ReceivedRequest& request) {
        if (request.on_connection == 2) return Reply{"", Reply::Then::close};
        return Reply{ok_response("done " + request.method)};
    });
    auto proxy = start_proxy({backend.address()});
    HttpClient client(proxy->port());
    client.send_get("/one");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.body, "done GET");
    client.send("POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "done POST");
    auto requests = backend.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[2].method, "POST");
    EXPECT_EQ(requests[2].body, "body");
    EXPECT_EQ(requests[2].on_connection, 1);  // a fresh connection
}

TEST(Proxy, PostIsNeverReplayedAfterItWasSent) {
    // Both servers take the POST on a fresh connection and reset without answering: it may
    // have run, so the client gets 502 and no server sees it twice.
    auto resetter = [](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; };
    MockBackend one(resetter), two(resetter);
    auto proxy = start_proxy({one.address(), two.address()});
    HttpResponse response = request(proxy->port(), "POST", "/order", "pay once");
    EXPECT_EQ(response.status, 502);
    EXPECT_EQ(one.requests().size() + two.requests().size(), 1u);
}

TEST(Proxy, IdempotentRequestGoesToTheNextServerAfterAReset) {
    MockBackend broken([](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; });
    MockBackend fine([](const ReceivedRequest&) { return Reply{ok_response("fine")}; });
    auto proxy = start_proxy({broken.address(), fine.address()});
    HttpResponse response = fetch(proxy->port(), "/");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "fine");
}

TEST(Proxy, GarbageFromTheBackendIs502) {
    MockBackend backend([](const ReceivedRequest&) {
        return Reply{"this is not HTTP\r\n\r\n", Reply::Then::close};
    });
    auto proxy = start_proxy({backend.address()});
    HttpResponse response = request(proxy->port(), "POST", "/", "x");
    EXPECT_EQ(response.status, 502);
    EXPECT_NE(response.body.find(backend.address()), std::string::npos) << response.body;
}

TEST(Proxy, BackendErrorStatusPassesThrough) {
    MockBackend backend([](const ReceivedRequest&) { return Reply{ok_response("oops", 500)}; });
    auto proxy = start_proxy({backend.address()});
    HttpResponse response = fetch(proxy->port(), "/");
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body, "oops");
}

TEST(Proxy, SlowBackendGets504) {
    MockBackend backend([](const ReceivedRequest&) { return Reply{"", Reply::Then::stall}; });
    auto proxy = start_proxy({backend.address()}, {"--response-timeout", "300ms"});
    HttpResponse response = request(proxy->port(), "POST", "/", "x");
    EXPECT_EQ(response.status, 504);
}

TEST(Proxy, ResponseCutMidBodyCutsTheClient) {
    MockBackend backend([](const ReceivedRequest&) {
        return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", Reply::Then::reset};
    });
    auto proxy = start_proxy({backend.address()});
    HttpClient client(proxy->port());
    client.send_get("/");
    HttpResponse response;
    // The head went out; the body can only end in a cut connection, never a short "complete"
    // response.
    EXPECT_FALSE(client.read_response(response));
    EXPECT_TRUE(client.wait_closed());
}

TEST(Proxy, ChunkedAndCloseDelimitedBodiesReachTheClient) {
    MockBackend chunked([](const ReceivedRequest&) {
        return Reply{
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
            "world\r\n0\r\n\r\n"};
    });
    MockBackend until_close([](const ReceivedRequest&) {
        return Reply{"HTTP/1.0 200 OK\r\n\r\nuntil the end", Reply::Then::close};
    });
    auto p1 = start_proxy({chunked.address()});
    auto p2 = start_proxy({until_close.address()});
    HttpClient client(p1->port());
    for (int i = 0; i < 2; ++i) {
        client.send_get("/");
        HttpResponse response;
        ASSERT_TRUE(client.read_response(response)) << client.error();
        EXPECT_EQ(response.body, "hello world");
    }
    HttpResponse response = fetch(p2->port(), "/");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "until the end");
}

TEST(Proxy, HeadAnswerKeepsItsLength) {
    Backend a("0123456789");
    auto proxy = start_proxy({a.address()});
    HttpClient client(proxy->port());
    client.send("HEAD /id.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response, 5000, true)) << client.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Length"), "10");
    client.send_get("/id.txt");
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.body, "0123456789");
}

TEST(Proxy, LargeFileStreamsThroughByteExact) {
    TempDir dir;
    std::string big(16 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
    dir.write("big.bin", big);
    ServerProcess backend(
        {"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())});
    HttpClient client(proxy->port());
    client.send_get("/big.bin");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response, 30000)) << client.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body.size(), big.size());
    EXPECT_TRUE(response.body == big);
}

/// The proxy drives its backend connections through the loop's descriptor watcher, which
/// every engine offers: balancing, the stale-connection retry, a streamed body and a 502.
class ProxyOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(ProxyOnEveryEngine, BalancesRetriesStreamsAndRefusesGarbage) {
    Backend a("a"), b("b");
    MockBackend stale([](const ReceivedRequest& request) {
        if (request.on_connection == 2) return Reply{"", Reply::Then::close};
        return Reply{ok_response(std::string(300'000, 's'))};
    });
    MockBackend garbage([](const ReceivedRequest&) {
        return Reply{"garbage\r\n\r\n", Reply::Then::close};
    });
    std::vector<std::string> engine{"--engine", GetParam()};
    auto balanced = start_proxy({a.address(), b.address()}, engine);
    auto seen = tally(balanced->port(), "/id.txt", 10);
    EXPECT_EQ(seen["a"] + seen["b"], 10);
    EXPECT_GE(seen["a"], 1);
    EXPECT_GE(seen["b"], 1);

    auto streaming = start_proxy({stale.address()}, engine);
    HttpClient client(streaming->port());
    for (int i = 0; i < 3; ++i) {
        client.send_get("/");
        HttpResponse response;
        ASSERT_TRUE(client.read_response(response, 10000)) << client.error();
        EXPECT_EQ(response.status, 200);
        EXPECT_EQ(response.body.size(), 300'000u);
    }

    auto broken = start_proxy({garbage.address()}, engine);
    EXPECT_EQ(fetch(broken->port(), "/").status, 502);
    EXPECT_EQ(balanced->stop(), 0) << balanced->output();

    // An upload far past the proxy's buffers: the client is paused and resumed many times,
    // which each engine must follow (it stops reading, then reads again when told).
    MockBackend sink([](const ReceivedRequest& request) {
        bool whole = request.body == std::string(request.body.size(), 'p');
        return Reply{ok_response((whole ? "got " : "bad ") + std::to_string(request.body.size()))};
    });
    std::vector<std::string> flags = engine;
    flags.insert(flags.end(), {"--max-body-bytes", "4194304", "--client-buffer", "65536"});
    auto uploading = start_proxy({sink.address()}, flags);
    HttpClient uploader(uploading->port());
    const std::string body(2 << 20, 'p');
    uploader.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n");
    uploader.send(body);
    HttpResponse uploaded;
    ASSERT_TRUE(uploader.read_response(uploaded, 10000)) << uploader.error();
    EXPECT_EQ(uploaded.status, 200);
    EXPECT_EQ(uploaded.body, "got 2097152");
}

std::vector<std::string> every_engine_here() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, ProxyOnEveryEngine, ::testing::ValuesIn(every_engine_here()),
                         engine_param_name);

TEST(Proxy, ConnectionCapQueuesThenRefusesWith503) {
    // The backend never answers /stall: with one connection allowed, a second request waits
    // in the queue (of one), a third finds the queue full.
    MockBackend backend([](const ReceivedRequest& request) {
        if (request.target == "/stall") return Reply{"", Reply::Then::stall};
        return Reply{ok_response("ok")};
    });
    auto proxy = start_proxy({backend.address()}, {"--backend-max-conns", "1", "--queue", "1",
                                                   "--queue-timeout", "400ms"});
    HttpClient stalled(proxy->port());
    stalled.send_get("/stall");
    HttpClient queued(proxy->port());
    // The stalled request must hold the connection before the next one arrives.
    for (int i = 0; i < 500 && backend.requests().empty(); ++i) ::usleep(10'000);
    ASSERT_EQ(backend.requests().size(), 1u);
    queued.send_get("/queued");
    ::usleep(50'000);
    HttpResponse refused = fetch(proxy->port(), "/third");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.header("Retry-After"), "1");
    HttpResponse timed_out;
    ASSERT_TRUE(queued.read_response(timed_out)) << queued.error();
    EXPECT_EQ(timed_out.status, 503);
    EXPECT_EQ(backend.requests().size(), 1u);  // neither reached the server
}

TEST(Proxy, ConnectionCapServesEveryRequestOverOneConnection) {
    MockBackend backend([](const ReceivedRequest&) { return Reply{ok_response("ok")}; });
    auto proxy = start_proxy({backend.address()}, {"--backend-max-conns", "1"});
    // Eight clients at once, each with several requests: they take turns on one connection.
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<HttpClient>(proxy->port()));
    for (int round = 0; round < 5; ++round) {
        for (auto& client : clients) client->send_get("/");
        for (auto& client : clients) {
            HttpResponse response;
            ASSERT_TRUE(client->read_response(response)) << client->error();
            EXPECT_EQ(response.status, 200);
        }
    }
    EXPECT_EQ(backend.requests().size(), 40u);
    EXPECT_EQ(backend.accepted(), 1);
}

TEST(Proxy, SendsAProxyProtocolHeaderOnEachNewConnection) {
    MockBackend v1([](const ReceivedRequest&) { return Reply{ok_response("one")}; });
    // The mock cuts what it reads at each blank line, and v2's signature begins with one: the
    // piece before it is no request, and gets no answer (an answer would reach the proxy as
    // the response, and the test would read what the mock received before it had all of it).
    MockBackend v2([](const ReceivedRequest& request) {
        if (request.head.find("GET /b HTTP/1.1") == std::string::npos) return Reply{};
        return Reply{ok_response("two")};
    });
    auto p1 = start_proxy({v1.address() + ",send-proxy"});
    auto p2 = start_proxy({v2.address() + ",send-proxy-v2"});
    tally(p1->port(), "/a", 2);
    tally(p2->port(), "/b", 1);
    auto first = v1.requests();
    ASSERT_EQ(first.size(), 2u);
    // The header leads the connection's first request only.
    EXPECT_EQ(first[0].head.rfind("PROXY TCP4 127.0.0.1 127.0.0.1 ", 0), 0u) << first[0].head;
    EXPECT_NE(first[0].head.find("\r\nGET /a HTTP/1.1\r\n"), std::string::npos);
    EXPECT_EQ(first[1].head.rfind("GET /a HTTP/1.1\r\n", 0), 0u) << first[1].head;
    // The bytes it received, joined: the signature, the header, then the request.
    std::string received;
    for (const auto& request : v2.requests()) received += request.head + request.body;
    const std::string signature("\r\n\r\n\0\r\nQUIT\n", 12);
    EXPECT_EQ(received.substr(0, 12), signature);
    std::size_t get = received.find("GET /b HTTP/1.1\r\n");
    ASSERT_NE(get, std::string::npos);
    EXPECT_EQ(get, 16u + 12u);  // the fixed part, then two IPv4 addresses and ports
    EXPECT_EQ(received.find("GET /b", get + 1), std::string::npos);
}

TEST(Proxy, TrustedBalancersProxyHeaderNamesTheClient) {
    // c10k proxy behind a balancer that sends PROXY: the client it names is the one the
    // backend hears of in X-Forwarded-For.
    MockBackend backend([](const ReceivedRequest&) { return Reply{ok_response("ok")}; });
    auto proxy = start_proxy({backend.address()}, {"--proxy-protocol-from", "127.0.0.0/8"});
    HttpClient client(proxy->port());
    client.send("PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200);
    auto requests = backend.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_NE(requests[0].head.find("\r\nX-Forwarded-For: 192.0.2.9\r\n"), std::string::npos)
        << requests[0].head;
    // A trusted peer must send the header: a bare request is refused.
    HttpResponse bare = fetch(proxy->port(), "/");
    EXPECT_EQ(bare.status, 400);
    EXPECT_EQ(backend.requests().size(), 1u);
}

TEST(Proxy, ServeAcceptsProxyHeadersOnlyFromTrustedPeers) {
    TempDir dir;
    dir.write("id.txt", "served");
    std::string log = dir.path() + "/access.log";
    ServerProcess trusting({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads",
                            "1", "--proxy-protocol-from", "127.0.0.1", "--access-log", log});
    HttpClient v1(trusting.port());
    v1.send("PROXY TCP4 198.51.100.7 127.0.0.1 4000 80\r\nGET /id.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse response;
    ASSERT_TRUE(v1.read_response(response)) << v1.error();
    EXPECT_EQ(response.body, "served");
    // Version 2, in two pieces.
    sockaddr_storage source{}, destination{};
    ASSERT_TRUE(core::parse_address_text("[2001:db8::5]", source));
    ASSERT_TRUE(core::parse_address_text("[::1]", destination));
    std::string header;
    core::append_proxy_v2(source, destination, header);
    HttpClient v2(trusting.port());
    v2.send(header.substr(0, 10));
    ::usleep(20'000);
    v2.send(header.substr(10) + "GET /id.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(v2.read_response(response)) << v2.error();
    EXPECT_EQ(response.body, "served");
    EXPECT_EQ(trusting.stop(), 0);  // the access log is flushed at the stop
    std::string text;
    {
        std::FILE* file = std::fopen(log.c_str(), "r");
        ASSERT_NE(file, nullptr);
        char buffer[4096];
        std::size_t n = std::fread(buffer, 1, sizeof buffer, file);
        text.assign(buffer, n);
        std::fclose(file);
    }
    EXPECT_EQ(text.rfind("198.51.100.7 ", 0), 0u) << text;
    EXPECT_NE(text.find("\n[2001:db8::5] "), std::string::npos) << text;

    // A server that trusts nobody reads a PROXY line as a bad request.
    ServerProcess plain(
        {"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    HttpClient liar(plain.port());
    liar.send(
        "PROXY TCP4 198.51.100.7 127.0.0.1 4000 80\r\nGET /id.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(liar.read_response(response)) << liar.error();
    EXPECT_EQ(response.status, 400);
    auto bad = run_command({"serve", "--proxy-protocol-from", "10.0.0.0/33"});
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--proxy-protocol-from: '10.0.0.0/33'"), std::string::npos)
        << bad.output;
}

TEST(Proxy, WebSocketPassesThroughAsATunnel) {
    TempDir dir;
    ServerProcess backend({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads",
                           "1", "--ws-echo", "/echo"});
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())});
    WsClient client(proxy->port());
    WsHandshake handshake;
    handshake.extensions = "";  // plain frames: what the test sends is what the echo returns
    // A frame that rides in the same write as the handshake reaches the backend after it.
    handshake.trailing = ws_encode(0x1, "early");
    ASSERT_TRUE(client.handshake(handshake)) << client.last_error();
    auto early = client.read_message();
    ASSERT_TRUE(early.has_value()) << client.last_error();
    EXPECT_EQ(early->payload, "early");
    std::string big(200'000, 'w');
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(client.send_text(i % 2 == 0 ? "hello " + std::to_string(i) : big));
        auto message = client.read_message();
        ASSERT_TRUE(message.has_value()) << client.last_error();
        EXPECT_EQ(message->payload, i % 2 == 0 ? "hello " + std::to_string(i) : big);
    }
    ASSERT_TRUE(client.send_close(1000, "bye"));
    auto close = client.read_close();
    ASSERT_TRUE(close.has_value()) << client.last_error();
    EXPECT_EQ(close->code, 1000);
    EXPECT_TRUE(client.wait_tcp_closed());
}

TEST(Proxy, TunnelKeepsFlowingBothWaysUnderBackpressure) {
    // A client buffer far below the messages: the proxy pauses reading the backend again and
    // again, and each time it resumes, what the client sent meanwhile must go on too.
    TempDir dir;
    ServerProcess backend({"serve", "--root", dir.path(), "--listen", "127.0.0.1:0", "--threads",
                           "1", "--ws-echo", "/echo"});
    auto proxy =
        start_proxy({"127.0.0.1:" + std::to_string(backend.port())}, {"--client-buffer", "4096"});
    WsClient client(proxy->port());
    WsHandshake handshake;
    handshake.extensions = "";
    ASSERT_TRUE(client.handshake(handshake)) << client.last_error();
    for (int i = 0; i < 8; ++i) {
        std::string payload(300'000, static_cast<char>('a' + i));
        ASSERT_TRUE(client.send_text(payload));
        auto message = client.read_message();
        ASSERT_TRUE(message.has_value()) << "message " << i << ": " << client.last_error();
        EXPECT_EQ(message->payload, payload);
    }
}

TEST(Proxy, ClientThatLeavesEarlyCostsNoBackendConnection) {
    // The backend answers after the client has gone: the proxy reads that answer to its end
    // and keeps the connection, so the next request finds it (HAProxy does the same; a proxy
    // that drops it reconnects once per client that leaves mid-request).
    MockBackend backend([](const ReceivedRequest& request) {
        if (request.target == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return Reply{ok_response(std::string(20'000, 'x'))};
    });
    auto proxy = start_proxy({backend.address()});
    {
        HttpClient leaver(proxy->port());
        leaver.send_get("/slow");
        // The client leaves once the backend has its request (before that, the proxy rightly
        // drops the connection it is opening: nothing was sent).
        for (int i = 0; i < 250 && backend.requests().empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // past the slow answer
    for (int i = 0; i < 3; ++i) EXPECT_EQ(fetch(proxy->port(), "/next").status, 200);
    EXPECT_EQ(backend.accepted(), 1);
    auto requests = backend.requests();
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_EQ(requests.back().connection, 1);
}

TEST(Proxy, UpgradeTheBackendRefusesIsAnOrdinaryAnswerThatClosesTheConnection) {
    MockBackend backend(
        [](const ReceivedRequest&) { return Reply{ok_response("no ws here", 404)}; });
    auto proxy = start_proxy({backend.address()});
    WsClient client(proxy->port());
    EXPECT_FALSE(client.handshake());
    EXPECT_TRUE(client.wait_tcp_closed());
    // A 101 the client did not ask for is a broken backend.
    MockBackend rogue([](const ReceivedRequest&) {
        return Reply{
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"};
    });
    auto proxy2 = start_proxy({rogue.address()});
    EXPECT_EQ(fetch(proxy2->port(), "/").status, 502);
}

TEST(ProxyFlags, BadFlagsSayWhatIsWrong) {
    auto missing = run_command({"proxy", "--listen", "127.0.0.1:0"});
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.output.find("--backend"), std::string::npos) << missing.output;
    auto bad = run_command({"proxy", "--backend", "127.0.0.1:notaport"});
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("--backend 127.0.0.1:notaport"), std::string::npos) << bad.output;
    auto weight = run_command({"proxy", "--backend", "127.0.0.1:9,weight=0"});
    EXPECT_NE(weight.status, 0);
    EXPECT_NE(weight.output.find("weight=N"), std::string::npos) << weight.output;
    auto balance = run_command({"proxy", "--backend", "127.0.0.1:9", "--balance", "random"});
    EXPECT_NE(balance.status, 0);
    EXPECT_NE(balance.output.find("--balance: unknown method 'random'"), std::string::npos)
        << balance.output;
    auto check = run_command({"proxy", "--backend", "127.0.0.1:9", "-t"});
    EXPECT_EQ(check.status, 0) << check.output;
}

}  // namespace
}  // namespace c10k::test
