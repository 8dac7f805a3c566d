// FastCGI (`c10k serve --fastcgi PREFIX=ADDRESS`) with the real binary and a real php-fpm the
// test starts on a Unix socket: PHP pages, status and headers set by PHP, the application
// going down and coming back, timeouts, httpoxy, paths that must never reach the application,
// large output; and a mock application for what php-fpm cannot do on demand (malformed
// records, a close mid-output, a kept-alive connection closed under a request). Request bodies
// are fastcgi_body_test.cpp's.

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/mock_fastcgi.hpp"
#include "support/php_fpm.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

using Site = PhpSite;

HttpResponse get(int port, const std::string& target, const std::string& extra = {},
                 int timeout_ms = 20000) {
    HttpClient client(port);
    client.send("GET " + target + " HTTP/1.1\r\nHost: test:8080\r\n" + extra + "\r\n");
    HttpResponse response;
    EXPECT_TRUE(client.read_response(response, timeout_ms)) << client.error();
    return response;
}

/// PHP pages on every engine: the connection to php-fpm is watched through the loop's
/// descriptor watcher, which every engine offers.
class FastcgiOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(FastcgiOnEveryEngine, ServesAPhpPageAndFilesBeside) {
    Site site({"--engine", GetParam()});
    HttpClient client(site.port());
    for (int i = 0; i < 3; ++i) {  // kept-alive to the client, and to php-fpm
        client.send("GET /page.php/extra?x=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        HttpResponse r;
        ASSERT_TRUE(client.read_response(r, 20000)) << client.error() << site.fpm.log();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.header("X-Page"), "yes");
        EXPECT_EQ(r.header("Content-Type"), "text/plain;charset=UTF-8");
        EXPECT_EQ(r.body, "hello " + std::to_string(i) + " /page.php /extra " +
                              std::filesystem::canonical(site.root.path()).string() +
                              "/page.php\n");
    }
    EXPECT_EQ(get(site.port(), "/index.html").body, "files\n");
}

std::vector<std::string> engines_here() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, FastcgiOnEveryEngine, ::testing::ValuesIn(engines_here()),
                         engine_param_name);

TEST(Fastcgi, StatusAndHeadersSetByPhp) {
    Site site;
    site.root.write("missing.php", "<?php http_response_code(404); echo \"gone\\n\";\n");
    site.root.write("moved.php", "<?php header('Location: /elsewhere'); \n");
    site.root.write("created.php",
                    "<?php header('HTTP/1.1 201 Created'); header('X-Two: a');"
                    " header('X-Two: b', false); echo 'made';\n");
    HttpResponse r = get(site.port(), "/missing.php");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, "gone\n");
    r = get(site.port(), "/moved.php");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), "/elsewhere");
    r = get(site.port(), "/created.php");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "made");
    int twos = 0;
    for (const auto& [name, value] : r.headers) twos += name == "X-Two";
    EXPECT_EQ(twos, 2);
}

TEST(Fastcgi, HttpoxyHeaderNeverReachesPhp) {
    Site site;
    site.root.write("proxy.php",
                    "<?php echo isset($_SERVER['HTTP_PROXY']) ? 'set' : 'unset', ' ', "
                    "getenv('HTTP_PROXY') === false ? 'unset' : 'set', ' ', "
                    "$_SERVER['HTTP_X_CUSTOM'] ?? '-';\n");
    HttpResponse r =
        get(site.port(), "/proxy.php", "Proxy: http://attacker.example/\r\nX-Custom: yes\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "unset unset yes");
}

TEST(Fastcgi, TraversalAndDotfilesNeverReachPhp) {
    TempDir outside;
    Site site;
    // Each script leaves a mark when run; none may run.
    std::string mark = "<?php touch('" + outside.path() + "/ran'); echo 'ran';\n";
    site.root.write(".hidden.php", mark);
    site.root.write(".git/config.php", mark);
    outside.write("evil.php", mark);
    ASSERT_EQ(
        ::symlink((outside.path() + "/evil.php").c_str(), (site.root.path() + "/link.php").c_str()),
        0);
    for (const std::string target :
         {"/.hidden.php", "/.git/config.php", "/link.php", "/../evil.php", "/%2e%2e/evil.php",
          "/page.php/../.hidden.php", "/%2ehidden.php", "/missing.php"}) {
        HttpResponse r = get(site.port(), target);
        EXPECT_NE(r.status, 200) << target;
        EXPECT_EQ(r.body.find("ran"), std::string::npos) << target;
    }
    EXPECT_FALSE(std::filesystem::exists(outside.path() + "/ran"));
    EXPECT_EQ(get(site.port(), "/page.php").status, 200);
}

TEST(Fastcgi, ApplicationDownIs502AndBackIsServed) {
    Site site;
    EXPECT_EQ(get(site.port(), "/page.php").status, 200);  // leaves a kept-alive connection
    site.fpm.stop();
    HttpResponse r = get(site.port(), "/page.php");
    EXPECT_EQ(r.status, 502);
    EXPECT_NE(r.body.find("not reachable"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(site.fpm.address().substr(5)), std::string::npos) << r.body;
    site.fpm.start();
    r = get(site.port(), "/page.php?x=back");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.substr(0, 11), "hello back ");
}

TEST(Fastcgi, SlowScriptPastTheTimeoutIs504) {
    Site site({"--fastcgi-timeout", "1s"});
    site.root.write("slow.php", "<?php sleep(4); echo 'late';\n");
    HttpResponse r = get(site.port(), "/slow.php");
    EXPECT_EQ(r.status, 504);
    EXPECT_NE(r.body.find("--fastcgi-timeout"), std::string::npos) << r.body;
    // The other worker still serves.
    EXPECT_EQ(get(site.port(), "/page.php").status, 200);
}

TEST(FastcgiMemory, LargeOutputIsStreamed) {
    Site site;
    site.root.write("big.php",
                    "<?php $chunk = str_repeat('z', 65536);\n"
                    "for ($i = 0; $i < 320; $i++) echo $chunk;\n");
    std::uint64_t before = peak_rss_kib(site.server->pid());
    HttpClient client(site.port());
    client.send("GET /big.php HTTP/1.1\r\nHost: t\r\n\r\n");
    // The client waits before reading: without backpressure the server would take all 20 MiB
    // from php-fpm meanwhile and hold it.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 60000)) << client.error();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 20u << 20);
    EXPECT_EQ(r.body.find_first_not_of('z'), std::string::npos);
    std::uint64_t after = peak_rss_kib(site.server->pid());
    EXPECT_LT(after, before + 8 * 1024) << "peak RSS went from " << before << " KiB to " << after;
}

TEST(Fastcgi, ClientsThatLeaveFreeTheWorkers) {
    // Both workers stream without end; both clients leave. The server closes its connections
    // to php-fpm, the scripts' next writes fail, and the workers serve the next request.
    Site site({"--fastcgi-timeout", "30s"});
    site.root.write("endless.php",
                    "<?php $chunk = str_repeat('e', 8192);\n"
                    "while (true) { echo $chunk; flush(); }\n");
    for (int i = 0; i < 2; ++i) {
        HttpClient client(site.port());
        client.send("GET /endless.php HTTP/1.1\r\nHost: t\r\n\r\n");
        char buffer[4096];
        ASSERT_GT(::recv(client.fd(), buffer, sizeof buffer, 0), 0);
    }  // closed here
    for (int i = 0; i < 3; ++i) {
        HttpResponse r = get(site.port(), "/page.php?x=next", {}, 40000);
        EXPECT_EQ(r.status, 200) << r.body;
    }
}

TEST(Fastcgi, HeadAndHttp10Requests) {
    Site site;
    HttpClient client(site.port());
    client.send("HEAD /page.php HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 20000, true)) << client.error();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Page"), "yes");
    EXPECT_EQ(r.body, "");
    client.send("GET /page.php?x=again HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_response(r, 20000)) << client.error();
    EXPECT_EQ(r.body.substr(0, 12), "hello again ");
    // HTTP/1.0: no chunks, the body ends with the close.
    HttpClient old(site.port());
    old.send("GET /page.php?x=old HTTP/1.0\r\n\r\n");
    timeval bound{20, 0};  // a server that never closed would fail the test, not hang it
    ::setsockopt(old.fd(), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    std::string raw;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(old.fd(), buffer, sizeof buffer, 0)) > 0;) {
        raw.append(buffer, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(raw.substr(0, 15), "HTTP/1.1 200 OK") << raw;
    EXPECT_EQ(raw.find("Transfer-Encoding"), std::string::npos) << raw;
    EXPECT_NE(raw.find("\r\n\r\nhello old "), std::string::npos) << raw;
}

TEST(Fastcgi, StderrGoesToTheErrorLogNamingTheScript) {
    Site site;
    // Without an error_log setting, php-fpm sends error_log() as FCGI_STDERR.
    site.root.write("warn.php", "<?php error_log('careful now'); echo 'ok';\n");
    EXPECT_EQ(get(site.port(), "/warn.php").body, "ok");
    site.server->stop();
    std::string log = site.server->output();
    EXPECT_NE(log.find("fastcgi: /warn.php: PHP message: careful now"), std::string::npos) << log;
}

// ---- a mock application ----------------------------------------------------------------------

/// A server sending every .php under / to `app`.
std::unique_ptr<ServerProcess> serve_to(const TempDir& root, const MockFastcgi& app,
                                        std::vector<std::string> extra = {}) {
    root.write("x.php", "never read by the mock");
    std::vector<std::string> args{"serve",    "--root",      root.path(),
                                  "--listen", "127.0.0.1:0", "--threads",
                                  "1",        "--fastcgi",   "/=" + app.address()};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServerProcess>(args);
}

TEST(FastcgiMock, MalformedRecordsAre502) {
    // A version 2 record, a record for request 9, an END_REQUEST of 4 bytes, a head too large.
    std::vector<std::string> replies{
        std::string("\x02\x06\x00\x01\x00\x00\x00\x00", 8),
        fastcgi_record(6, "Status: 200\r\n\r\nx", 9),
        fastcgi_record(6, "Content-Type: text/plain\r\n\r\nx") + fastcgi_record(3, "abcd"),
        fastcgi_record(6, "X-Big: " + std::string(30000, 'h') + "\r\n\r\n"),
        fastcgi_record(6, "HTTP/1.1 200 OK\r\n\r\n"),
    };
    MockFastcgi app([&](int, int request) {
        return FastcgiReply{replies[static_cast<std::size_t>(request - 1) % replies.size()], true};
    });
    TempDir root;
    auto server = serve_to(root, app);
    for (std::size_t i = 0; i < replies.size(); ++i) {
        HttpClient client(server->port());
        client.send("GET /x.php HTTP/1.1\r\nHost: t\r\n\r\n");
        HttpResponse r;
        if (i == 2) {
            // The head went out before the bad END_REQUEST: the response is cut.
            EXPECT_FALSE(client.read_response(r, 10000)) << i;
            continue;
        }
        ASSERT_TRUE(client.read_response(r, 10000)) << i << client.error();
        EXPECT_EQ(r.status, 502) << i << r.body;
    }
    EXPECT_TRUE(server->running());
}

TEST(FastcgiMock, CloseMidOutputCutsTheResponse) {
    MockFastcgi app([](int, int) {
        return FastcgiReply{fastcgi_record(6, "Content-Type: text/plain\r\n\r\npartial"), true};
    });
    TempDir root;
    auto server = serve_to(root, app);
    HttpClient client(server->port());
    client.send("GET /x.php HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    EXPECT_FALSE(client.read_response(r, 10000));  // chunked, never ended: cut
    EXPECT_TRUE(client.wait_closed(10000));
}

TEST(FastcgiMock, StaleKeptAliveConnectionIsRetriedOnce) {
    // Request 1 is answered and the connection kept; request 2 arrives on it and the
    // application closes it without answering (as php-fpm does when a worker is recycled just
    // then); the server sends it again on a new connection, where request 3 is answered.
    MockFastcgi app([](int connection, int request) {
        if (request == 2) return FastcgiReply{"", true};
        return FastcgiReply{fastcgi_response("Content-Type: text/plain\r\n\r\nanswer " +
                                             std::to_string(connection)),
                            false};
    });
    TempDir root;
    auto server = serve_to(root, app);
    EXPECT_EQ(get(server->port(), "/x.php").body, "answer 1");
    HttpResponse r = get(server->port(), "/x.php");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "answer 2");
    EXPECT_EQ(app.requests(), 3);
}

TEST(FastcgiMock, StderrLinesAreLoggedWithTheScript) {
    MockFastcgi app([](int, int) {
        return FastcgiReply{fastcgi_record(7, "first problem\nsecond ") +
                                fastcgi_record(7, "problem\n") +
                                fastcgi_response("Content-Type: text/plain\r\n\r\nfine"),
                            false};
    });
    TempDir root;
    auto server = serve_to(root, app);
    EXPECT_EQ(get(server->port(), "/x.php").body, "fine");
    server->stop();
    std::string log = server->output();
    EXPECT_NE(log.find("/x.php: first problem"), std::string::npos) << log;
    EXPECT_NE(log.find("/x.php: second problem"), std::string::npos) << log;
}

TEST(FastcgiMock, BusyConnectionsQueueThen503) {
    // One connection allowed; the application never answers the first request, so the second
    // waits for the connection and then gets 503.
    MockFastcgi app([](int, int) { return FastcgiReply{"", false}; });
    TempDir root;
    auto server =
        serve_to(root, app, {"--fastcgi-max-connections", "1", "--fastcgi-timeout", "30s"});
    HttpClient first(server->port());
    first.send("GET /x.php HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r = get(server->port(), "/x.php");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_NE(r.body.find("--fastcgi-max-connections 1"), std::string::npos) << r.body;
}

TEST(Fastcgi, BadFlagsSayWhatIsWrong) {
    auto r = run_command({"serve", "-t", "--fastcgi", "/app/"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("expected PREFIX=ADDRESS"), std::string::npos) << r.output;
    r = run_command({"serve", "-t", "--fastcgi", "/app/=php.sock"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("expected unix:PATH or HOST:PORT"), std::string::npos) << r.output;
    r = run_command({"serve", "-t", "--fastcgi", "/app/=unix:relative.sock"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("absolute path"), std::string::npos) << r.output;
    r = run_command({"serve", "-t", "--fastcgi", "app=127.0.0.1:9000"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("must start with '/'"), std::string::npos) << r.output;
    r = run_command({"serve", "-t", "--fastcgi", "/=127.0.0.1:9000", "--fastcgi-timeout", "soon"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--fastcgi-timeout"), std::string::npos) << r.output;
    r = run_command(
        {"serve", "-t", "--fastcgi", "/=127.0.0.1:9000", "--fastcgi-max-connections", "0"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("must be at least 1"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test
