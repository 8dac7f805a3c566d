// The backend-response parser of c10k proxy: every framing must give the same head, body and end
// wherever the bytes are split; everything a proxy must not forward (garbage, oversized heads,
// ambiguous framing, obs-fold, bare CR) must be an error of the right kind; and hop-by-hop
// fields must not reach the client.

#include "proxy/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/response.hpp"

namespace c10k::proxy {
namespace {

/// Records what the parser reports, and checks the order of the calls as it goes.
struct Recorder : ResponseSink {
    int heads = 0;
    int completes = 0;
    int status = 0;
    Framing framing = Framing::unknown;
    std::string forwarded;
    std::string body;

    void on_head(const ResponseParser& parser) override {
        EXPECT_EQ(heads, 0) << "a second head";
        ++heads;
        status = parser.status();
        framing = parser.framing();
        parser.append_forwarded_headers(forwarded);
    }
    void on_body(const char* data, std::size_t size) override {
        EXPECT_EQ(heads, 1) << "body before the head";
        EXPECT_EQ(completes, 0) << "body after the end";
        EXPECT_GT(size, 0u) << "an empty piece";
        body.append(data, size);
    }
    void on_complete() override {
        EXPECT_EQ(heads, 1) << "the end without a head";
        ++completes;
    }
};

struct Fed {
    ParseResult last;
    std::size_t consumed = 0;  // all pieces together
};

/// Feeds `bytes` in pieces of `step` (the last one shorter), as reads from a socket would
/// deliver them, until the input ends, the response completes or an error.
Fed feed_in_steps(ResponseParser& parser, Recorder& recorder, const std::string& bytes,
                  std::size_t step) {
    Fed run;
    for (std::size_t at = 0; at < bytes.size();) {
        std::size_t piece = std::min(step, bytes.size() - at);
        run.last = parser.feed(bytes.data() + at, piece, recorder);
        run.consumed += run.last.consumed;
        if (!run.last.ok() || parser.complete()) break;
        EXPECT_EQ(run.last.consumed, piece) << "an incomplete response left bytes unread";
        at += piece;
    }
    return run;
}

/// Feeds `bytes` as two reads split at `split`.
Fed feed_split(ResponseParser& parser, Recorder& recorder, const std::string& bytes,
               std::size_t split) {
    Fed run;
    run.last = parser.feed(bytes.data(), split, recorder);
    run.consumed = run.last.consumed;
    if (run.last.ok() && !parser.complete() && split < bytes.size()) {
        EXPECT_EQ(run.last.consumed, split);
        run.last = parser.feed(bytes.data() + split, bytes.size() - split, recorder);
        run.consumed += run.last.consumed;
    }
    return run;
}

/// The error that parsing all of `bytes` at once ends with (none if it completes or waits).
ParseError error_of(const std::string& bytes, http::Method method = http::Method::get,
                    ResponseParser::Limits limits = {}) {
    ResponseParser parser(limits);
    parser.reset(method);
    Recorder recorder;
    return parser.feed(bytes.data(), bytes.size(), recorder).error;
}

/// The error at every split of `bytes` in two: it must not depend on the split.
void expect_error_at_every_split(const std::string& bytes, ParseError expected,
                                 ResponseParser::Limits limits = {}) {
    for (std::size_t split = 0; split <= bytes.size(); ++split) {
        ResponseParser parser(limits);
        parser.reset(http::Method::get);
        Recorder recorder;
        Fed run = feed_split(parser, recorder, bytes, split);
        ASSERT_EQ(run.last.error, expected)
            << "split at " << split << ": " << describe(run.last.error) << " ("
            << parser.error_detail() << ")";
        EXPECT_EQ(recorder.completes, 0);
        EXPECT_FALSE(parser.keep_alive());
    }
}

TEST(ProxyResponseParser, ContentLengthBodyAtEveryBoundary) {
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";
    for (std::size_t split = 0; split <= response.size(); ++split) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        Fed run = feed_split(parser, recorder, response, split);
        ASSERT_TRUE(run.last.ok()) << "split at " << split << ": " << parser.error_detail();
        EXPECT_EQ(run.consumed, response.size()) << "split at " << split;
        EXPECT_EQ(recorder.status, 200);
        EXPECT_EQ(recorder.framing, Framing::length);
        EXPECT_EQ(recorder.body, "hello world") << "split at " << split;
        EXPECT_EQ(recorder.completes, 1) << "split at " << split;
        EXPECT_TRUE(parser.keep_alive());
        EXPECT_EQ(parser.content_length(), 11u);
    }
    for (std::size_t step = 1; step <= response.size(); ++step) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        Fed run = feed_in_steps(parser, recorder, response, step);
        ASSERT_TRUE(run.last.ok()) << "step " << step;
        EXPECT_EQ(recorder.body, "hello world") << "step " << step;
        EXPECT_EQ(recorder.completes, 1) << "step " << step;
    }
}

TEST(ProxyResponseParser, ChunkedWithExtensionsAndTrailersAtEveryBoundary) {
    const std::string response =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nX-Kept: 1\r\n\r\n"
        "3;name=value;flag\r\nabc\r\n"
        "A ; quoted=\"x;y\"\r\n0123456789\r\n"
        "0\r\nX-Sum: 42\r\nX-Other: yes\r\n\r\n";
    for (std::size_t step = 1; step <= response.size(); ++step) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        Fed run = feed_in_steps(parser, recorder, response, step);
        ASSERT_TRUE(run.last.ok()) << "step " << step << ": " << parser.error_detail();
        EXPECT_EQ(run.consumed, response.size());
        EXPECT_EQ(recorder.framing, Framing::chunked);
        EXPECT_EQ(recorder.body, "abc0123456789") << "step " << step;
        EXPECT_EQ(recorder.completes, 1);
        EXPECT_TRUE(parser.keep_alive());
        // Trailers are dropped, and so are the hop-by-hop fields that announced the framing.
        EXPECT_EQ(recorder.forwarded, "X-Kept: 1\r\n");
    }
    for (std::size_t split = 0; split <= response.size(); ++split) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        Fed run = feed_split(parser, recorder, response, split);
        ASSERT_TRUE(run.last.ok()) << "split at " << split;
        EXPECT_EQ(recorder.body, "abc0123456789") << "split at " << split;
        EXPECT_EQ(recorder.completes, 1);
    }
}

TEST(ProxyResponseParser, CloseDelimitedBodyEndsAtEof) {
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    ParseResult result = parser.feed(response.data(), response.size(), recorder);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.consumed, response.size());
    EXPECT_EQ(recorder.framing, Framing::close_delimited);
    EXPECT_FALSE(parser.complete());
    EXPECT_EQ(recorder.completes, 0);
    result = parser.on_eof(recorder);
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(parser.complete());
    EXPECT_EQ(recorder.completes, 1);
    EXPECT_EQ(recorder.body, "until the end");
    // Its end is the connection's end: it cannot be reused.
    EXPECT_FALSE(parser.keep_alive());
}

TEST(ProxyResponseParser, ResponseToHeadHasNoBody) {
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    const std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    for (std::size_t step = 1; step <= head.size(); ++step) {
        ResponseParser parser;
        parser.reset(http::Method::head);
        Recorder recorder;
        Fed run = feed_in_steps(parser, recorder, head + next, step);
        ASSERT_TRUE(run.last.ok());
        EXPECT_EQ(run.consumed, head.size()) << "step " << step;
        EXPECT_EQ(recorder.framing, Framing::none);
        EXPECT_EQ(recorder.completes, 1);
        EXPECT_EQ(recorder.body, "");
        // The length the GET would have had, for the client's HEAD answer.
        EXPECT_TRUE(parser.has_content_length());
        EXPECT_EQ(parser.content_length(), 1234u);
        EXPECT_TRUE(parser.keep_alive());
    }
    // The same head answering a GET waits for its body.
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    ASSERT_TRUE(parser.feed(head.data(), head.size(), recorder).ok());
    EXPECT_FALSE(parser.complete());
    EXPECT_EQ(recorder.framing, Framing::length);
}

TEST(ProxyResponseParser, NoContentAndNotModifiedHaveNoBody) {
    const std::vector<std::string> heads = {
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n",
    };
    for (const std::string& head : heads) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        std::string bytes = head + "HTTP/1.1 200 OK\r\n\r\n";
        ParseResult result = parser.feed(bytes.data(), bytes.size(), recorder);
        ASSERT_TRUE(result.ok()) << head;
        EXPECT_EQ(result.consumed, head.size()) << head;
        EXPECT_EQ(recorder.framing, Framing::none);
        EXPECT_EQ(recorder.completes, 1);
        EXPECT_TRUE(parser.keep_alive());
    }
}

TEST(ProxyResponseParser, InterimResponsesAreSkipped) {
    const std::string response =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nok";
    for (std::size_t step = 1; step <= response.size(); ++step) {
        ResponseParser parser;
        parser.reset(http::Method::post);
        Recorder recorder;
        Fed run = feed_in_steps(parser, recorder, response, step);
        ASSERT_TRUE(run.last.ok()) << "step " << step << ": " << parser.error_detail();
        EXPECT_EQ(recorder.heads, 1);
        EXPECT_EQ(recorder.status, 201);
        // Only the final head's fields.
        EXPECT_EQ(recorder.forwarded, "Location: /x\r\n");
        EXPECT_EQ(recorder.body, "ok");
        EXPECT_EQ(recorder.completes, 1);
        EXPECT_TRUE(parser.got_any_byte());
    }
}

TEST(ProxyResponseParser, SwitchingProtocolsIsTheHeadAndTheRestIsTunnelled) {
    const std::string head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    const std::string frames = "\x81\x05hello";
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    std::string bytes = head + frames;
    ParseResult result = parser.feed(bytes.data(), bytes.size(), recorder);
    ASSERT_TRUE(result.ok()) << parser.error_detail();
    EXPECT_EQ(result.consumed, head.size());
    EXPECT_EQ(recorder.status, 101);
    EXPECT_EQ(recorder.framing, Framing::none);
    EXPECT_EQ(recorder.completes, 1);
    EXPECT_EQ(recorder.body, "");
    // The connection becomes a tunnel: never a pooled keep-alive connection.
    EXPECT_FALSE(parser.keep_alive());
    EXPECT_EQ(recorder.forwarded,
              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
}

TEST(ProxyResponseParser, KeepAliveFollowsVersionConnectionAndFraming) {
    struct Case {
        std::string response;
        bool keep_alive;
    };
    const std::vector<Case> cases = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", true},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false},
        {"HTTP/1.1 200 OK\r\nConnection: x-custom, Close\r\nContent-Length: 1\r\n\r\nx", false},
        {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", true},
    };
    for (const Case& c : cases) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        ParseResult result = parser.feed(c.response.data(), c.response.size(), recorder);
        ASSERT_TRUE(result.ok()) << c.response;
        ASSERT_TRUE(parser.complete()) << c.response;
        EXPECT_EQ(parser.keep_alive(), c.keep_alive) << c.response;
    }
    // Not before the response is over.
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
    ASSERT_TRUE(parser.feed(partial.data(), partial.size(), recorder).ok());
    EXPECT_FALSE(parser.keep_alive());
}

TEST(ProxyResponseParser, StopsAtTheEndOfTheFirstResponse) {
    const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-N: 1\r\n\r\none";
    const std::string second =
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nX-N: "
        "2\r\n\r\n3\r\ntwo\r\n0\r\n\r\n";
    const std::string bytes = first + second;
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    ParseResult result = parser.feed(bytes.data(), bytes.size(), recorder);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.consumed, first.size());
    EXPECT_TRUE(parser.complete());
    EXPECT_EQ(recorder.body, "one");
    // Once complete, nothing more is taken.
    result = parser.feed(bytes.data() + first.size(), second.size(), recorder);
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.consumed, 0u);
    EXPECT_EQ(recorder.completes, 1);

    // The same parser, reset, reads the next one (storage reused).
    parser.reset(http::Method::get);
    Recorder next;
    result = parser.feed(bytes.data() + first.size(), second.size(), next);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.consumed, second.size());
    EXPECT_EQ(next.status, 404);
    EXPECT_EQ(next.body, "two");
    EXPECT_EQ(parser.header("x-n"), "2");
    EXPECT_TRUE(parser.got_any_byte());
}

TEST(ProxyResponseParser, GarbageIsNotHttp) {
    const std::vector<std::string> garbage = {
        "SSH-2.0-OpenSSH_9.2\r\n",
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
        "<html><body>hello</body></html>\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 600 Nope\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
    };
    for (const std::string& bytes : garbage) {
        EXPECT_EQ(error_of(bytes), ParseError::garbage) << bytes;
    }
    expect_error_at_every_split("HTTP/1.1 0 OK\r\nContent-Length: 0\r\n\r\n", ParseError::garbage);
}

TEST(ProxyResponseParser, ErrorsAreSticky) {
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    std::string bytes = "NOT HTTP\r\n\r\n";
    ParseResult first = parser.feed(bytes.data(), bytes.size(), recorder);
    EXPECT_EQ(first.error, ParseError::garbage);
    EXPECT_STRNE(parser.error_detail(), "");
    std::string good = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    ParseResult again = parser.feed(good.data(), good.size(), recorder);
    EXPECT_EQ(again.error, ParseError::garbage);
    EXPECT_EQ(again.consumed, 0u);
    EXPECT_EQ(parser.on_eof(recorder).error, ParseError::garbage);
    EXPECT_EQ(recorder.heads, 0);
    // A reset starts over.
    parser.reset(http::Method::get);
    EXPECT_TRUE(parser.feed(good.data(), good.size(), recorder).ok());
    EXPECT_TRUE(parser.complete());
}

TEST(ProxyResponseParser, HeadLargerThanTheLimit) {
    ResponseParser::Limits limits;
    limits.max_header_bytes = 64;
    const std::string status = "HTTP/1.1 200 OK\r\n";  // 17 bytes
    const std::string end = "\r\n";
    // Exactly 64 bytes of head: 17 + 45 (the field line) + 2.
    std::string line = "X: " + std::string(40, 'v') + "\r\n";
    ASSERT_EQ(status.size() + line.size() + end.size(), 64u);
    EXPECT_EQ(error_of(status + line + end, http::Method::head, limits), ParseError::none);
    std::string longer = "X: " + std::string(41, 'v') + "\r\n";
    EXPECT_EQ(error_of(status + longer + end, http::Method::head, limits),
              ParseError::header_too_large);
    // Interim heads count too: they are bytes the proxy must read.
    std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
    EXPECT_EQ(error_of(interim + interim + interim, http::Method::get, limits),
              ParseError::header_too_large);
    // The default limit, with one field far beyond it, split around the limit.
    std::string huge = status + "X: " + std::string(20000, 'v') + "\r\n\r\n";
    for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{16383},
                              std::size_t{16384}, std::size_t{16385}, huge.size()}) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        EXPECT_EQ(feed_split(parser, recorder, huge, split).last.error,
                  ParseError::header_too_large)
            << "split at " << split;
        EXPECT_EQ(recorder.heads, 0);
    }
}

TEST(ProxyResponseParser, TooManyHeaderFields) {
    ResponseParser::Limits limits;
    limits.max_headers = 3;
    std::string three = "HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    std::string four = "HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    EXPECT_EQ(error_of(three, http::Method::get, limits), ParseError::none);
    EXPECT_EQ(error_of(four, http::Method::get, limits), ParseError::too_many_headers);
    expect_error_at_every_split(four, ParseError::too_many_headers, limits);
    // A field counts once its name is over: a malformed name is that, wherever reads split it
    // (llhttp hands names over in pieces).
    limits.max_headers = 0;
    expect_error_at_every_split("HTTP/1.1 200 OK\r\nName-Without-Colon\r\n\r\n",
                                ParseError::invalid_header, limits);
}

TEST(ProxyResponseParser, AmbiguousFramingIsRefused) {
    const std::vector<std::string> responses = {
        // RFC 9112 section 6.3: both at once is how smuggling starts.
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxyz",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    };
    for (const std::string& bytes : responses) {
        EXPECT_EQ(error_of(bytes), ParseError::invalid_framing) << bytes;
    }
    expect_error_at_every_split(responses[0], ParseError::invalid_framing);
}

TEST(ProxyResponseParser, BadChunksAreRefused) {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::vector<std::string> bodies = {
        "zz\r\nabc\r\n0\r\n\r\n",       // not hex
        "\r\nabc\r\n0\r\n\r\n",         // no size
        ";ext\r\nabc\r\n0\r\n\r\n",     // no size before the extension
        "3 \r\nabc\r\n0\r\n\r\n",       // whitespace without an extension
        "-3\r\nabc\r\n0\r\n\r\n",       // a sign
        "3\r\nabcd\r\n0\r\n\r\n",       // more data than the size
        "3\r\nabc0\r\n\r\n",            // no CRLF after the data
        "3;a\rb\r\nabc\r\n0\r\n\r\n",   // bare CR in an extension (llhttp 8 takes it)
        "3\rabc\r\n0\r\n\r\n",          // bare CR ending the size line
        "3\nabc\r\n0\r\n\r\n",          // bare LF
        "3;a\x01\r\nabc\r\n0\r\n\r\n",  // a control character in an extension
        "fffffffffffffffff\r\n",        // a size that would overflow
        "0\r\nX: y\rZ\r\n\r\n",         // bare CR in a trailer
        "0\r\n folded\r\n\r\n",         // a trailer line that starts with a space
    };
    for (const std::string& body : bodies) {
        EXPECT_EQ(error_of(head + body), ParseError::invalid_framing) << body;
    }
    expect_error_at_every_split(head + "3;a\rb\r\nabc\r\n0\r\n\r\n", ParseError::invalid_framing);

    // What came before the fault was delivered, once; the end never is.
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    std::string bytes = head + "3\r\nabc\r\nzz\r\n";
    EXPECT_EQ(parser.feed(bytes.data(), bytes.size(), recorder).error, ParseError::invalid_framing);
    EXPECT_EQ(recorder.body, "abc");
    EXPECT_EQ(recorder.completes, 0);
}

TEST(ProxyResponseParser, TrailersLargerThanTheLimit) {
    ResponseParser::Limits limits;
    limits.max_header_bytes = 128;
    std::string response =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + std::string(200, 'v') +
        "\r\n\r\n";
    EXPECT_EQ(error_of(response, http::Method::get, limits), ParseError::header_too_large);
}

TEST(ProxyResponseParser, EarlyCloseBeforeTheHead) {
    {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        // A kept-alive connection the backend had closed: no byte at all.
        EXPECT_EQ(parser.on_eof(recorder).error, ParseError::closed_before_head);
        EXPECT_FALSE(parser.got_any_byte());
    }
    const std::vector<std::string> partial = {
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };
    for (const std::string& bytes : partial) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        ParseResult result = parser.feed(bytes.data(), bytes.size(), recorder);
        ASSERT_TRUE(result.ok()) << bytes;
        EXPECT_EQ(result.consumed, bytes.size());
        EXPECT_TRUE(parser.got_any_byte());
        EXPECT_EQ(parser.on_eof(recorder).error, ParseError::closed_before_head) << bytes;
        EXPECT_EQ(recorder.heads, 0);
    }
}

TEST(ProxyResponseParser, EarlyCloseInTheBody) {
    const std::vector<std::string> partial = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
    };
    for (const std::string& bytes : partial) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        ASSERT_TRUE(parser.feed(bytes.data(), bytes.size(), recorder).ok()) << bytes;
        EXPECT_EQ(recorder.heads, 1);
        EXPECT_EQ(parser.on_eof(recorder).error, ParseError::closed_mid_body) << bytes;
        EXPECT_EQ(recorder.completes, 0);
        EXPECT_FALSE(parser.keep_alive());
    }
}

TEST(ProxyResponseParser, ObsFoldAndBareCrAreRefused) {
    // Each must be refused, never normalised and forwarded.
    expect_error_at_every_split("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n",
                                ParseError::invalid_header);
    expect_error_at_every_split("HTTP/1.1 200 OK\r\nX-A: one\r\n\ttwo\r\nContent-Length: 0\r\n\r\n",
                                ParseError::invalid_header);
    expect_error_at_every_split("HTTP/1.1 200 OK\r\nX-A: one\rtwo\r\nContent-Length: 0\r\n\r\n",
                                ParseError::invalid_header);
    expect_error_at_every_split("HTTP/1.1 200 OK\r\nX-A\r: one\r\nContent-Length: 0\r\n\r\n",
                                ParseError::invalid_header);
    // llhttp 8 alone takes a bare CR in the status line and reads the rest of the head as body.
    expect_error_at_every_split("HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n",
                                ParseError::garbage);
    expect_error_at_every_split("HTTP/1.1 200 OK\rX-A: one\r\nContent-Length: 0\r\n\r\n",
                                ParseError::garbage);
    const std::vector<std::string> malformed = {
        "HTTP/1.1 200 OK\r\nX-A: one\nContent-Length: 0\r\n\r\n",     // bare LF
        "HTTP/1.1 200 OK\r\nX-A : one\r\nContent-Length: 0\r\n\r\n",  // space before the colon
        "HTTP/1.1 200 OK\r\n: one\r\nContent-Length: 0\r\n\r\n",      // no name
        "HTTP/1.1 200 OK\r\n X-A: one\r\nContent-Length: 0\r\n\r\n",  // whitespace first
        "HTTP/1.1 200 OK\r\nX-A: one\x01\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX(A): one\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n",
    };
    for (const std::string& bytes : malformed) {
        EXPECT_EQ(error_of(bytes), ParseError::invalid_header) << bytes;
    }
}

TEST(ProxyResponseParser, HeaderFieldsAsReceivedWithoutSurroundingWhitespace) {
    std::string response =
        "HTTP/1.1 200 OK\r\nX-A:   spaced  value \t \r\nX-Empty:\r\nX-B:b\r\nContent-Length: "
        "0\r\n\r\n";
    for (std::size_t step = 1; step <= response.size(); ++step) {
        ResponseParser parser;
        parser.reset(http::Method::get);
        Recorder recorder;
        ASSERT_TRUE(feed_in_steps(parser, recorder, response, step).last.ok());
        ASSERT_EQ(parser.headers().size(), 4u);
        EXPECT_EQ(parser.headers()[0].name, "X-A");
        EXPECT_EQ(parser.headers()[0].value, "spaced  value");
        EXPECT_EQ(parser.headers()[1].value, "");
        EXPECT_EQ(parser.header("x-b"), "b");
        EXPECT_EQ(parser.header("X-Missing"), "");
        EXPECT_EQ(parser.version_minor(), 1);
    }
}

TEST(ProxyResponseParser, HopByHopFieldsAreNotForwarded) {
    std::string response =
        "HTTP/1.1 200 OK\r\n"
        "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
        "Server: backend/1.0\r\n"
        "Connection: keep-alive, X-Hop-One\r\n"
        "Keep-Alive: timeout=5\r\n"
        "X-Hop-One: 1\r\n"
        "Cache-Control: no-cache\r\n"
        "connection:  x-hop-two ,X-HOP-THREE\r\n"
        "X-Hop-Two: 2\r\n"
        "x-hop-three: 3\r\n"
        "Proxy-Connection: keep-alive\r\n"
        "TE: trailers\r\n"
        "Trailer: X-Sum\r\n"
        "Upgrade: h2c\r\n"
        "Set-Cookie: a=1\r\n"
        "Set-Cookie: b=2\r\n"
        "Content-Length: 2\r\n"
        "X-Hop-Onefold: kept, not named\r\n"
        "\r\nok";
    ResponseParser parser;
    parser.reset(http::Method::get);
    Recorder recorder;
    ASSERT_TRUE(parser.feed(response.data(), response.size(), recorder).ok());
    const std::string expected =
        "Cache-Control: no-cache\r\n"
        "Set-Cookie: a=1\r\n"
        "Set-Cookie: b=2\r\n"
        "X-Hop-Onefold: kept, not named\r\n";
    EXPECT_EQ(recorder.forwarded, expected);
    http::Response forwarded;
    parser.append_forwarded_headers(forwarded);
    EXPECT_EQ(forwarded.header_lines(), expected);
    // Appending keeps what was there.
    std::string out = "Via: 1.1 c10k\r\n";
    parser.append_forwarded_headers(out);
    EXPECT_EQ(out, "Via: 1.1 c10k\r\n" + expected);
}

TEST(ProxyResponseParser, DescribesEveryError) {
    for (ParseError error :
         {ParseError::none, ParseError::garbage, ParseError::header_too_large,
          ParseError::too_many_headers, ParseError::invalid_header, ParseError::invalid_framing,
          ParseError::closed_before_head, ParseError::closed_mid_body}) {
        EXPECT_STRNE(describe(error), "unknown error");
    }
}

}  // namespace
}  // namespace c10k::proxy
