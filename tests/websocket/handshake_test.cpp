// The opening handshake against the binary (RFC 6455 4.2): the refusals and their headers, the
// Origin allow-list and the subprotocol choice. And the server's own initiatives: keep-alive
// pings that close a silent client, and the 1001 close on SIGTERM.

#include <signal.h>

#include <string>

#include "websocket/ws_suite.hpp"

namespace c10k::test {
namespace {

class Handshake : public WsTest {
protected:
    /// Sends the handshake on a new connection and returns the answer.
    WsHandshakeAnswer answer_to(const WsHandshake& request,
                                const std::vector<std::string>& flags = {}) {
        WsClient client(port(flags));
        client.handshake(request);
        return client.answer();
    }
};

bool lists(const std::string& value, const std::string& token) {
    std::string lower;
    for (char c : value) lower.push_back(static_cast<char>(std::tolower(c)));
    return lower.find(token) != std::string::npos;
}

TEST_P(Handshake, AcceptedAnswerHasTheRfcHeaders) {
    WsClient client(port());
    ASSERT_TRUE(client.handshake()) << client.last_error();
    const auto& answer = client.answer();
    EXPECT_EQ(answer.status, 101);
    EXPECT_TRUE(lists(answer.header("upgrade"), "websocket"));
    EXPECT_TRUE(lists(answer.header("connection"), "upgrade"));
    EXPECT_TRUE(answer.accept_ok);
    EXPECT_FALSE(answer.has_header("sec-websocket-protocol"));
    EXPECT_FALSE(answer.has_header("sec-websocket-extensions"));
    ASSERT_NO_FATAL_FAILURE(expect_echo(client, ws_opcode::text, "after the handshake"));
}

TEST_P(Handshake, Version8Gets426NamingVersion13) {
    WsHandshake request;
    request.version = "8";
    auto answer = answer_to(request);
    EXPECT_EQ(answer.status, 426);
    EXPECT_EQ(answer.header("sec-websocket-version"), "13");
}

TEST_P(Handshake, BadKeyGets400) {
    for (const std::string key : {"short", "not base64 at all, but 24", "AAAAAAAAAAAAAAAAAAAAAA",
                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}) {
        SCOPED_TRACE("key " + key);
        WsHandshake request;
        request.key = key;
        EXPECT_EQ(answer_to(request).status, 400);
    }
}

TEST_P(Handshake, PostGets405) {
    WsHandshake request;
    request.method = "POST";
    request.extra_headers = "Content-Length: 0\r\n";
    auto answer = answer_to(request);
    EXPECT_EQ(answer.status, 405);
    EXPECT_TRUE(lists(answer.header("allow"), "get"));
}

TEST_P(Handshake, OtherOriginGets403) {
    const std::vector<std::string> flags = {"--ws-origin", "https://good.example"};
    WsHandshake request;
    request.origin = "https://evil.example";
    EXPECT_EQ(answer_to(request, flags).status, 403);
    request.origin = "https://good.example";
    EXPECT_EQ(answer_to(request, flags).status, 101);
}

TEST_P(Handshake, PlainGetToTheLocationGets426) {
    WsHandshake request;
    request.plain_get = true;
    auto answer = answer_to(request);
    EXPECT_EQ(answer.status, 426);
    EXPECT_TRUE(lists(answer.header("upgrade"), "websocket"));
}

TEST_P(Handshake, SubprotocolIsChosenFromTheServersList) {
    const std::vector<std::string> flags = {"--ws-subprotocol", "chat.v2", "--ws-subprotocol",
                                            "chat.v1"};
    WsHandshake request;
    // The server's preference wins over the client's order.
    request.protocols = "chat.v1, chat.v2";
    auto answer = answer_to(request, flags);
    EXPECT_EQ(answer.status, 101);
    EXPECT_EQ(answer.header("sec-websocket-protocol"), "chat.v2");
    request.protocols = "other, chat.v1";
    EXPECT_EQ(answer_to(request, flags).header("sec-websocket-protocol"), "chat.v1");
    // None in common: accepted without the header (RFC 6455 4.2.2 leaves the choice to the
    // client).
    request.protocols = "other";
    answer = answer_to(request, flags);
    EXPECT_EQ(answer.status, 101);
    EXPECT_FALSE(answer.has_header("sec-websocket-protocol"));
}

TEST_P(Handshake, BrowserSpellingsOfTheUpgradeHeadersAreAccepted) {
    // Header names and tokens are case-insensitive, and Firefox sends
    // "Connection: keep-alive, Upgrade".
    for (const std::string headers :
         {"upgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n",
          "UPGRADE: websocket\r\nCONNECTION: upgrade\r\n",
          "Upgrade: websocket\r\nConnection: keep-alive\r\nConnection: Upgrade\r\n"}) {
        SCOPED_TRACE(headers);
        WsHandshake request;
        request.upgrade_headers = headers;
        WsClient client(port());
        ASSERT_TRUE(client.handshake(request))
            << client.answer().status << " " << client.answer().body << client.last_error();
        ASSERT_NO_FATAL_FAILURE(expect_echo(client, ws_opcode::text, "accepted"));
    }
}

TEST_P(Handshake, Http10Gets400) {
    WsHandshake request;
    request.http_version = "HTTP/1.0";
    EXPECT_EQ(answer_to(request).status, 400);
}

TEST_P(Handshake, FramesSentWithTheRequestAreNotLost) {
    // A client may send its first frames without waiting for the 101: they arrive in the same
    // segment as the request and must reach the WebSocket side in order.
    WsHandshake request;
    request.trailing = ws_encode(ws_opcode::text, "early one") +
                       ws_encode(ws_opcode::ping, "early ping") +
                       ws_encode(ws_opcode::binary, "early two");
    WsClient client(port());
    ASSERT_TRUE(client.handshake(request)) << client.last_error();
    ASSERT_NO_FATAL_FAILURE(expect_message(client, ws_opcode::text, "early one"));
    ASSERT_NO_FATAL_FAILURE(expect_message(client, ws_opcode::binary, "early two"));
    ASSERT_EQ(client.controls().size(), 1u);
    EXPECT_EQ(client.controls()[0].opcode, ws_opcode::pong);
    EXPECT_EQ(client.controls()[0].payload, "early ping");
}

TEST_P(Handshake, SubprotocolOfferedToAServerWithoutAnyIsNotAnswered) {
    WsHandshake request;
    request.protocols = "chat";
    auto answer = answer_to(request);
    EXPECT_EQ(answer.status, 101);
    EXPECT_FALSE(answer.has_header("sec-websocket-protocol"));
}

// ---- the server's initiatives --------------------------------------------------------------

class ServerBehaviour : public WsTest {};

TEST_P(ServerBehaviour, SilentClientIsPingedThenClosed) {
    auto client = open({"--ws-ping-interval", "200ms", "--ws-pong-timeout", "300ms"});
    auto ping = client->read_frame(5000);
    ASSERT_TRUE(ping) << "no keep-alive ping: " << client->last_error();
    EXPECT_EQ(ping->opcode, ws_opcode::ping);
    EXPECT_FALSE(ping->masked);
    // No pong: the server gives up on the client (a close frame may come first).
    EXPECT_TRUE(client->wait_tcp_closed(5000)) << "a client that never answered is still open";
}

TEST_P(ServerBehaviour, ClientThatAnswersPingsStaysOpen) {
    auto client = open({"--ws-ping-interval", "200ms", "--ws-pong-timeout", "300ms"});
    for (int i = 0; i < 3; ++i) {
        auto ping = client->read_frame(5000);
        ASSERT_TRUE(ping) << "ping " << i << ": " << client->last_error();
        ASSERT_EQ(ping->opcode, ws_opcode::ping);
        ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::pong, ping->payload)));
    }
    ASSERT_TRUE(client->send_text("still here"));
    for (;;) {
        auto frame = client->read_frame(5000);
        ASSERT_TRUE(frame) << client->last_error();
        if (frame->opcode == ws_opcode::ping) continue;
        EXPECT_EQ(frame->opcode, ws_opcode::text);
        EXPECT_EQ(frame->payload, "still here");
        break;
    }
}

TEST_P(ServerBehaviour, SigtermSendsClose1001) {
    // Its own server, since this test stops it.
    TempDir root;
    ServerProcess process({"serve", "--engine", GetParam(), "--root", root.path(), "--listen",
                           "127.0.0.1:0", "--threads", "1", "--ws-echo", "/echo"});
    WsClient client(process.port());
    ASSERT_TRUE(client.handshake()) << client.last_error();
    ASSERT_NO_FATAL_FAILURE(expect_echo(client, ws_opcode::text, "before the signal"));
    ::kill(process.pid(), SIGTERM);
    auto close = client.read_close(5000);
    ASSERT_TRUE(close) << "no close frame on SIGTERM: " << client.last_error();
    EXPECT_TRUE(close->has_code);
    EXPECT_EQ(close->code, 1001) << close->reason;
    client.send_close(1001);
    EXPECT_TRUE(client.wait_tcp_closed(5000));
    EXPECT_EQ(process.stop(SIGTERM, 10000), 0) << process.output();
}

TEST_P(ServerBehaviour, SigtermClosesAClientThatNeverAnswersTheClose) {
    // The client reads the 1001 but never answers: the close timeout ends the connection, and
    // the server still exits cleanly.
    TempDir root;
    ServerProcess process({"serve", "--engine", GetParam(), "--root", root.path(), "--listen",
                           "127.0.0.1:0", "--threads", "1", "--ws-echo", "/echo",
                           "--ws-close-timeout", "300ms"});
    WsClient client(process.port());
    ASSERT_TRUE(client.handshake()) << client.last_error();
    ::kill(process.pid(), SIGTERM);
    auto close = client.read_close(5000);
    ASSERT_TRUE(close) << client.last_error();
    EXPECT_EQ(close->code, 1001);
    EXPECT_TRUE(client.wait_tcp_closed(10000));
    EXPECT_EQ(process.stop(SIGTERM, 15000), 0) << process.output();
}

INSTANTIATE_TEST_SUITE_P(Engines, Handshake, ::testing::ValuesIn(kWsEngines), ws_engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, ServerBehaviour, ::testing::ValuesIn(kWsEngines), ws_engine_name);

}  // namespace
}  // namespace c10k::test
