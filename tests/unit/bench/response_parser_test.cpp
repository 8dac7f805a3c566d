// The llhttp glue: every framing a server may use must complete exactly one response per
// response, wherever the bytes are split, and garbage must be told apart from a bad body.

#include "bench/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace c10k::bench {
namespace {

struct Collected {
    std::vector<int> statuses;
    std::vector<bool> keep_alive;
    bool stop_after_first = false;
};

bool collect(void* context, int status, bool keep_alive) {
    auto* c = static_cast<Collected*>(context);
    c->statuses.push_back(status);
    c->keep_alive.push_back(keep_alive);
    return !c->stop_after_first;
}

/// Feeds `bytes` in pieces of `step` and returns the statuses seen.
std::vector<int> parse_in_steps(const std::string& bytes, std::size_t step, bool head = false,
                                ResponseParser::Outcome* last = nullptr) {
    ResponseParser parser;
    Collected collected;
    parser.reset(head, &collect, &collected);
    ResponseParser::Outcome outcome = ResponseParser::Outcome::ok;
    for (std::size_t i = 0; i < bytes.size() && outcome == ResponseParser::Outcome::ok; i += step) {
        outcome = parser.feed(bytes.data() + i, std::min(step, bytes.size() - i));
    }
    if (last) *last = outcome;
    return collected.statuses;
}

TEST(ResponseParser, ContentLengthAndChunkedAtEverySplit) {
    std::string bytes =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        "HTTP/1.1 204 No Content\r\n\r\n"
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
    for (std::size_t step = 1; step <= bytes.size(); ++step) {
        ResponseParser::Outcome outcome;
        auto statuses = parse_in_steps(bytes, step, false, &outcome);
        ASSERT_EQ(outcome, ResponseParser::Outcome::ok) << "step " << step;
        ASSERT_EQ(statuses, (std::vector<int>{200, 404, 204, 304})) << "step " << step;
    }
}

TEST(ResponseParser, InterimResponsesAreNotCounted) {
    std::string bytes =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(parse_in_steps(bytes, bytes.size()), std::vector<int>{201});
}

TEST(ResponseParser, HeadResponsesHaveNoBody) {
    std::string bytes =
        "HTTP/1.1 200 OK\r\nContent-Length: 128\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 128\r\n\r\n";
    EXPECT_EQ(parse_in_steps(bytes, 7, true), (std::vector<int>{200, 200}));
    // The same bytes as a GET would be one response still waiting for its body.
    EXPECT_EQ(parse_in_steps(bytes, 7, false), std::vector<int>{});
}

TEST(ResponseParser, CloseDelimitedBodyCompletesAtEof) {
    ResponseParser parser;
    Collected collected;
    parser.reset(false, &collect, &collected);
    std::string bytes = "HTTP/1.0 200 OK\r\n\r\nthe body runs until the server closes";
    EXPECT_EQ(parser.feed(bytes.data(), bytes.size()), ResponseParser::Outcome::ok);
    EXPECT_TRUE(collected.statuses.empty());
    EXPECT_TRUE(parser.in_message());
    parser.finish();
    EXPECT_EQ(collected.statuses, std::vector<int>{200});
    EXPECT_FALSE(collected.keep_alive[0]);
}

TEST(ResponseParser, TruncatedResponseIsNotComplete) {
    ResponseParser parser;
    Collected collected;
    parser.reset(false, &collect, &collected);
    std::string bytes = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    EXPECT_EQ(parser.feed(bytes.data(), bytes.size()), ResponseParser::Outcome::ok);
    EXPECT_TRUE(parser.in_message());
    EXPECT_NE(parser.finish(), ResponseParser::Outcome::ok);
    EXPECT_TRUE(collected.statuses.empty());
}

TEST(ResponseParser, GarbageIsABadStatusLine) {
    for (std::string bytes : {"garbage garbage\r\n\r\n", "HTTP/9.9 200 OK\r\n\r\n",
                              "HTTP/1.1 2x0 OK\r\n\r\n", "\x16\x03\x01 tls hello"}) {
        ResponseParser::Outcome outcome;
        parse_in_steps(bytes, bytes.size(), false, &outcome);
        EXPECT_EQ(outcome, ResponseParser::Outcome::bad_status_line) << bytes;
    }
}

TEST(ResponseParser, BadHeadersAreAParseError) {
    for (std::string bytes : {"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                              "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n"}) {
        ResponseParser::Outcome outcome;
        parse_in_steps(bytes, bytes.size(), false, &outcome);
        EXPECT_EQ(outcome, ResponseParser::Outcome::parse_error) << bytes;
    }
}

TEST(ResponseParser, StopsWhenAsked) {
    ResponseParser parser;
    Collected collected;
    collected.stop_after_first = true;
    parser.reset(false, &collect, &collected);
    std::string bytes =
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(parser.feed(bytes.data(), bytes.size()), ResponseParser::Outcome::stopped);
    EXPECT_EQ(collected.statuses, std::vector<int>{200});
    EXPECT_FALSE(collected.keep_alive[0]);
}

}  // namespace
}  // namespace c10k::bench
