// Requests whose framing two parsers could read differently (request smuggling): the Session
// must answer 400 and close, never hand them to a handler. A proxy forwards what a handler
// sees, so anything that reached one here could reach a backend.

#include "http/session.hpp"
#include "unit/http/drain.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace c10k::http {
namespace {

using namespace std::string_literals;

/// Counts the requests that got through, and keeps their bodies.
class CountingHandler : public Handler {
public:
    void handle(const Request& request, Response& response) override {
        bodies.emplace_back(request.body);
        response.set_body("ok");
    }
    std::uint64_t body_limit(std::uint8_t) const override { return 1024; }
    std::vector<std::string> bodies;
};

struct Case {
    const char* name;
    std::string request;
};

class SessionSmugglingTest : public ::testing::TestWithParam<Case> {
protected:
    SessionSmugglingTest() : context(handler, Limits{}, Timeouts{}) {}

    CountingHandler handler;
    LoopContext context;
};

TEST_P(SessionSmugglingTest, IsRefusedWith400BeforeAnyHandlerRuns) {
    const std::string& request = GetParam().request;
    // Whole, and split at every byte: a check that only works on one read would miss it.
    for (std::size_t split = 0; split <= request.size(); ++split) {
        Session session(context);
        session.feed(request.data(), split);
        session.feed(request.data() + split, request.size() - split);
        std::string out = drain(session);
        EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << "split " << split << out;
        EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << "split " << split;
        EXPECT_TRUE(session.should_close()) << "split " << split;
        EXPECT_TRUE(handler.bodies.empty()) << "split " << split;
        if (HasFailure()) return;  // one split's report is enough
    }
}

const Case kCases[] = {
    // A CR not followed by LF: some parsers end the line there, others keep it in the value.
    {"BareCrInsideAValue", "GET / HTTP/1.1\r\nHost: h\r\nX-A: on\re\r\n\r\n"},
    {"BareCrEndingAHeaderLine", "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\rX-B: two\r\n\r\n"},
    {"BareCrBeforeTransferEncoding",
     "POST / HTTP/1.1\r\nHost: h\r\nX-A: a\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
     "\r\n0\r\n\r\n"},
    // A bare LF inside the header block: likewise a line end to some, not to others.
    {"BareLfEndingAHeaderLine", "GET / HTTP/1.1\r\nHost: h\nX-A: one\r\n\r\n"},
    {"NulInsideAValue", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"s},
    // Both framings (RFC 9112 section 6.1: a proxy must not forward such a message as is).
    {"ContentLengthThenTransferEncoding",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\n"},
    {"TransferEncodingThenContentLength",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
     "0\r\n\r\n"},
    {"ContentLengthWithTransferEncodingIdentity",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: identity\r\n\r\n"
     "hello"},
    // Two lengths: which one ends the body? (RFC 9112 section 6.3, item 5.)
    {"TwoDifferentContentLengths",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
    {"ContentLengthList", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!"},
    {"ContentLengthWithSign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello"},
    // A request whose last transfer coding is not chunked has no length it can be read by
    // (RFC 9112 section 6.3, item 4).
    {"TransferEncodingGzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nhello"},
    {"TransferEncodingChunkedThenGzip",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"},
    {"TransferEncodingInTwoHeadersNotEndingInChunked",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
     "0\r\n\r\n"},
    {"TransferEncodingLookalike",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
    {"SpaceBeforeTheColon",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"},
    // Whitespace before the first header line would hide that header from some parsers.
    {"WhitespaceBeforeTheFirstHeader", "GET / HTTP/1.1\r\n Host: h\r\n\r\n"},
    // obs-fold: one parser joins the lines, another reads the continuation as a field of its
    // own (RFC 9112 section 5.2 lets a server reject it; a proxy must not forward it).
    {"ObsFoldWithSpace", "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n"},
    {"ObsFoldWithTab", "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n"},
    {"ObsFoldAfterAnEmptyValue",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"},
    {"ObsFoldOfHost", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"},
    {"ObsFoldWithManyBlanks", "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n  \t  two\r\n\r\n"},
    // A chunk size that is not plain hex.
    {"ChunkSizeWithBareCr",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;a\rb\r\nx\r\n0\r\n\r\n"},
};

INSTANTIATE_TEST_SUITE_P(Smuggling, SessionSmugglingTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                             return std::string(info.param.name);
                         });

// The control: the same harness lets a well-framed chunked body through, so the refusals above
// are the parser's doing and not the harness's.
TEST(SessionSmugglingControl, AWellFramedChunkedBodyReachesTheHandler) {
    CountingHandler handler;
    LoopContext context(handler, Limits{}, Timeouts{});
    Session session(context);
    std::string request =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n";
    session.feed(request.data(), request.size());
    std::string out = drain(session);
    EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
    ASSERT_EQ(handler.bodies.size(), 1u);
    EXPECT_EQ(handler.bodies[0], "hello");
    EXPECT_FALSE(session.should_close());
}

// The obs-fold check looks back from each value over blanks: values with blanks of their own,
// empty values and blanks after the colon still pass, however the input is split.
TEST(SessionSmugglingControl, BlanksInsideAndBeforeValuesAreNoFold) {
    CountingHandler handler;
    LoopContext context(handler, Limits{}, Timeouts{});
    std::string request =
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: \t one  two \r\nX-B:\r\nX-C:    \r\nX-D:\tx\r\n\r\n";
    for (std::size_t split = 0; split <= request.size(); ++split) {
        Session session(context);
        session.feed(request.data(), split);
        session.feed(request.data() + split, request.size() - split);
        std::string out = drain(session);
        EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << "split " << split << out;
        if (HasFailure()) return;
    }
    EXPECT_EQ(handler.bodies.size(), request.size() + 1);
}

TEST(SessionSmugglingControl, Http10WithTransferEncodingClosesAfterTheAnswer) {
    CountingHandler handler;
    LoopContext context(handler, Limits{}, Timeouts{});
    Session session(context);
    std::string request =
        "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.0\r\n\r\n";
    session.feed(request.data(), request.size());
    std::string out = drain(session);
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
    EXPECT_EQ(handler.bodies.size(), 1u);  // the bytes after it are never read as a request
    EXPECT_TRUE(session.should_close());
}

}  // namespace
}  // namespace c10k::http
