// `c10k proxy --sticky-cookie`: a client that sends the cookie back stays on its server, a
// client without one is balanced and told its server, the server never sees the cookie, and a
// client whose server is down moves and gets a new cookie.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// "SRV=0123456789abcdef" from "SRV=0123456789abcdef; Path=/; ...": what a browser sends back.
std::string cookie_pair(const HttpResponse& response) {
    std::string set_cookie = response.header("Set-Cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
}

/// One GET of /id.txt on `client` with `cookie` (none when empty).
HttpResponse get_id(HttpClient& client, const std::string& cookie) {
    client.send_get("/id.txt", cookie.empty() ? "" : "Cookie: " + cookie + "\r\n");
    HttpResponse response;
    EXPECT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200) << response.body;
    return response;
}

TEST(ProxySticky, ClientWithItsCookieStaysAndOneWithoutIsBalanced) {
    Backend a("a"), b("b"), c("c");
    auto proxy = start_proxy({a.address(), b.address(), c.address()}, {"--sticky-cookie", "SRV"});
    HttpClient fresh(proxy->port());
    std::map<std::string, int> balanced;
    std::map<std::string, std::string> cookie_of;  // server -> its cookie pair
    for (int i = 0; i < 6; ++i) {
        HttpResponse response = get_id(fresh, "");
        ++balanced[response.body];
        std::string set_cookie = response.header("Set-Cookie");
        EXPECT_NE(set_cookie.find("; Path=/; HttpOnly; SameSite=Lax"), std::string::npos)
            << set_cookie;
        EXPECT_EQ(set_cookie.find("Max-Age"), std::string::npos) << set_cookie;
        EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << set_cookie;
        cookie_of[response.body] = cookie_pair(response);
    }
    EXPECT_EQ(balanced["a"], 2);
    EXPECT_EQ(balanced["b"], 2);
    EXPECT_EQ(balanced["c"], 2);
    ASSERT_EQ(cookie_of.size(), 3u);
    std::set<std::string> distinct;
    for (const auto& [server, cookie] : cookie_of) distinct.insert(cookie);
    EXPECT_EQ(distinct.size(), 3u);

    // Each client keeps its server over 20 requests, on new connections, and is not told
    // again what it knows.
    for (const auto& [server, cookie] : cookie_of) {
        for (int i = 0; i < 20; ++i) {
            HttpClient sticky(proxy->port());
            HttpResponse response = get_id(sticky, "lang=en; " + cookie);
            EXPECT_EQ(response.body, server) << cookie;
            EXPECT_FALSE(response.has_header("Set-Cookie")) << response.header("Set-Cookie");
        }
    }
}

TEST(ProxySticky, CookieAttributesAsConfigured) {
    Backend a("a");
    auto proxy =
        start_proxy({a.address()}, {"--sticky-cookie", "route,samesite=none,secure,max-age=2h"});
    HttpClient client(proxy->port());
    HttpResponse response = get_id(client, "");
    std::string set_cookie = response.header("Set-Cookie");
    ASSERT_EQ(set_cookie.rfind("route=", 0), 0u) << set_cookie;
    EXPECT_EQ(set_cookie.substr(set_cookie.find(';')),
              "; Path=/; HttpOnly; SameSite=None; Secure; Max-Age=7200");
    // The value names the server without showing its address.
    std::string value = cookie_pair(response).substr(6);
    EXPECT_EQ(value.size(), 16u) << value;
    EXPECT_EQ(value.find_first_not_of("0123456789abcdef"), std::string::npos) << value;
}

TEST(ProxySticky, ServerNeverSeesTheStickyCookieButSeesTheOthers) {
    MockBackend backend([](const ReceivedRequest&) { return Reply{ok_response("ok")}; });
    auto proxy = start_proxy({backend.address()}, {"--sticky-cookie", "SRV"});
    HttpClient client(proxy->port());
    std::string mine = cookie_pair(get_id(client, "theme=dark"));
    ASSERT_EQ(mine.rfind("SRV=", 0), 0u) << mine;
    get_id(client, "theme=dark; " + mine + ";lang=\"en\"");
    get_id(client, mine);
    auto requests = backend.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_NE(requests[0].head.find("\r\nCookie: theme=dark\r\n"), std::string::npos)
        << requests[0].head;
    EXPECT_NE(requests[1].head.find("\r\nCookie: theme=dark;lang=\"en\"\r\n"), std::string::npos)
        << requests[1].head;
    EXPECT_EQ(requests[1].head.find("SRV"), std::string::npos) << requests[1].head;
    // The header left empty is not sent at all.
    EXPECT_EQ(requests[2].head.find("Cookie"), std::string::npos) << requests[2].head;
}

TEST(ProxySticky, ClientMovesWhenItsServerStopsAndGetsANewCookie) {
    auto a = std::make_unique<Backend>("a");
    Backend b("b");
    auto proxy = start_proxy({a->address(), b.address()}, {"--sticky-cookie", "SRV"});
    std::map<std::string, std::string> cookie_of;
    {
        HttpClient client(proxy->port());
        for (int i = 0; i < 2; ++i) {
            HttpResponse response = get_id(client, "");
            cookie_of[response.body] = cookie_pair(response);
        }
    }
    ASSERT_EQ(cookie_of.size(), 2u);
    {
        HttpClient client(proxy->port());
        for (int i = 0; i < 3; ++i) EXPECT_EQ(get_id(client, cookie_of["a"]).body, "a");
    }
    a->server->stop();
    HttpClient client(proxy->port());
    HttpResponse moved = get_id(client, cookie_of["a"]);
    EXPECT_EQ(moved.body, "b");
    EXPECT_EQ(cookie_pair(moved), cookie_of["b"]);
    HttpResponse after = get_id(client, cookie_pair(moved));
    EXPECT_EQ(after.body, "b");
    EXPECT_FALSE(after.has_header("Set-Cookie"));
}

TEST(ProxySticky, ServerAtItsCapKeepsItsClientsWaitingRatherThanMovingThem) {
    MockBackend a([](const ReceivedRequest& request) {
        if (request.target == "/slow") return Reply{"", Reply::Then::stall};
        return Reply{ok_response("a")};
    });
    MockBackend b([](const ReceivedRequest&) { return Reply{ok_response("b")}; });
    auto proxy = start_proxy(
        {a.address(), b.address()},
        {"--sticky-cookie", "SRV", "--backend-max-conns", "1", "--queue-timeout", "300ms"});
    HttpClient first(proxy->port());
    HttpResponse response = get_id(first, "");
    ASSERT_EQ(response.body, "a");
    std::string cookie = cookie_pair(response);
    // The one connection to a is busy with a request it does not answer...
    first.send_get("/slow", "Cookie: " + cookie + "\r\n");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (a.requests().size() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(a.requests().size(), 2u);
    // ...so the next client of a waits for it in the queue, and is not sent to b.
    HttpClient second(proxy->port());
    second.send_get("/id.txt", "Cookie: " + cookie + "\r\n");
    ASSERT_TRUE(second.read_response(response)) << second.error();
    EXPECT_EQ(response.status, 503) << response.body;
    EXPECT_EQ(response.header("Retry-After"), "1");
    EXPECT_TRUE(b.requests().empty());
}

TEST(ProxySticky, UnknownCookieValueIsBalancedAndReplaced) {
    Backend a("a"), b("b");
    auto proxy = start_proxy({a.address(), b.address()}, {"--sticky-cookie", "SRV"});
    HttpClient client(proxy->port());
    std::map<std::string, int> seen;
    for (const char* value : {"garbage", "0000000000000000", "\"\"", "x;y", "garbage"}) {
        HttpResponse response = get_id(client, std::string("SRV=") + value);
        ++seen[response.body];
        EXPECT_EQ(cookie_pair(response).size(), 4u + 16u) << response.header("Set-Cookie");
    }
    EXPECT_EQ(seen.size(), 2u);
}

TEST(ProxySticky, BadCookieFlagsSayWhatIsWrong) {
    auto none = run_command(
        {"proxy", "--backend", "127.0.0.1:9", "--sticky-cookie", "SRV,samesite=none", "-t"});
    EXPECT_NE(none.status, 0);
    EXPECT_NE(none.output.find("--sticky-cookie: samesite=none needs secure"), std::string::npos)
        << none.output;
    auto option =
        run_command({"proxy", "--backend", "127.0.0.1:9", "--sticky-cookie", "SRV,path=/x", "-t"});
    EXPECT_NE(option.status, 0);
    EXPECT_NE(option.output.find("unknown option 'path=/x'"), std::string::npos) << option.output;
    auto good = run_command({"proxy", "--backend", "127.0.0.1:9", "--sticky-cookie",
                             "SRV,samesite=strict,max-age=24h", "-t"});
    EXPECT_EQ(good.status, 0) << good.output;
}

}  // namespace
}  // namespace c10k::test
