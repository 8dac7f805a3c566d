// Streamed request bodies (Handler::streams_body): the handler takes the request at its head
// and the body through Pending::read_body, with backpressure, without any socket.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "http/session.hpp"
#include "unit/http/drain.hpp"

namespace c10k::http {
namespace {

/// What a handler that streams bodies saw of one request.
struct Upload : PendingOwner, BodySink {
    Pending pending;
    std::string target;
    std::string body;
    std::uint64_t length = 0;
    int pieces = 0;
    bool ended = false;
    bool closed = false;
    bool pause_on_body = false;  ///< pause after every piece

    void on_pending_closed() override {
        closed = true;
        pending = Pending();
    }
    void on_request_body(const char* data, std::size_t size) override {
        body.append(data, size);
        ++pieces;
        if (pause_on_body) pending.pause_body();
    }
    void on_request_body_end() override { ended = true; }

    void answer(const std::string& text) {
        Response response;
        response.set_status(200);
        response.set_body(text);
        pending.respond(response);
        pending = Pending();
    }
};

/// Defers every request; reads the body at once unless told to wait.
class StreamingHandler : public Handler {
public:
    void handle(const Request& request, Response& response) override {
        ++calls;
        if (answer_at_once) {
            response.set_status(403);
            response.set_body("no\n");
            return;
        }
        upload = std::make_unique<Upload>();
        upload->target = std::string(request.target);
        upload->length = request.body_length;
        streamed = request.body_streamed;
        upload->pending = response.defer(*upload);
        if (read_at_once) upload->pending.read_body(*upload);
    }
    bool streams_body(std::uint8_t) const override { return true; }

    std::unique_ptr<Upload> upload;
    int calls = 0;
    bool streamed = false;
    bool read_at_once = true;
    bool answer_at_once = false;
};

class SessionBodyTest : public ::testing::Test {
protected:
    SessionBodyTest() : context(handler, limits(), Timeouts{}) {}
    static Limits limits() {
        Limits l;
        l.max_body_bytes = 64ull << 20;
        return l;
    }
    void feed(Session& session, const std::string& bytes) {
        session.feed(bytes.data(), bytes.size());
    }

    StreamingHandler handler;
    LoopContext context;
};

TEST_F(SessionBodyTest, HandlerRunsAtTheHeadAndTakesTheBodyAsItArrives) {
    Session session(context);
    feed(session, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n");
    ASSERT_EQ(handler.calls, 1) << "the handler runs before any body byte";
    EXPECT_TRUE(handler.streamed);
    EXPECT_EQ(handler.upload->length, 10u);
    EXPECT_EQ(session.phase(), Phase::body) << "the client owes the body: the body timeout runs";
    feed(session, "01234");
    EXPECT_EQ(handler.upload->body, "01234");
    EXPECT_FALSE(handler.upload->ended);
    feed(session, "56789");
    EXPECT_EQ(handler.upload->body, "0123456789");
    EXPECT_TRUE(handler.upload->ended);
    EXPECT_EQ(session.phase(), Phase::waiting);
    handler.upload->answer("got it");
    std::string out = drain(session);
    EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
    EXPECT_EQ(out.find("Connection: close"), std::string::npos) << "the body was all read";
    EXPECT_FALSE(session.should_close());
    // The connection serves its next request.
    feed(session, "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(handler.calls, 2);
    EXPECT_EQ(handler.upload->body, "ok");
    EXPECT_TRUE(handler.upload->ended);
}

TEST_F(SessionBodyTest, ChunkedBodyArrivesDecodedWithAnUnknownLength) {
    Session session(context);
    feed(session,
         "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    ASSERT_EQ(handler.calls, 1);
    EXPECT_EQ(handler.upload->length, Request::kChunkedBody);
    EXPECT_EQ(handler.upload->body, "hello world");
    EXPECT_TRUE(handler.upload->ended);
}

TEST_F(SessionBodyTest, PausedSinkHoldsABoundedAmountThenStopsReading) {
    Session session(context);
    handler.read_at_once = true;
    feed(session, "PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n");
    handler.upload->pause_on_body = true;
    std::string piece(16 * 1024, 'x');
    feed(session, piece);
    EXPECT_EQ(handler.upload->pieces, 1);
    std::size_t fed = piece.size();
    // Held from here on, up to the bound; then the engine is told to stop reading.
    while (session.wants_read() && fed < 1000000) {
        feed(session, piece);
        fed += piece.size();
    }
    EXPECT_FALSE(session.wants_read()) << "reading must stop while the sink is paused";
    EXPECT_LT(fed, 200u * 1024) << "the held input is bounded";
    EXPECT_EQ(handler.upload->body.size(), piece.size()) << "nothing more reached the sink";
    EXPECT_EQ(session.phase(), Phase::waiting) << "the client is not what is slow now";
    handler.upload->pause_on_body = false;
    handler.upload->pending.resume_body();
    EXPECT_EQ(handler.upload->body.size(), fed) << "what was held is handed over on resume";
    EXPECT_TRUE(session.wants_read());
    std::string rest(1000000 - fed, 'y');
    feed(session, rest);
    EXPECT_EQ(handler.upload->body.size(), 1000000u);
    EXPECT_TRUE(handler.upload->ended);
}

TEST_F(SessionBodyTest, BodyThatArrivedBeforeReadBodyIsHandedOverByIt) {
    Session session(context);
    handler.read_at_once = false;
    feed(session, "POST /later HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabcdef");
    ASSERT_EQ(handler.calls, 1);
    EXPECT_TRUE(handler.upload->body.empty());
    handler.upload->pending.read_body(*handler.upload);
    EXPECT_EQ(handler.upload->body, "abcdef");
    EXPECT_TRUE(handler.upload->ended);
}

TEST_F(SessionBodyTest, ContinueIsSentOnlyWhenTheBodyIsRead) {
    {
        Session session(context);
        handler.read_at_once = false;
        feed(session,
             "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        EXPECT_EQ(drain(session), "") << "no 100 before the handler wants the body";
        handler.upload->pending.read_body(*handler.upload);
        EXPECT_EQ(drain(session), "HTTP/1.1 100 Continue\r\n\r\n");
        feed(session, "abc");
        EXPECT_TRUE(handler.upload->ended);
    }
    {
        Session session(context);
        handler.answer_at_once = true;
        feed(session,
             "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        std::string out = drain(session);
        EXPECT_EQ(out.rfind("HTTP/1.1 403", 0), 0u) << "a refusal comes without a 100: " << out;
    }
}

TEST_F(SessionBodyTest, AnswerBeforeTheBodyEndsClosesTheConnection) {
    {
        // Answered at once, inside handle(): the unread body is not taken for a request.
        Session session(context);
        handler.answer_at_once = true;
        feed(session,
             "POST /no HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
        std::string out = drain(session);
        EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
        EXPECT_EQ(handler.calls, 1) << "body bytes must never be parsed as a request";
        EXPECT_TRUE(session.should_close());
    }
    {
        // Answered later, mid-body.
        Session session(context);
        handler.answer_at_once = false;
        feed(session, "POST /mid HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\nhalf");
        handler.upload->answer("early");
        std::string out = drain(session);
        EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
        EXPECT_FALSE(session.wants_read());
        EXPECT_TRUE(session.should_close());
    }
}

TEST_F(SessionBodyTest, ClientThatLeavesMidBodyIsToldToTheHandler) {
    Session session(context);
    feed(session, "POST /gone HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\npartial");
    session.on_peer_closed();
    EXPECT_TRUE(handler.upload->closed);
    EXPECT_FALSE(handler.upload->ended);
    EXPECT_TRUE(session.aborted());
}

TEST_F(SessionBodyTest, BadChunkOrOversizedBodyEndsTheHandlersPartWithAnError) {
    {
        Session session(context);
        feed(session, "POST /bad HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        feed(session, "zz\r\nnot a chunk\r\n");
        EXPECT_TRUE(handler.upload->closed) << "the handler hears the request is gone";
        std::string out = drain(session);
        EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
        EXPECT_TRUE(session.should_close());
    }
    {
        Limits small;
        small.max_body_bytes = 100;
        LoopContext tight(handler, small, Timeouts{});
        Session session(tight);
        feed(session, "POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        feed(session, "80\r\n" + std::string(128, 'x') + "\r\n");
        EXPECT_TRUE(handler.upload->closed);
        std::string out = drain(session);
        EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
    }
    {
        // Content-Length over the limit is refused at the head: the handler never runs.
        Limits small;
        small.max_body_bytes = 100;
        LoopContext tight(handler, small, Timeouts{});
        Session session(tight);
        int before = handler.calls;
        feed(session, "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n");
        EXPECT_EQ(handler.calls, before);
        EXPECT_EQ(drain(session).rfind("HTTP/1.1 413", 0), 0u);
    }
}

TEST_F(SessionBodyTest, RequestsWithoutABodyAreHandledAsBefore) {
    Session session(context);
    feed(session, "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(handler.calls, 1);
    EXPECT_FALSE(handler.streamed);
    handler.upload->answer("plain");
    EXPECT_EQ(drain(session).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

}  // namespace
}  // namespace c10k::http
