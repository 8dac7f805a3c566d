// Everyday HTTP/1.1: files, keep-alive, pipelining, HTTP/1.0, HEAD, conditionals, ranges.

#include "conformance/conformance.hpp"
#include "engine/engine.hpp"

namespace c10k::test {
namespace {

class Basics : public EngineTest {};

TEST_P(Basics, ServesAFileWithTheUsualHeaders) {
    start();
    HttpResponse r = fetch(port(), "/hello.txt");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello, world\n");
    EXPECT_EQ(r.header("Content-Length"), "13");
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("Server"), "c10k");
    EXPECT_EQ(r.header("Date").size(), 29u);  // IMF-fixdate
    EXPECT_FALSE(r.header("ETag").empty());
    EXPECT_FALSE(r.header("Last-Modified").empty());
}

TEST_P(Basics, MissingFileIs404) {
    start();
    EXPECT_EQ(fetch(port(), "/nope.txt").status, 404);
}

TEST_P(Basics, KeepAliveServesManyRequestsOnOneConnection) {
    start();
    HttpClient client(port());
    for (int i = 0; i < 5; ++i) {
        client.send_get("/a.txt");
        HttpResponse r;
        ASSERT_TRUE(client.read_response(r)) << client.error();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "AAAA");
        EXPECT_FALSE(r.has_header("Connection"));
    }
}

TEST_P(Basics, PipelinedRequestsAreAnsweredInOrder) {
    start();
    HttpClient client(port());
    client.send(
        "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n"
        "HEAD /c.txt HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "AAAA");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "BBBBBBBB");
    ASSERT_TRUE(client.read_response(r, 5000, /*head=*/true));
    EXPECT_EQ(r.header("Content-Length"), "12");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "CCCCCCCCCCCC");
}

TEST_P(Basics, ManyPipelinedRequestsBeyondTheOutputLimitAllArrive) {
    start();
    HttpClient client(port());
    std::string burst;
    for (int i = 0; i < 200; ++i)
        burst += "GET /large.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9999\r\n\r\n";
    burst += "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    client.send(burst);
    HttpResponse r;
    for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(client.read_response(r, 10000)) << "response " << i << ": " << client.error();
        ASSERT_EQ(r.status, 206);
        ASSERT_EQ(r.body, site_->large.substr(0, 10000));
    }
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "AAAA");
    EXPECT_TRUE(client.wait_closed());
}

TEST_P(Basics, Http10ClosesUnlessAskedToKeepAlive) {
    start();
    {
        HttpClient client(port());
        client.send("GET /a.txt HTTP/1.0\r\n\r\n");
        HttpResponse r;
        ASSERT_TRUE(client.read_response(r));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.header("Connection"), "close");
        EXPECT_TRUE(client.wait_closed());
    }
    {
        HttpClient client(port());
        client.send("GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        HttpResponse r;
        ASSERT_TRUE(client.read_response(r));
        EXPECT_EQ(r.header("Connection"), "keep-alive");
        client.send("GET /b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        ASSERT_TRUE(client.read_response(r));
        EXPECT_EQ(r.body, "BBBBBBBB");
    }
}

TEST_P(Basics, ConnectionCloseIsHonoured) {
    start();
    HttpClient client(port());
    client.send_get("/a.txt", "Connection: close\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(client.wait_closed());
}

TEST_P(Basics, HeadSendsHeadersOnly) {
    start();
    HttpClient client(port());
    client.send("HEAD /large.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 5000, true));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Length"), std::to_string(site_->large.size()));
    // Had a body been sent, the next response would not parse.
    client.send_get("/a.txt");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "AAAA");
}

TEST_P(Basics, LargeFileArrivesByteExact) {
    start();
    HttpClient client(port());
    client.send_get("/large.bin");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 20000));
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), site_->large.size());
    EXPECT_TRUE(r.body == site_->large);
    client.send_get("/a.txt");  // the connection is still in step
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.body, "AAAA");
}

TEST_P(Basics, ConditionalRequestsGive304) {
    start();
    HttpResponse first = fetch(port(), "/hello.txt");
    ASSERT_EQ(first.status, 200);
    std::string etag = first.header("ETag");
    std::string modified = first.header("Last-Modified");
    HttpClient client(port());
    client.send_get("/hello.txt", "If-None-Match: " + etag + "\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 304);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("ETag"), etag);
    client.send_get("/hello.txt", "If-Modified-Since: " + modified + "\r\n");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 304);
    client.send_get("/hello.txt", "If-None-Match: \"other\"\r\n");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello, world\n");
}

TEST_P(Basics, ByteRangesGive206And416) {
    start();
    HttpClient client(port());
    client.send_get("/hello.txt", "Range: bytes=0-4\r\n");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, "hello");
    EXPECT_EQ(r.header("Content-Range"), "bytes 0-4/13");
    client.send_get("/hello.txt", "Range: bytes=-6\r\n");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, "world\n");
    client.send_get("/large.bin", "Range: bytes=5000000-\r\n");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, site_->large.substr(5000000));
    client.send_get("/hello.txt", "Range: bytes=100-200\r\n");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(r.header("Content-Range"), "bytes */13");
}

TEST_P(Basics, DirectoriesRedirectAndServeTheirIndex) {
    start();
    HttpResponse r = fetch(port(), "/docs");
    EXPECT_EQ(r.status, 301);
    EXPECT_EQ(r.header("Location"), "/docs/");
    r = fetch(port(), "/docs/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<h1>docs</h1>\n");
    r = fetch(port(), "/");
    EXPECT_EQ(r.body, "<h1>home</h1>\n");
}

TEST_P(Basics, ChangedFileIsNoticed) {
    start();
    EXPECT_EQ(fetch(port(), "/hello.txt").body, "hello, world\n");
    site_->dir.write("root/hello.txt", "changed contents\n");
    // The cache re-checks a file at most once a second; within a few seconds the new
    // contents must be served.
    std::string body;
    for (int i = 0; i < 40 && body != "changed contents\n"; ++i) {
        usleep(100'000);
        body = fetch(port(), "/hello.txt").body;
    }
    EXPECT_EQ(body, "changed contents\n");
}

INSTANTIATE_TEST_SUITE_P(AllEngines, Basics, ::testing::ValuesIn(engine::available()),
                         engine_test_name);

}  // namespace
}  // namespace c10k::test
