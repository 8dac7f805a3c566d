// Bad and hostile input gets a precise status and nothing else.

#include "conformance/conformance.hpp"
#include "engine/engine.hpp"

namespace c10k::test {
namespace {

class Errors : public EngineTest {
protected:
    /// Sends raw bytes on a new connection and reads one response.
    HttpResponse exchange(const std::string& bytes, bool expect_close) {
        HttpClient client(port());
        client.send(bytes);
        HttpResponse r;
        EXPECT_TRUE(client.read_response(r)) << client.error();
        if (expect_close) {
            EXPECT_EQ(r.header("Connection"), "close");
            EXPECT_TRUE(client.wait_closed()) << "connection left open after " << r.status;
        }
        return r;
    }
};

TEST_P(Errors, MalformedRequestIs400AndCloses) {
    start();
    EXPECT_EQ(exchange("BLAH\r\n\r\n", true).status, 400);
    EXPECT_EQ(exchange("GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", true).status, 400);
    EXPECT_EQ(exchange("GET / HTTP/9.9\r\nHost: t\r\n\r\n", true).status, 400);
}

TEST_P(Errors, HostIsRequiredOnceInHttp11) {
    start();
    EXPECT_EQ(exchange("GET /a.txt HTTP/1.1\r\n\r\n", true).status, 400);
    EXPECT_EQ(exchange("GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", true).status, 400);
    EXPECT_EQ(exchange("GET /a.txt HTTP/1.0\r\n\r\n", true).status, 200);
}

TEST_P(Errors, AmbiguousFramingIs400AndCloses) {
    start();
    EXPECT_EQ(exchange("POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                       true)
                  .status,
              400);
    EXPECT_EQ(exchange("POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                       "Content-Length: 4\r\n\r\nabcd",
                       true)
                  .status,
              400);
    EXPECT_EQ(exchange("POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                       "Content-Length: 3\r\n\r\nabc",
                       true)
                  .status,
              400);
}

TEST_P(Errors, OversizedHeaderIs431) {
    start();
    std::string big =
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n";
    EXPECT_EQ(exchange(big, true).status, 431);
    std::string many = "GET /a.txt HTTP/1.1\r\nHost: t\r\n";
    for (int i = 0; i < 150; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    many += "\r\n";
    EXPECT_EQ(exchange(many, true).status, 431);
}

TEST_P(Errors, OverlongUriIs414) {
    start();
    EXPECT_EQ(
        exchange("GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", true).status,
        414);
}

TEST_P(Errors, OversizedBodyIs413) {
    start({"--max-body-bytes", "1000"});
    EXPECT_EQ(
        exchange("POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", true).status,
        413);
    std::string chunked = "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; ++i) chunked += "200\r\n" + std::string(512, 'z') + "\r\n";
    EXPECT_EQ(exchange(chunked, true).status, 413);
}

TEST_P(Errors, OtherMethodsGet405AndTheBodyKeepsFraming) {
    start();
    HttpClient client(port());
    client.send("POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
    client.send(
        "PUT /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n");
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 405);
    client.send_get("/a.txt");  // still in step after two discarded bodies
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "AAAA");
}

TEST_P(Errors, ExpectContinueIsAnswered) {
    start();
    HttpClient client(port());
    client.send(
        "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    // The interim response comes before the body is sent.
    bool got_continue = false;
    for (int i = 0; i < 50 && !got_continue; ++i) {
        HttpResponse ignored;
        client.read_response(ignored, 100);
        got_continue = client.pending().find("100 Continue") != std::string::npos;
    }
    EXPECT_TRUE(got_continue) << client.pending();
    client.send("hello");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(
        exchange("GET /a.txt HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\n\r\n", true).status,
        417);
}

INSTANTIATE_TEST_SUITE_P(AllEngines, Errors, ::testing::ValuesIn(engine::available()),
                         engine_test_name);

}  // namespace
}  // namespace c10k::test
