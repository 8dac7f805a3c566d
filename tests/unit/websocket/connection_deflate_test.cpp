// websocket::Connection with permessage-deflate: RFC 7692's examples byte for byte, compressed
// messages in every split, zip bombs, broken compressed data, what is sent compressed, memory
// made only on use, and a client and a server talking to each other.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "unit/websocket/connection_peer.hpp"

namespace c10k::websocket::test {
namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

/// A client's compressed message as one frame, from a Deflater shared across messages.
std::string compressed_frame(Deflater& deflater, Opcode opcode, std::string_view message) {
    std::string compressed;
    EXPECT_TRUE(deflater.compress(message, compressed));
    return client_frame(opcode, compressed, true, true);
}

Options client_options() {
    Options options;
    options.role = Role::client;
    return options;
}

TEST(ConnectionDeflate, RfcHelloExamples) {
    Options client = client_options();
    DeflateParams params;
    // Section 7.2.3.1: one compressed frame, then the same message in two fragments.
    std::string single = bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
    std::string fragmented =
        bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00});
    // Section 7.2.3.2: the second message refers back to the first through the window.
    std::string shared = bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
    // Section 7.2.3.3: a stored (uncompressed) DEFLATE block.
    std::string stored =
        bytes({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00});
    // Section 7.2.3.4: a block with BFINAL set.
    std::string final_block = bytes({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
    Outcome r = run_every_way(client, single + fragmented + stored + final_block, params);
    EXPECT_EQ(r.events, (Strings{"text:Hello", "text:Hello", "text:Hello", "text:Hello"}));
    EXPECT_FALSE(r.finished);
    r = run_every_way(client, single + shared, params);
    EXPECT_EQ(r.events, (Strings{"text:Hello", "text:Hello"}));
    // Without a negotiated extension, the same bytes break the protocol.
    r = run_every_way(client, single);
    EXPECT_EQ(r.events, (Strings{"close:1002:reserved bits set"}));
}

TEST(ConnectionDeflate, CompressedMessagesInEverySplit) {
    Options options;
    for (bool no_takeover : {false, true}) {
        DeflateParams params;
        params.client_no_context_takeover = no_takeover;
        params.client_max_window_bits = 10;
        Deflater deflater(10, no_takeover);
        std::string input;
        Strings expected;
        for (int i = 0; i < 6; ++i) {
            std::string text = "message " + std::to_string(i) + " \xce\xba\xe1\xbd\xb9 " +
                               std::string(i * 200, 'a' + i);
            input += compressed_frame(deflater, Opcode::text, text);
            expected.push_back("text:" + text);
            input += client_frame(Opcode::binary, "plain");  // uncompressed messages mix in
            expected.push_back("binary:plain");
        }
        // A compressed message in fragments, with a ping between them.
        std::string compressed;
        ASSERT_TRUE(deflater.compress(std::string(3000, 'q'), compressed));
        input += client_frame(Opcode::binary, compressed.substr(0, 5), false, true);
        input += client_frame(Opcode::ping, "between");
        input += client_frame(Opcode::continuation, compressed.substr(5), true);
        expected.push_back("binary:" + std::string(3000, 'q'));
        Outcome r = run_every_way(options, input, params);
        EXPECT_EQ(r.events, expected) << no_takeover;
        EXPECT_EQ(r.frames, (Strings{"10:between"}));
    }
}

TEST(ConnectionDeflate, RsvOnAContinuationIsAProtocolError) {
    Options options;
    DeflateParams params;
    Outcome r = run_every_way(options,
                              client_frame(Opcode::text, "", false, true) +
                                  client_frame(Opcode::continuation, "", true, true),
                              params);
    EXPECT_EQ(r.events, (Strings{"close:1002:reserved bits set"}));
}

TEST(ConnectionDeflate, AZipBombIsTooBig) {
    Options options;
    options.max_message_bytes = 1 << 20;
    DeflateParams params;
    Deflater deflater(15, false);
    std::string bomb;
    ASSERT_TRUE(deflater.compress(std::string(64 << 20, '\0'), bomb));
    ASSERT_LT(bomb.size(), 100'000u);  // 64 MiB of zeros in under 100 KB
    Peer peer;
    Connection conn(options, peer, peer, 0, params);
    std::string frame = client_frame(Opcode::binary, bomb, true, true);
    conn.feed(frame.data(), frame.size(), 1);
    EXPECT_EQ(peer.events, (Strings{"close:1009:message too big"}));
    EXPECT_EQ(decode(peer.output), (Strings{sent_close(1009, "message too big")}));
    EXPECT_EQ(conn.buffered_bytes(), 0u);
    // Exactly at the limit is fine.
    Deflater exact(15, false);
    Outcome r = run(options, compressed_frame(exact, Opcode::binary, std::string(1 << 20, '\0')), 0,
                    params);
    EXPECT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].size(), 7u + (1 << 20));
}

TEST(ConnectionDeflate, BadCompressedDataAndBadInflatedText) {
    Options options;
    DeflateParams params;
    // BTYPE 11 is reserved in DEFLATE.
    Outcome r =
        run_every_way(options, client_frame(Opcode::binary, "\xff\xff\xff", true, true), params);
    EXPECT_EQ(r.events, (Strings{"close:1007:invalid compressed data"}));
    EXPECT_TRUE(r.failed);
    Deflater deflater(15, false);
    r = run_every_way(
        options, compressed_frame(deflater, Opcode::text, "valid, then \xed\xa0\x80 bad"), params);
    EXPECT_EQ(r.events, (Strings{"close:1007:invalid UTF-8 in a text message"}));
    Deflater again(15, false);
    r = run_every_way(options, compressed_frame(again, Opcode::text, "cut \xe2\x82"), params);
    EXPECT_EQ(r.events, (Strings{"close:1007:text message ends inside a character"}));
}

TEST(ConnectionDeflate, BadTextBeforeTheLimitIsReportedWhateverTheSplit) {
    // Inflated in one go, the output runs past the limit in the same step that holds the bad
    // byte; in pieces, the bad byte comes first. Both must say 1007.
    Options options;
    options.max_message_bytes = 1000;
    DeflateParams params;
    Deflater deflater(15, false);
    Outcome r = run_every_way(
        options, compressed_frame(deflater, Opcode::text, "bad \xff" + std::string(5000, 'a')),
        params);
    EXPECT_EQ(r.events, (Strings{"close:1007:invalid UTF-8 in a text message"}));
}

/// Inflates the payloads of compressed frames ("1z:..."), as the peer would.
Strings inflate_frames(const Strings& frames, int window_bits, bool no_takeover) {
    Inflater inflater(window_bits, no_takeover);
    Strings out;
    for (const std::string& frame : frames) {
        std::size_t colon = frame.find(':');
        if (frame[colon - 1] != 'z') {
            out.push_back(frame);
            continue;
        }
        std::string message;
        EXPECT_EQ(
            inflater.feed(frame.data() + colon + 1, frame.size() - colon - 1, message, 1 << 30),
            Inflater::Status::ok);
        EXPECT_EQ(inflater.finish(message, 1 << 30), Inflater::Status::ok);
        out.push_back(frame.substr(0, colon - 1) + ":" + message);
    }
    return out;
}

TEST(ConnectionDeflate, SendsLargeMessagesCompressed) {
    Options options;
    DeflateParams params;
    params.server_max_window_bits = 11;
    Peer peer;
    Connection conn(options, peer, peer, 0, params);
    EXPECT_EQ(conn.compression_bytes(), 0u);  // nothing made before it is needed
    ASSERT_NE(conn.deflate_params(), nullptr);
    EXPECT_EQ(conn.deflate_params()->server_max_window_bits, 11);
    std::string big(2000, 'x');
    EXPECT_TRUE(conn.send_text(big));
    EXPECT_TRUE(conn.send_text("tiny"));  // below compress_min_bytes
    EXPECT_TRUE(conn.send_binary(big));   // refers to the first through the window
    EXPECT_GT(conn.compression_bytes(), 0u);
    Strings frames = decode(peer.output);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].substr(0, 3), "1z:");
    EXPECT_LT(frames[0].size(), 100u);
    EXPECT_EQ(frames[1], "1:tiny");
    EXPECT_EQ(frames[2].substr(0, 3), "2z:");
    EXPECT_EQ(inflate_frames(frames, 11, false), (Strings{"1:" + big, "1:tiny", "2:" + big}));
}

TEST(ConnectionDeflate, IncompressibleMessagesGoPlainWithoutContextTakeover) {
    Options options;
    DeflateParams params;
    params.server_no_context_takeover = true;
    Peer peer;
    Connection conn(options, peer, peer, 0, params);
    std::mt19937 random(42);
    std::string noise(1000, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    EXPECT_TRUE(conn.send_binary(noise));
    EXPECT_TRUE(conn.send_binary(std::string(1000, 'z')));
    Strings frames = decode(peer.output);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0], "2:" + noise);
    EXPECT_EQ(frames[1].substr(0, 3), "2z:");
    EXPECT_EQ(inflate_frames(frames, 15, true)[1], "2:" + std::string(1000, 'z'));
    // Nothing carries over between messages, so no compressor is kept between them.
    EXPECT_EQ(conn.compression_bytes(), 0u);
}

TEST(ConnectionDeflate, UncompressedTrafficMakesNoZlibStream) {
    Options options;
    DeflateParams params;
    Peer peer;
    Connection conn(options, peer, peer, 0, params);
    std::string input = client_frame(Opcode::text, std::string(5000, 'a'));
    conn.feed(input.data(), input.size(), 1);
    conn.send_text("short");
    EXPECT_EQ(peer.events.size(), 1u);
    EXPECT_EQ(conn.compression_bytes(), 0u);
    EXPECT_EQ(conn.buffered_bytes(), 0u);
}

/// Two connections wired back to back: what one writes, the other is fed.
class Wire : public ConnectionOutput {
public:
    void write(std::string frames) override { pending += frames; }
    std::string pending;
};

class Recorder : public ConnectionHandler {
public:
    void on_message(MessageType type, std::string_view payload) override {
        messages.emplace_back(payload);
    }
    void on_close(std::uint16_t code, std::string_view reason) override { close_code = code; }
    Strings messages;
    int close_code = 0;
};

TEST(ConnectionDeflate, ClientAndServerTalk) {
    Options server_options;
    Options client = client_options();
    DeflateParams params;
    params.client_no_context_takeover = true;
    params.client_max_window_bits = 9;
    params.server_max_window_bits = 12;
    Wire to_client, to_server;
    Recorder server_events, client_events;
    Connection server(server_options, server_events, to_client, 0, params);
    Connection client_conn(client, client_events, to_server, 0, params);
    std::mt19937 random(7);
    Strings sent;
    for (int i = 0; i < 60; ++i) {
        std::string message = "{\"seq\":" + std::to_string(i) + ",\"data\":\"";
        message += std::string(random() % 3000, static_cast<char>('a' + i % 26));
        message += "\"}";
        sent.push_back(message);
        ASSERT_TRUE(client_conn.send_text(message));
        ASSERT_TRUE(server.send_text(message));
        // Deliver in uneven pieces.
        for (auto [wire, conn] : {std::pair{&to_server, &server}, {&to_client, &client_conn}}) {
            std::size_t at = 0;
            while (at < wire->pending.size()) {
                std::size_t n =
                    std::min<std::size_t>(1 + random() % 700, wire->pending.size() - at);
                conn->feed(wire->pending.data() + at, n, i);
                at += n;
            }
            wire->pending.clear();
        }
    }
    EXPECT_EQ(server_events.messages, sent);
    EXPECT_EQ(client_events.messages, sent);
    // The client closes; the server echoes; both end cleanly.
    client_conn.close(100, 1000);
    server.feed(to_server.pending.data(), to_server.pending.size(), 100);
    client_conn.feed(to_client.pending.data(), to_client.pending.size(), 100);
    EXPECT_TRUE(server.finished());
    EXPECT_TRUE(client_conn.finished());
    EXPECT_EQ(server_events.close_code, 1000);
    EXPECT_EQ(client_events.close_code, 1000);
    EXPECT_FALSE(server.failed() || client_conn.failed());
}

}  // namespace
}  // namespace c10k::websocket::test
