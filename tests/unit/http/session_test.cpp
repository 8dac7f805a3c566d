// http::Session without any socket: bytes in, output plan out.

#include "http/session.hpp"
#include "unit/http/drain.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace c10k::http {
namespace {

/// Answers every request with its target as the body, and remembers what it saw.
class EchoHandler : public Handler {
public:
    void handle(const Request& request, Response& response) override {
        targets.emplace_back(request.target);
        hosts.emplace_back(request.header("host"));
        response.add_header("Content-Type", "text/plain");
        response.set_body(std::string(request.target));
    }
    std::vector<std::string> targets;
    std::vector<std::string> hosts;
};

class SessionTest : public ::testing::Test {
protected:
    SessionTest() : context(handler, Limits{}, Timeouts{}) {}

    EchoHandler handler;
    LoopContext context;
};

TEST_F(SessionTest, AnswersARequestFedOneByteAtATime) {
    Session session(context);
    std::string request = "GET /one HTTP/1.1\r\nHost: example\r\nX-Long: abc\r\n\r\n";
    for (char c : request) session.feed(&c, 1);
    std::string out = drain(session);
    EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
    EXPECT_NE(out.find("Content-Length: 4\r\n"), std::string::npos);
    EXPECT_NE(out.find("Server: c10k\r\n"), std::string::npos);
    EXPECT_EQ(out.substr(out.size() - 4), "/one");
    ASSERT_EQ(handler.targets.size(), 1u);
    EXPECT_EQ(handler.hosts[0], "example");
    EXPECT_FALSE(session.should_close());
    EXPECT_EQ(session.phase(), Phase::idle);
}

TEST_F(SessionTest, PipelinedRequestsAreAnsweredInOrder) {
    Session session(context);
    std::string burst;
    for (int i = 0; i < 10; ++i)
        burst += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
    session.feed(burst.data(), burst.size());
    std::string out = drain(session);
    std::size_t at = 0;
    for (int i = 0; i < 10; ++i) {
        std::string body = "\r\n\r\n/" + std::to_string(i);
        std::size_t found = out.find(body, at);
        ASSERT_NE(found, std::string::npos) << i;
        at = found + body.size();
    }
    EXPECT_EQ(handler.targets.size(), 10u);
}

TEST_F(SessionTest, BacklogPausesParsingUntilTheClientReads) {
    Limits limits;
    limits.max_pending_output = 1000;
    LoopContext small(handler, limits, Timeouts{});
    Session session(small);
    std::string burst;
    for (int i = 0; i < 100; ++i)
        burst += "GET /" + std::string(50, 'x') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    session.feed(burst.data(), burst.size());
    EXPECT_FALSE(session.wants_read()) << "parsing should pause over the output limit";
    EXPECT_LT(handler.targets.size(), 100u);
    drain(session);
    EXPECT_EQ(handler.targets.size(), 100u) << "held-back requests are answered as output drains";
    EXPECT_TRUE(session.wants_read());
}

TEST_F(SessionTest, HalfClosedClientStillGetsItsPipelinedAnswers) {
    Limits limits;
    limits.max_pending_output = 500;
    LoopContext small(handler, limits, Timeouts{});
    Session session(small);
    std::string burst;
    for (int i = 0; i < 30; ++i)
        burst += "GET /" + std::string(40, 'y') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    session.feed(burst.data(), burst.size());
    session.on_peer_closed();
    drain(session);
    EXPECT_EQ(handler.targets.size(), 30u);
    EXPECT_TRUE(session.should_close());
}

TEST_F(SessionTest, MalformedInputGets400AndClose) {
    Session session(context);
    std::string bad = "GET / HTTP/1.1\r\nHost: h\r\nNo-Colon-Here\r\n\r\n";
    session.feed(bad.data(), bad.size());
    std::string out = drain(session);
    EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << out;
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(session.should_close());
    EXPECT_TRUE(session.closing_after_error());
    EXPECT_TRUE(handler.targets.empty());
}

TEST_F(SessionTest, LimitsMapToTheirStatusCodes) {
    struct Case {
        std::string request;
        const char* status;
    };
    std::vector<Case> cases = {
        {"GET /" + std::string(9000, 'u') + " HTTP/1.1\r\nHost: h\r\n\r\n", "414"},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(17000, 'v') + "\r\n\r\n", "431"},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n", "413"},
        {"GET / HTTP/1.1\r\n\r\n", "400"},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"},
        {"GET / HTTP/1.1\r\nHost: h\r\nExpect: nonsense\r\n\r\n", "417"},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         "400"},
    };
    for (const Case& c : cases) {
        Session session(context);
        session.feed(c.request.data(), c.request.size());
        std::string out = drain(session);
        EXPECT_EQ(out.substr(9, 3), c.status) << c.request.substr(0, 40);
        EXPECT_TRUE(session.should_close());
    }
}

TEST_F(SessionTest, TimeoutDependsOnThePhase) {
    Timeouts timeouts;
    timeouts.header_ms = 1000;
    timeouts.keepalive_ms = 5000;
    LoopContext ctx(handler, Limits{}, timeouts);
    Session session(ctx);
    std::int64_t start = ctx.now_ms();
    EXPECT_EQ(session.phase(), Phase::idle);
    EXPECT_EQ(session.deadline_ms(), start + 5000);
    session.feed("GET / HT", 8);
    EXPECT_EQ(session.phase(), Phase::header);
    EXPECT_LE(session.deadline_ms(), ctx.now_ms() + 1000);
    session.feed("TP/1.1\r\nHost: h\r\n\r\n", 19);
    EXPECT_EQ(session.phase(), Phase::writing);
    drain(session);
    EXPECT_EQ(session.phase(), Phase::idle);
}

TEST_F(SessionTest, IdleSessionHoldsNoScratchMemory) {
    // The per-loop pool gets its scratch back once a request is answered and sent.
    Session session(context);
    std::string request = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    session.feed(request.data(), request.size());
    drain(session);
    std::unique_ptr<Scratch> again = context.borrow_scratch();
    EXPECT_TRUE(again->output.empty());
    context.return_scratch(std::move(again));
    EXPECT_LE(sizeof(Session), 256u) << "an idle connection should stay small";
}

TEST_F(SessionTest, HttpTenDefaultsToClose) {
    Session session(context);
    std::string request = "GET /x HTTP/1.0\r\n\r\n";
    session.feed(request.data(), request.size());
    std::string out = drain(session);
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(session.should_close());
}

TEST_F(SessionTest, HeadOmitsTheBodyButKeepsItsLength) {
    Session session(context);
    std::string request = "HEAD /abcdef HTTP/1.1\r\nHost: h\r\n\r\n";
    session.feed(request.data(), request.size());
    std::string out = drain(session);
    EXPECT_NE(out.find("Content-Length: 7\r\n"), std::string::npos);
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

}  // namespace
}  // namespace c10k::http
