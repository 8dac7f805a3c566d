// A connection that leaves HTTP (Pending::upgrade): the 101 head, the other protocol's bytes in
// order (those that came with the request first), raw output, finish, stop and peer close.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/session.hpp"
#include "unit/http/drain.hpp"

namespace c10k::http {
namespace {

/// Switches /now at once and /later when told; then echoes every input byte upper-cased.
class SwitchingHandler : public Handler, public UpgradedOwner {
public:
    void handle(const Request& request, Response& response) override {
        if (request.target == "/plain") {
            response.set_body("plain");
            return;
        }
        pending = response.defer(*this);
        if (request.target == "/now") switch_now(response);
    }
    void switch_now(Response& head) {
        head.clear();
        head.set_status(101);
        head.add_header("Upgrade", "shout");
        head.add_header("Connection", "Upgrade");
        pending.upgrade(head, *this);
    }
    void on_pending_closed() override {
        ++closed;
        pending = Pending();
    }
    void on_upgraded_input(const char* data, std::size_t size) override {
        std::string upper(data, size);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        received += upper;
        if (echo) pending.write(upper);
        if (received.find('!') != std::string::npos && pending) {
            pending.finish();
            pending = Pending();
        }
    }
    void on_upgraded_stop() override {
        ++stops;
        pending.write("bye");
        pending.finish();
        pending = Pending();
    }

    Pending pending;
    std::string received;
    bool echo = true;
    int closed = 0;
    int stops = 0;
};

class UpgradeTest : public ::testing::Test {
protected:
    UpgradeTest() : context(handler, Limits{}, Timeouts{}) {}

    void feed(Session& session, std::string_view bytes) {
        session.feed(bytes.data(), bytes.size());
    }

    SwitchingHandler handler;
    LoopContext context;
};

constexpr std::string_view kUpgradeNow =
    "GET /now HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n";

TEST_F(UpgradeTest, SendsTheHeadWithoutFramingAndHandsOverTheBytesThatFollowed) {
    Session session(context);
    std::string first = std::string(kUpgradeNow) + "abc";
    feed(session, first);
    EXPECT_TRUE(session.upgraded());
    std::string out = drain(session);
    EXPECT_EQ(out.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << out;
    EXPECT_NE(out.find("Upgrade: shout\r\n"), std::string::npos);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos);
    EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos);
    EXPECT_EQ(out.find("Connection: close"), std::string::npos);
    EXPECT_EQ(out.substr(out.size() - 7), "\r\n\r\nABC") << "raw bytes, no chunk framing";

    // What looks like HTTP is not parsed as HTTP any more.
    feed(session, "GET /plain HTTP/1.1\r\n\r\n");
    EXPECT_EQ(drain(session), "GET /PLAIN HTTP/1.1\r\n\r\n");
    EXPECT_EQ(handler.received, "ABCGET /PLAIN HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(session.wants_read());
    EXPECT_EQ(session.phase(), Phase::waiting);
    EXPECT_EQ(session.deadline_ms(), kNoDeadline);
    EXPECT_FALSE(session.should_close());
}

TEST_F(UpgradeTest, ASwitchAfterHandleReturnedDeliversWhatArrivedMeanwhile) {
    Session session(context);
    feed(session,
         "GET /later HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nxy");
    EXPECT_FALSE(session.upgraded());
    EXPECT_EQ(drain(session), "");
    feed(session, "z");
    EXPECT_EQ(handler.received, "") << "nothing is delivered before the switch";
    Response head;
    handler.switch_now(head);
    EXPECT_EQ(handler.received, "XYZ");
    std::string out = drain(session);
    EXPECT_EQ(out.substr(out.size() - 7), "\r\n\r\nXYZ");
}

TEST_F(UpgradeTest, FinishClosesOnceTheOutputIsSent) {
    Session session(context);
    feed(session, kUpgradeNow);
    drain(session);
    feed(session, "done!");
    EXPECT_FALSE(session.upgraded());
    EXPECT_FALSE(session.should_close()) << "the echo is still queued";
    EXPECT_EQ(drain(session), "DONE!");
    EXPECT_TRUE(session.should_close());
    EXPECT_FALSE(session.aborted());
    EXPECT_EQ(handler.closed, 0);
}

TEST_F(UpgradeTest, ServerStopAsksTheProtocolToSayGoodbye) {
    Session session(context);
    feed(session, kUpgradeNow);
    drain(session);
    session.request_close();
    EXPECT_EQ(handler.stops, 1);
    EXPECT_EQ(drain(session), "bye");
    EXPECT_TRUE(session.should_close());
}

TEST_F(UpgradeTest, PeerLeavingTellsTheOwnerAndAbortsTheConnection) {
    Session session(context);
    feed(session, kUpgradeNow);
    drain(session);
    session.on_peer_closed();
    EXPECT_EQ(handler.closed, 1);
    EXPECT_TRUE(session.aborted());
    EXPECT_TRUE(session.should_close());
}

TEST_F(UpgradeTest, ReadingPausesWhileTooMuchOutputIsQueued) {
    Session session(context);
    feed(session, kUpgradeNow);
    drain(session);
    std::string flood(context.limits().max_pending_output + 1, 'a');
    feed(session, flood);
    EXPECT_FALSE(session.wants_read()) << "the client sends faster than it reads";
    drain(session);
    EXPECT_TRUE(session.wants_read());
}

TEST_F(UpgradeTest, APlainAnswerToAnUpgradeRequestEndsTheConnection) {
    Session session(context);
    feed(session,
         "GET /plain HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n"
         "\x81\x85garbage");
    std::string out = drain(session);
    EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
    EXPECT_TRUE(session.should_close()) << "the other protocol's bytes are never read as HTTP";
    EXPECT_TRUE(handler.received.empty());
}

}  // namespace
}  // namespace c10k::http
