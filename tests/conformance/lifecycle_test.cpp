// Timeouts, graceful shutdown and the access log.

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "conformance/conformance.hpp"
#include "engine/engine.hpp"

namespace c10k::test {
namespace {

class Lifecycle : public EngineTest {};

TEST_P(Lifecycle, IncompleteHeaderIsClosedAtTheHeaderTimeout) {
    start({"--header-timeout", "1s"});
    HttpClient slow(port());
    slow.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n");  // never finished
    EXPECT_TRUE(slow.wait_closed(6000)) << "a slow header was allowed to stay";
    // Trickling bytes does not extend it: the timeout runs from the request's first byte.
    HttpClient trickle(port());
    bool closed = false;
    for (int i = 0; i < 12 && !closed; ++i) {
        try {
            trickle.send("X");
        } catch (const std::exception&) {
            closed = true;
            break;
        }
        closed = trickle.wait_closed(500);
    }
    EXPECT_TRUE(closed) << "trickling one byte at a time kept the connection open";
    EXPECT_EQ(fetch(port(), "/a.txt").status, 200);
}

TEST_P(Lifecycle, IdleKeepAliveConnectionIsClosedAtTheKeepAliveTimeout) {
    start({"--keepalive-timeout", "1s"});
    HttpClient client(port());
    client.send_get("/a.txt");
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r));
    EXPECT_TRUE(client.wait_closed(6000));
}

TEST_P(Lifecycle, SigtermFinishesTheResponseInFlightAndExitsZero) {
    start();
    HttpClient idle(port());  // an idle keep-alive connection must not hold up the exit
    idle.send_get("/a.txt");
    HttpResponse r;
    ASSERT_TRUE(idle.read_response(r));
    HttpClient client(port());
    client.send_get("/large.bin");
    // Let the response start, then stop the server while most of it is still unsent (the
    // client has not read it).
    usleep(200'000);
    ::kill(server().pid(), SIGTERM);
    ASSERT_TRUE(client.read_response(r, 20000)) << client.error();
    EXPECT_EQ(r.body.size(), site_->large.size());
    EXPECT_TRUE(r.body == site_->large);
    EXPECT_EQ(server().stop(SIGTERM, 15000), 0) << server().output();
    EXPECT_NE(server().output().find("stopped"), std::string::npos);
}

TEST_P(Lifecycle, AccessLogRecordsRequestsInCombinedFormat) {
    std::string log = site_->dir.path() + "/access.log";
    start({"--access-log", log});
    fetch(port(), "/a.txt", "User-Agent: conformance\r\nReferer: http://r/\r\n");
    fetch(port(), "/nope");
    EXPECT_EQ(server().stop(), 0);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    std::string contents = text.str();
    EXPECT_NE(contents.find("127.0.0.1 - - ["), std::string::npos) << contents;
    EXPECT_NE(contents.find("\"GET /a.txt HTTP/1.1\" 200 4 \"http://r/\" \"conformance\""),
              std::string::npos)
        << contents;
    EXPECT_NE(contents.find("\"GET /nope HTTP/1.1\" 404 "), std::string::npos) << contents;
}

INSTANTIATE_TEST_SUITE_P(AllEngines, Lifecycle, ::testing::ValuesIn(engine::available()),
                         engine_test_name);

}  // namespace
}  // namespace c10k::test
