// `c10k proxy --config`: named pools and the routes to them, with the real binary in front of
// backends that say who they are. Every condition (host, exact path, prefix, regex, method,
// header) chooses its pool; paths are matched decoded and normalised; first match wins; a
// request no route takes goes to the default pool or gets 404; a bad file says where and why.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/push_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// A backend that answers every request with its own name.
struct Named {
    std::string name;
    MockBackend backend;
    explicit Named(std::string id)
        : name(std::move(id)),
          backend([this](const ReceivedRequest&) { return Reply{ok_response(name)}; }) {}
    std::string address() const { return backend.address(); }
};

std::string who(int port, std::string_view method, std::string_view target,
                std::string_view headers = "") {
    HttpClient client(port);
    std::string request = std::string(method) + " " + std::string(target) +
                          " HTTP/1.1\r\nHost: site.test\r\n" + std::string(headers);
    if (method == "POST")
        request += "Content-Length: 1\r\n\r\nx";
    else
        request += "\r\n";
    // A Host given in `headers` replaces the default one.
    if (headers.find("Host:") != std::string_view::npos) {
        request.erase(request.find("Host: site.test\r\n"), 17);
    }
    client.send(request);
    HttpResponse response;
    if (!client.read_response(response)) return "no answer: " + client.error();
    if (response.status != 200) return std::to_string(response.status) + " " + response.body;
    return response.body;
}

TEST(ProxyRoutes, EachConditionChoosesItsPoolAndTheRestGoToTheDefault) {
    Named web("web"), cgi("cgi"), api("api");
    TempDir dir;
    std::string config = dir.write("proxy.toml", R"([server]
listen = ["127.0.0.1:0"]
threads = 1

[proxy]
backend = [")" + web.address() + R"("]

[[pool]]
name = "cgi"
backend = [")" + cgi.address() + R"("]
balance = "least-outstanding"

[[pool]]
name = "api"
backend = [")" + api.address() + R"("]

[[route]]
path_prefix = "/cgi-bin/"
pool = "cgi"

[[route]]
method = ["POST", "PUT", "PATCH", "DELETE"]
pool = "cgi"

[[route]]
path = "/exact"
pool = "cgi"

[[route]]
host = ["api.test", "*.api.test"]
pool = "api"

[[route]]
path_regex = "^/v[0-9]+/"
pool = "api"

[[route]]
header = ["X-Canary: 1"]
pool = "api"

[[route]]
path_prefix = "/cgi-bin/never"
pool = "api"
)");
    ServerProcess proxy({"proxy", "--config", config});
    int port = proxy.port();
    EXPECT_EQ(who(port, "GET", "/index.html"), "web");
    EXPECT_EQ(who(port, "GET", "/cgi-bin/run"), "cgi");
    // Matched as decoded and normalised, so neither dots nor escapes slip past a route.
    EXPECT_EQ(who(port, "GET", "/static/../cgi-bin/run"), "cgi");
    EXPECT_EQ(who(port, "GET", "/%63gi-bin/run"), "cgi");
    // First match wins: the later, longer prefix never sees these.
    EXPECT_EQ(who(port, "GET", "/cgi-bin/never"), "cgi");
    EXPECT_EQ(who(port, "POST", "/form"), "cgi");
    EXPECT_EQ(who(port, "GET", "/exact"), "cgi");
    EXPECT_EQ(who(port, "GET", "/exact/more"), "web");
    EXPECT_EQ(who(port, "GET", "/exact?q=1"), "cgi");
    EXPECT_EQ(who(port, "GET", "/", "Host: API.test:8080\r\n"), "api");
    EXPECT_EQ(who(port, "GET", "/", "Host: eu.api.test\r\n"), "api");
    EXPECT_EQ(who(port, "GET", "/", "Host: api.test.evil\r\n"), "web");
    EXPECT_EQ(who(port, "GET", "/v2/items"), "api");
    EXPECT_EQ(who(port, "GET", "/items/v2/"), "web");
    EXPECT_EQ(who(port, "GET", "/", "X-Canary: 1\r\n"), "api");
    EXPECT_EQ(who(port, "GET", "/", "X-Canary: 0\r\n"), "web");
    // What the route's pool saw: the request as the client sent it.
    auto seen = cgi.backend.requests();
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front().target, "/cgi-bin/run");
}

TEST(ProxyRoutes, WithoutADefaultPoolAnUnroutedRequestGets404) {
    Named cgi("cgi");
    TempDir dir;
    std::string config = dir.write("proxy.toml", R"([server]
listen = ["127.0.0.1:0"]
threads = 1

[[pool]]
name = "cgi"
backend = [")" + cgi.address() + R"("]

[[route]]
path_prefix = "/cgi-bin/"
pool = "cgi"
)");
    ServerProcess proxy({"proxy", "--config", config});
    EXPECT_EQ(who(proxy.port(), "GET", "/cgi-bin/x"), "cgi");
    HttpResponse response = fetch(proxy.port(), "/elsewhere");
    EXPECT_EQ(response.status, 404);
    EXPECT_NE(response.body.find("no route"), std::string::npos) << response.body;
    EXPECT_EQ(cgi.backend.requests().size(), 1u);
}

TEST(ProxyRoutes, ARouteMayLetPostBeRetriedElsewhere) {
    // Two servers in a pool, the first resets every request it reads: a POST sent to it may
    // have run, so it is not sent again, unless its route says its backends are idempotent.
    auto resetter = [](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; };
    MockBackend broken(resetter);
    Named fine("fine");
    TempDir dir;
    std::string config = dir.write("proxy.toml", R"([server]
listen = ["127.0.0.1:0"]
threads = 1

[[pool]]
name = "app"
backend = [")" + broken.address() + R"(", ")" + fine.address() +
                                                     R"("]

[[route]]
path_prefix = "/idempotent/"
pool = "app"
retry_non_idempotent = true

[[route]]
path_prefix = "/"
pool = "app"
)");
    ServerProcess proxy({"proxy", "--config", config});
    // Round robin starts at the broken server for each of these.
    HttpResponse once = request(proxy.port(), "POST", "/pay", "x");
    EXPECT_EQ(once.status, 502) << once.body;
    EXPECT_EQ(fine.backend.requests().size(), 0u);
    EXPECT_EQ(broken.requests().size(), 1u);
    // The pool's round robin moved on: send one to the fine server to come back to the broken.
    EXPECT_EQ(who(proxy.port(), "GET", "/skip"), "fine");
    HttpResponse retried = request(proxy.port(), "POST", "/idempotent/put", "x");
    EXPECT_EQ(retried.status, 200) << retried.body;
    EXPECT_EQ(retried.body, "fine");
    EXPECT_EQ(broken.requests().size(), 2u);
}

TEST(ProxyRoutes, EachPoolsAndServersCountersReachMetricsAndStatusJson) {
    Named web("web"), cgi("cgi");
    // A port nobody listens on: a server down from the start.
    int dead_port = 0;
    {
        MockBackend gone([](const ReceivedRequest&) { return Reply{}; });
        dead_port = gone.port();
    }
    std::string dead = "127.0.0.1:" + std::to_string(dead_port);
    TempDir dir;
    std::string config = dir.write("proxy.toml", R"([server]
listen = ["127.0.0.1:0"]
threads = 2
admin_listen = "127.0.0.1:0"

[proxy]
backend = [")" + web.address() + R"("]

[[pool]]
name = "cgi"
backend = [")" + dead + R"(", ")" + cgi.address() + R"("]

[[route]]
path_prefix = "/cgi-bin/"
pool = "cgi"
)");
    ServerProcess proxy({"proxy", "--config", config});
    int admin = admin_port(proxy);
    {
        HttpClient client(proxy.port());  // one connection: one loop, one backend connection
        for (int i = 0; i < 5; ++i) {
            client.send_get("/page");
            HttpResponse response;
            ASSERT_TRUE(client.read_response(response)) << client.error();
        }
    }
    for (int i = 0; i < 4; ++i) EXPECT_EQ(who(proxy.port(), "GET", "/cgi-bin/x"), "cgi");
    auto s = scrape(admin);
    auto at = [&s](const std::string& family, const std::string& pool, const std::string& server) {
        return s[family + "{pool=\"" + pool + "\",server=\"" + server + "\"}"];
    };
    EXPECT_EQ(at("c10k_proxy_requests_total", "default", web.address()), 5);
    EXPECT_EQ(at("c10k_proxy_responses_total", "default", web.address()), 5);
    EXPECT_EQ(at("c10k_proxy_connects_total", "default", web.address()), 1);
    EXPECT_EQ(at("c10k_proxy_in_flight", "default", web.address()), 0);
    EXPECT_EQ(at("c10k_proxy_responses_total", "cgi", cgi.address()), 4);
    // The dead server failed once and sat out its back-off: each failure was a retry
    // elsewhere, and no request failed.
    EXPECT_GE(at("c10k_proxy_failures_total", "cgi", dead), 1);
    EXPECT_EQ(at("c10k_proxy_failures_total", "cgi", dead),
              at("c10k_proxy_retries_total", "cgi", dead));
    EXPECT_EQ(at("c10k_proxy_responses_total", "cgi", dead), 0);
    EXPECT_EQ(s["c10k_proxy_queue_full_total{pool=\"cgi\"}"], 0);
    HttpResponse json = fetch(admin, "/status.json");
    ASSERT_EQ(json.status, 200);
    EXPECT_NE(json.body.find(R"("proxy":{"pools":[{"name":"cgi",)"), std::string::npos)
        << json.body;
    EXPECT_NE(json.body.find(R"({"name":"default",)"), std::string::npos) << json.body;
}

TEST(ProxyRoutes, ADrainedServerTakesNoNewRequestsWhileItsOwnFinish) {
    std::atomic<bool> slow{true};
    MockBackend a([&slow](const ReceivedRequest& request) {
        if (request.target == "/slow" && slow) {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
        }
        return Reply{ok_response("a")};
    });
    Named b("b");
    ServerProcess proxy({"proxy", "--listen", "127.0.0.1:0", "--threads", "1", "--backend",
                         a.address(), "--backend", b.address(), "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(proxy);
    // Round robin's first request goes to a, and is still there when a is drained.
    HttpClient in_flight(proxy.port());
    in_flight.send_get("/slow");
    for (int i = 0; i < 250 && a.requests().empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    HttpResponse drained =
        request(admin, "POST", "/proxy/drain?pool=default&server=" + a.address(), "");
    EXPECT_EQ(drained.status, 200) << drained.body;
    HttpResponse finished;
    ASSERT_TRUE(in_flight.read_response(finished)) << in_flight.error();
    EXPECT_EQ(finished.status, 200);
    EXPECT_EQ(finished.body, "a");
    for (int i = 0; i < 6; ++i) EXPECT_EQ(who(proxy.port(), "GET", "/x"), "b");
    EXPECT_EQ(a.requests().size(), 1u);
    HttpResponse json = fetch(admin, "/status.json");
    EXPECT_NE(json.body.find(R"("draining":true)"), std::string::npos) << json.body;
    auto s = scrape(admin);
    EXPECT_EQ(s["c10k_proxy_draining{pool=\"default\",server=\"" + a.address() + "\"}"], 1);

    // Both drained: nothing was tried, and the pool says so with 503.
    ASSERT_EQ(request(admin, "POST", "/proxy/drain?server=" + b.address(), "").status, 200);
    HttpResponse none = fetch(proxy.port(), "/x");
    EXPECT_EQ(none.status, 503);
    EXPECT_NE(none.body.find("drained"), std::string::npos) << none.body;
    EXPECT_EQ(none.header("Retry-After"), "1");

    // Back: a takes requests again.
    ASSERT_EQ(request(admin, "POST", "/proxy/ready?server=" + a.address(), "").status, 200);
    std::string answers;
    for (int i = 0; i < 3; ++i) answers += who(proxy.port(), "GET", "/x");
    EXPECT_NE(answers.find('a'), std::string::npos) << answers;

    // Only POST changes state, and only for what exists.
    EXPECT_EQ(fetch(admin, "/proxy/drain?server=" + a.address()).status, 405);
    EXPECT_EQ(request(admin, "POST", "/proxy/drain?server=127.0.0.1:1", "").status, 404);
    EXPECT_EQ(request(admin, "POST", "/proxy/drain?pool=nope&server=" + a.address(), "").status,
              404);
    EXPECT_EQ(request(admin, "POST", "/proxy/pause", "").status, 404);
}

TEST(ProxyRoutes, ABadFileSaysWhereAndWhy) {
    struct Case {
        const char* text;
        std::vector<const char*> says;  ///< each must be in the output
    };
    const Case cases[] = {
        {"[proxy]\nbackend = [\"127.0.0.1:9\"]\n[[route]]\npath_prefix = \"/x/\"\n"
         "pool = \"nowhere\"\n",
         {"bad.toml:3: [[route]] pool: no pool is named 'nowhere' (pools: default)"}},
        {"[[pool]]\nbackend = [\"127.0.0.1:9\"]\n[[route]]\npath_prefix = \"/x/\"\n",
         {"bad.toml:1: [[pool]]: give it a name",
          "bad.toml:3: [[route]]: say which pool serves it"}},
        {"[proxy]\nbackend = [\"127.0.0.1:9\"]\n[[route]]\npath_regex = \"^/(unclosed\"\n"
         "pool = \"default\"\n",
         {"bad.toml:3: [[route]]: path_regex '^/(unclosed': missing closing parenthesis"}},
        {"[proxy]\nbackend = [\"127.0.0.1:9\"]\n[[route]]\npath_prefx = \"/x/\"\n"
         "pool = \"default\"\n",
         {"bad.toml:4: [[route]] path_prefx: unknown key; did you mean 'path_prefix'?"}},
        {"[[pool]]\nname = \"a\"\nbackend = [\"127.0.0.1:9\"]\nbalance = \"fastest\"\n",
         {"bad.toml:1: [[pool]] 'a': --balance: unknown method 'fastest'"}},
        {"[[pool]]\nname = \"a\"\nbackend = [\"127.0.0.1:9\"]\n[[pool]]\nname = \"a\"\n"
         "backend = [\"127.0.0.1:10\"]\n",
         {"bad.toml:4: [[pool]] name: 'a' is taken"}},
        {"[proxy]\nbackend = [\"127.0.0.1:9\"]\n[[host]]\nnames = [\"a.test\"]\n",
         {"bad.toml:3: [[host]]: unknown table (tables: [server], [proxy], [[pool]], [[route]])"}},
    };
    TempDir dir;
    for (const Case& c : cases) {
        std::string config = dir.write("bad.toml", c.text);
        CommandResult r = run_command({"proxy", "-t", "--config", config});
        EXPECT_NE(r.status, 0) << c.text;
        for (const char* words : c.says) {
            EXPECT_NE(r.output.find(words), std::string::npos) << words << "\n" << r.output;
        }
    }
    std::string good = dir.write("good.toml",
                                 "[proxy]\nbackend = [\"127.0.0.1:9\"]\n[[route]]\n"
                                 "method = [\"PURGE\"]\nheader = [\"X-Admin\"]\n"
                                 "pool = \"default\"\n");
    CommandResult r = run_command({"proxy", "-t", "--config", good});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("is valid"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test
