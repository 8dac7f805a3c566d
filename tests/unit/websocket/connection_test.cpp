// websocket::Connection without sockets: messages, control frames, the close handshake, every
// way of failing, limits, timers, memory when idle, and the same events however input is split.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/websocket/connection_peer.hpp"

namespace c10k::websocket::test {
namespace {

TEST(Connection, DeliversMessages) {
    Options options;
    Outcome r = run_every_way(options, client_frame(Opcode::text, "Hello") +
                                           client_frame(Opcode::binary, std::string("\0\1\2", 3)) +
                                           client_frame(Opcode::text, ""));
    EXPECT_EQ(r.events, (Strings{"text:Hello", std::string("binary:\0\1\2", 10), "text:"}));
    EXPECT_TRUE(r.frames.empty());
    EXPECT_FALSE(r.finished);
}

TEST(Connection, ReassemblesFragmentsAroundControlFrames) {
    Options options;
    std::string input =
        client_frame(Opcode::text, "Hel", false) + client_frame(Opcode::ping, "are you there") +
        client_frame(Opcode::continuation, "", false) + client_frame(Opcode::pong, "unsolicited") +
        client_frame(Opcode::continuation, "lo \xce\xba", false) +
        client_frame(Opcode::continuation, "\xcf\x8c", true) +
        client_frame(Opcode::binary, "b1", false) + client_frame(Opcode::continuation, "b2", true);
    Outcome r = run_every_way(options, input);
    EXPECT_EQ(r.events,
              (Strings{"pong:unsolicited", "text:Hello \xce\xba\xcf\x8c", "binary:b1b2"}));
    EXPECT_EQ(r.frames, (Strings{"10:are you there"}));
}

TEST(Connection, AnswersEveryPingWithItsPayload) {
    Options options;
    std::string input;
    for (int i = 0; i < 10; ++i) input += client_frame(Opcode::ping, "p" + std::to_string(i));
    input += client_frame(Opcode::ping, std::string(125, 'x'));
    Outcome r = run_every_way(options, input);
    ASSERT_EQ(r.frames.size(), 11u);
    EXPECT_EQ(r.frames[3], "10:p3");
    EXPECT_EQ(r.frames[10], "10:" + std::string(125, 'x'));
}

TEST(Connection, PeerInitiatedCloseIsEchoed) {
    Options options;
    Outcome r =
        run_every_way(options, client_frame(Opcode::text, "last") + close_frame(1001, "bye") +
                                   client_frame(Opcode::text, "never read"));
    EXPECT_EQ(r.events, (Strings{"text:last", "close:1001:bye"}));
    EXPECT_EQ(r.frames, (Strings{sent_close(1001)}));
    EXPECT_TRUE(r.finished);
    EXPECT_FALSE(r.failed);

    r = run_every_way(options, client_frame(Opcode::close, ""));
    EXPECT_EQ(r.events, (Strings{"close:1005:"}));
    EXPECT_EQ(r.frames, (Strings{sent_close(1000)}));

    r = run_every_way(options, close_frame(4999));
    EXPECT_EQ(r.frames, (Strings{sent_close(4999)}));
}

TEST(Connection, BadCloseFrames) {
    Options options;
    Outcome r = run_every_way(options, client_frame(Opcode::close, "\x03"));
    EXPECT_EQ(r.frames.at(0).substr(0, 4), sent_close(1002).substr(0, 4));
    EXPECT_EQ(r.events.at(0).substr(0, 11), "close:1002:");
    EXPECT_TRUE(r.failed);
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
        r = run_every_way(options, close_frame(code));
        EXPECT_EQ(r.frames.at(0).substr(0, 4), sent_close(1002).substr(0, 4)) << code;
    }
    r = run_every_way(options, close_frame(1000, "\xce\xba\xed\xa0\x80"));
    EXPECT_EQ(r.frames.at(0).substr(0, 4), sent_close(1007).substr(0, 4));
    EXPECT_EQ(r.events.size(), 1u);
}

TEST(Connection, ProtocolErrorsSend1002AndStopReading) {
    Options options;
    std::vector<std::string> bad = {
        std::string("\x81\x05Hello", 7),              // unmasked
        client_frame(Opcode::text, "x", true, true),  // RSV1 without deflate
        std::string("\x83\x80\x01\x02\x03\x04", 6),   // reserved opcode 3
        std::string("\x8B\x80\x01\x02\x03\x04", 6),   // reserved opcode 11
        client_frame(Opcode::ping, "x", false),       // fragmented control
        client_frame(Opcode::continuation, "x"),      // continuation alone
        client_frame(Opcode::text, "a", false) + client_frame(Opcode::text, "b"),
        std::string("\x89\xFE\x00\x7E\x01\x02\x03\x04", 8),     // ping of 126 bytes
        std::string("\x82\xFF\x80\0\0\0\0\0\0\0\1\2\3\4", 14),  // 64-bit length, top bit
    };
    for (const std::string& input : bad) {
        Outcome r = run_every_way(options, input + client_frame(Opcode::text, "after"));
        ASSERT_EQ(r.frames.size(), 1u) << testing::PrintToString(input);
        EXPECT_EQ(r.frames[0].substr(0, 4), sent_close(1002).substr(0, 4));
        ASSERT_EQ(r.events.size(), 1u);
        EXPECT_EQ(r.events[0].substr(0, 11), "close:1002:");
        EXPECT_TRUE(r.finished);
        EXPECT_TRUE(r.failed);
    }
}

TEST(Connection, InvalidTextFailsFastWith1007) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    // A 1000-byte text frame whose 3rd byte is impossible: failed before the rest arrives.
    std::string frame = client_frame(Opcode::text, "ok\xff" + std::string(997, 'a'));
    conn.feed(frame.data(), 8 + 3, 1);
    EXPECT_TRUE(conn.finished());
    EXPECT_EQ(peer.events, (Strings{"close:1007:invalid UTF-8 in a text message"}));
    EXPECT_EQ(decode(peer.output), (Strings{sent_close(1007, "invalid UTF-8 in a text message")}));
    // Nothing more is read.
    conn.feed(frame.data() + 11, frame.size() - 11, 2);
    EXPECT_EQ(peer.events.size(), 1u);
}

TEST(Connection, InvalidTextAcrossFragmentsFailsAtTheRightFrame) {
    Options options;
    // A character split across frames is fine.
    Outcome r = run_every_way(options, client_frame(Opcode::text, "a\xe2\x82", false) +
                                           client_frame(Opcode::continuation, "\xac", true));
    EXPECT_EQ(r.events, (Strings{"text:a\xe2\x82\xac"}));
    // The surrogate's second byte is in the second fragment: failed there, with the first
    // fragment read and nothing delivered.
    std::string first = client_frame(Opcode::text, "abc\xed", false);
    std::string second = client_frame(Opcode::continuation, "\xa0\x80", true);
    Peer peer;
    Connection conn(options, peer, peer, 0);
    conn.feed(first.data(), first.size(), 1);
    EXPECT_FALSE(conn.finished());
    conn.feed(second.data(), 6, 1);  // the header
    EXPECT_FALSE(conn.finished());
    conn.feed(second.data() + 6, 1, 1);
    EXPECT_TRUE(conn.finished());
    EXPECT_EQ(peer.events.at(0).substr(0, 11), "close:1007:");
    // A message that ends inside a character.
    r = run_every_way(options, client_frame(Opcode::text, "a\xe2\x82"));
    EXPECT_EQ(r.events, (Strings{"close:1007:text message ends inside a character"}));
    // Binary messages are not text.
    r = run_every_way(options, client_frame(Opcode::binary, "\xff\xfe"));
    EXPECT_EQ(r.events, (Strings{"binary:\xff\xfe"}));
}

TEST(Connection, TooBigIsRefusedFromTheHeader) {
    Options options;
    options.max_message_bytes = 100;
    Outcome r = run_every_way(options, client_frame(Opcode::binary, std::string(100, 'a')));
    EXPECT_EQ(r.events, (Strings{"binary:" + std::string(100, 'a')}));

    Peer peer;
    Connection conn(options, peer, peer, 0);
    std::string frame = client_frame(Opcode::binary, std::string(101, 'a'));
    conn.feed(frame.data(), 8, 1);  // 2 + 2 length bytes + 4 mask: the header only
    EXPECT_TRUE(conn.finished());
    EXPECT_EQ(peer.events, (Strings{"close:1009:message too big"}));
    EXPECT_EQ(decode(peer.output), (Strings{sent_close(1009, "message too big")}));

    // Fragments add up.
    r = run_every_way(options, client_frame(Opcode::text, std::string(60, 'a'), false) +
                                   client_frame(Opcode::continuation, std::string(41, 'a')));
    EXPECT_EQ(r.frames, (Strings{sent_close(1009, "message too big")}));
    // ...per message.
    r = run_every_way(options, client_frame(Opcode::text, std::string(60, 'a')) +
                                   client_frame(Opcode::text, std::string(60, 'a')));
    EXPECT_EQ(r.events.size(), 2u);
    // A 2^63-1 announcement is just too big, not an overflow.
    std::string huge("\x82\xFF\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF\1\2\3\4", 14);
    r = run_every_way(options,
                      client_frame(Opcode::binary, "x", false) +
                          std::string("\x80\xFF\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF\1\2\3\4", 14));
    EXPECT_EQ(r.frames, (Strings{sent_close(1009, "message too big")}));
    r = run_every_way(options, huge);
    EXPECT_EQ(r.frames, (Strings{sent_close(1009, "message too big")}));
}

TEST(Connection, ServerInitiatedClose) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    EXPECT_TRUE(conn.can_send());
    conn.close(100, 1001, "going away");
    EXPECT_FALSE(conn.can_send());
    EXPECT_FALSE(conn.finished());
    EXPECT_FALSE(conn.send_text("late"));
    EXPECT_FALSE(conn.ping());
    conn.close(100, 1000);  // ignored: a close was sent
    EXPECT_EQ(decode(peer.output), (Strings{sent_close(1001, "going away")}));
    peer.output.clear();
    // Messages and pings that cross our close are read but neither delivered nor answered.
    std::string input = client_frame(Opcode::text, "crossing") + client_frame(Opcode::ping, "p") +
                        close_frame(1001);
    conn.feed(input.data(), input.size(), 200);
    EXPECT_TRUE(conn.finished());
    EXPECT_FALSE(conn.failed());
    EXPECT_EQ(peer.events, (Strings{"close:1001:"}));
    EXPECT_TRUE(peer.output.empty());
    EXPECT_EQ(conn.deadline_ms(), kNoDeadline);
}

TEST(Connection, CloseWithACodeThatMayNotBeSent) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    conn.close(0, close_code::abnormal, "ignored");
    EXPECT_EQ(decode(peer.output), (Strings{"8:"}));
}

TEST(Connection, CloseTimesOut) {
    Options options;
    options.close_timeout_ms = 500;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    conn.close(1000, close_code::normal);
    EXPECT_EQ(conn.deadline_ms(), 1500);
    conn.on_timer(1499);
    EXPECT_FALSE(conn.finished());
    // Input that is not a close does not extend the wait.
    std::string ping = client_frame(Opcode::ping, "");
    conn.feed(ping.data(), ping.size(), 1200);
    EXPECT_EQ(conn.deadline_ms(), 1500);
    conn.on_timer(1500);
    EXPECT_TRUE(conn.finished());
    EXPECT_EQ(peer.events, (Strings{"close:1006:close handshake timed out"}));
    EXPECT_EQ(decode(peer.output), (Strings{sent_close(1000)}));
}

TEST(Connection, KeepAlivePingAndPongTimeout) {
    Options options;
    options.ping_interval_ms = 1000;
    options.pong_timeout_ms = 300;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    EXPECT_EQ(conn.deadline_ms(), 1000);
    conn.on_timer(999);
    EXPECT_TRUE(peer.output.empty());
    // Activity moves the ping back.
    std::string message = client_frame(Opcode::text, "hi");
    conn.feed(message.data(), message.size(), 800);
    EXPECT_EQ(conn.deadline_ms(), 1800);
    conn.on_timer(1000);
    EXPECT_TRUE(peer.output.empty());
    conn.on_timer(1800);
    EXPECT_EQ(decode(peer.output), (Strings{"9:"}));
    EXPECT_EQ(conn.deadline_ms(), 2100);
    // The pong (or anything) answers it.
    std::string pong = client_frame(Opcode::pong, "");
    conn.feed(pong.data(), pong.size(), 1900);
    EXPECT_EQ(conn.deadline_ms(), 2900);
    conn.on_timer(2900);
    EXPECT_EQ(decode(peer.output), (Strings{"9:", "9:"}));
    conn.on_timer(3199);
    EXPECT_FALSE(conn.finished());
    conn.on_timer(3200);
    EXPECT_TRUE(conn.finished());
    EXPECT_EQ(peer.events, (Strings{"text:hi", "pong:", "close:1006:ping timed out"}));
    EXPECT_EQ(decode(peer.output), (Strings{"9:", "9:"}));  // no close frame to a dead peer
    EXPECT_EQ(conn.deadline_ms(), kNoDeadline);
}

TEST(Connection, NoPingIntervalNoDeadline) {
    Options options;
    options.ping_interval_ms = 0;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    EXPECT_EQ(conn.deadline_ms(), kNoDeadline);
    conn.on_timer(1'000'000'000);
    EXPECT_TRUE(peer.output.empty());
}

TEST(Connection, PeerGoneWithoutClose) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    conn.on_peer_closed();
    conn.on_peer_closed();
    EXPECT_EQ(peer.events, (Strings{"close:1006:connection closed without a close frame"}));
    EXPECT_TRUE(peer.output.empty());
    EXPECT_FALSE(conn.failed());
}

TEST(Connection, OnCloseIsReportedOnce) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    std::string input = close_frame(1000) + std::string("\x83\x80\1\2\3\4", 6);
    conn.feed(input.data(), input.size(), 1);
    conn.feed(input.data(), input.size(), 2);
    conn.on_peer_closed();
    conn.on_timer(1'000'000);
    conn.close(3);
    EXPECT_EQ(peer.closes, 1);
    EXPECT_EQ(decode(peer.output), (Strings{sent_close(1000)}));
}

TEST(Connection, HandlersMaySendAndCloseFromCallbacks) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    peer.on_message_hook = [&](std::string_view payload) {
        if (payload == "bye") {
            conn.close(5, 1000, "as asked");
        } else {
            conn.send_text(payload);
        }
    };
    std::string input = client_frame(Opcode::text, "echo me") + client_frame(Opcode::text, "bye") +
                        client_frame(Opcode::text, "not delivered") + close_frame(1000);
    conn.feed(input.data(), input.size(), 5);
    EXPECT_EQ(peer.events, (Strings{"text:echo me", "text:bye", "close:1000:"}));
    EXPECT_EQ(decode(peer.output), (Strings{"1:echo me", sent_close(1000, "as asked")}));
}

TEST(Connection, SendsUnmaskedAsAServer) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    EXPECT_TRUE(conn.send_text("Hello"));
    EXPECT_EQ(peer.output, std::string("\x81\x05Hello", 7));
    EXPECT_TRUE(conn.send_binary(std::string(256, 'b')));
    EXPECT_TRUE(conn.ping("p"));
    EXPECT_FALSE(conn.ping(std::string(126, 'p')));
    EXPECT_EQ(decode(peer.output), (Strings{"1:Hello", "2:" + std::string(256, 'b'), "9:p"}));
}

TEST(Connection, ClientMasksAndRefusesMaskedFrames) {
    Options options;
    options.role = Role::client;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    EXPECT_TRUE(conn.send_text("Hello"));
    EXPECT_TRUE(conn.send_binary(std::string(70000, 'b')));
    EXPECT_EQ(static_cast<unsigned char>(peer.output[1]) & 0x80, 0x80);
    EXPECT_EQ(decode(peer.output, Role::server),
              (Strings{"1:Hello", "2:" + std::string(70000, 'b')}));
    // The server's unmasked frames are what a client reads...
    std::string hello("\x81\x05Hello\x89\x01p", 10);
    peer.output.clear();
    conn.feed(hello.data(), hello.size(), 1);
    EXPECT_EQ(peer.events, (Strings{"text:Hello"}));
    EXPECT_EQ(decode(peer.output, Role::server), (Strings{"10:p"}));
    // ...and a masked one breaks the protocol.
    std::string masked = client_frame(Opcode::text, "x");
    conn.feed(masked.data(), masked.size(), 2);
    EXPECT_TRUE(conn.failed());
    EXPECT_EQ(peer.events.back(), "close:1002:server frame masked");
}

TEST(Connection, SplitIndependenceOverAMixedStream) {
    Options options;
    options.max_message_bytes = 5000;
    std::string input;
    for (int i = 0; i < 5; ++i) {
        input += client_frame(Opcode::text, "msg " + std::to_string(i) + " \xe2\x82", false);
        input += client_frame(Opcode::ping, std::to_string(i));
        input += client_frame(Opcode::continuation, "\xac" + std::string(i * 300, 'x'), true);
        input += client_frame(Opcode::binary, std::string(i * 1000, static_cast<char>(i)));
    }
    input += close_frame(3000, "done");
    Outcome r = run_every_way(options, input);
    EXPECT_EQ(r.events.size(), 11u);
    EXPECT_EQ(r.frames.size(), 6u);
    EXPECT_EQ(r.events.back(), "close:3000:done");
}

TEST(Connection, IdleConnectionsHoldNoBuffers) {
    Options options;
    Peer peer;
    Connection conn(options, peer, peer, 0);
    EXPECT_EQ(conn.buffered_bytes(), 0u);
    std::string first = client_frame(Opcode::binary, std::string(100'000, 'a'), false);
    std::string last = client_frame(Opcode::continuation, std::string(100'000, 'b'), true);
    conn.feed(first.data(), first.size(), 1);
    EXPECT_TRUE(conn.in_message());
    EXPECT_GE(conn.buffered_bytes(), 100'000u);
    conn.feed(last.data(), last.size(), 2);
    EXPECT_FALSE(conn.in_message());
    EXPECT_EQ(peer.events.size(), 1u);
    EXPECT_EQ(conn.buffered_bytes(), 0u);
    // The Connection itself stays small: it is all that 10,000 idle subscribers cost here.
    EXPECT_LE(sizeof(Connection), 256u);
}

}  // namespace
}  // namespace c10k::websocket::test
