// Autobahn groups 5-7 written from RFC 6455: fragmentation (5.4), UTF-8 in text messages
// (5.6, 8.1) and the closing handshake (5.5.1, 7).

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "websocket/ws_suite.hpp"

namespace c10k::test {
namespace {

using namespace std::string_literals;

// ---- 5.x fragmentation -------------------------------------------------------------------

class Fragmentation : public WsTest {};

/// The frames of `message` in `count` fragments of `opcode`, each frame's wire bytes.
std::vector<std::string> fragment_frames(std::uint8_t opcode, const std::string& message,
                                         std::size_t count) {
    std::vector<std::string> frames;
    std::size_t piece = (message.size() + count - 1) / count;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t at = std::min(i * piece, message.size());
        frames.push_back(ws_encode(i == 0 ? opcode : ws_opcode::continuation,
                                   message.substr(at, piece), i + 1 == count));
    }
    return frames;
}

/// The same, joined for one write.
std::string fragments(std::uint8_t opcode, const std::string& message, std::size_t count) {
    std::string wire;
    for (const auto& frame : fragment_frames(opcode, message, count)) wire += frame;
    return wire;
}

TEST_P(Fragmentation, TextInTwoFragmentsIsEchoedAsOneMessage) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(fragments(ws_opcode::text, "fragment one, fragment two", 2)));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "fragment one, fragment two"));
    ASSERT_TRUE(client->send_raw(fragments(ws_opcode::binary, "\x01\x02\x03\x04"s, 2)));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::binary, "\x01\x02\x03\x04"s));
}

TEST_P(Fragmentation, TextInManyFragmentsSentSeparatelyIsEchoed) {
    auto client = open();
    std::string message;
    for (int i = 0; i < 100; ++i) message += "part" + std::to_string(i) + ";";
    // One fragment per write, pausing, so that the server sees them arrive one by one.
    for (const auto& frame : fragment_frames(ws_opcode::text, message, 20)) {
        ASSERT_TRUE(client->send_raw(frame));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, message));
    // One-byte fragments, all in one write.
    ASSERT_TRUE(client->send_raw(fragments(ws_opcode::text, "one byte each", 13)));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "one byte each"));
}

TEST_P(Fragmentation, PingBetweenFragmentsIsAnsweredBeforeTheEcho) {
    // RFC 6455 5.4: control frames may be injected in the middle of a fragmented message, and
    // the answer to a ping is sent as soon as practical.
    auto client = open();
    std::string wire =
        ws_encode(ws_opcode::text, "frag-1 ", false) + ws_encode(ws_opcode::ping, "ping-a") +
        ws_encode(ws_opcode::continuation, "frag-2 ", false) +
        ws_encode(ws_opcode::ping, "ping-b") + ws_encode(ws_opcode::continuation, "frag-3");
    ASSERT_TRUE(client->send_raw(wire));
    for (const char* ping : {"ping-a", "ping-b"}) {
        auto frame = client->read_frame();
        ASSERT_TRUE(frame) << client->last_error();
        EXPECT_EQ(frame->opcode, ws_opcode::pong) << "the echo came before the pong";
        EXPECT_EQ(frame->payload, ping);
    }
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "frag-1 frag-2 frag-3"));
}

TEST_P(Fragmentation, PingBetweenFragmentsSentSeparatelyIsAnsweredAtOnce) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "first half ", false)));
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::ping, "in the middle")));
    // The pong comes while the message is still open.
    auto pong = client->read_frame();
    ASSERT_TRUE(pong) << client->last_error();
    EXPECT_EQ(pong->opcode, ws_opcode::pong);
    EXPECT_EQ(pong->payload, "in the middle");
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::continuation, "second half")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "first half second half"));
}

TEST_P(Fragmentation, ContinuationWithNoMessageInProgressFails1002) {
    for (bool fin : {true, false}) {
        SCOPED_TRACE(fin ? "FIN set" : "FIN clear");
        auto client = open();
        ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::continuation, "orphan", fin)));
        ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
    }
    // Also right after a complete message.
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "whole") +
                                 ws_encode(ws_opcode::continuation, "orphan")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "whole"));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Fragmentation, NewDataFrameWhileAMessageIsOpenFails1002) {
    for (std::uint8_t opcode : {ws_opcode::text, ws_opcode::binary}) {
        SCOPED_TRACE("opcode " + std::to_string(opcode));
        auto client = open();
        ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "open ", false) +
                                     ws_encode(opcode, "interloper")));
        ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
    }
}

TEST_P(Fragmentation, ControlFrameWithFinClearFails1002) {
    for (std::uint8_t opcode : {ws_opcode::pong, ws_opcode::close}) {
        SCOPED_TRACE("opcode " + std::to_string(opcode));
        auto client = open();
        std::string payload = opcode == ws_opcode::close ? ws_close_payload(1000) : "x";
        ASSERT_TRUE(client->send_raw(ws_encode(opcode, payload, false)));
        ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
    }
}

TEST_P(Fragmentation, EmptyFragmentsAreAccepted) {
    auto client = open();
    // Empty first, middle and last fragments around real content.
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "", false) +
                                 ws_encode(ws_opcode::continuation, "middle", false) +
                                 ws_encode(ws_opcode::continuation, "", false) +
                                 ws_encode(ws_opcode::continuation, "")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "middle"));
    // A message made only of empty fragments is an empty message.
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::binary, "", false) +
                                 ws_encode(ws_opcode::continuation, "", false) +
                                 ws_encode(ws_opcode::continuation, "")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::binary, ""));
}

// ---- 6.x UTF-8 ---------------------------------------------------------------------------

class Utf8 : public WsTest {};

TEST_P(Utf8, ValidMultiByteTextIsEchoed) {
    auto client = open();
    const std::vector<std::string> texts = {
        "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",  // "kosme" in Greek, 2- and 3-byte
        "\xc2\x80\xdf\xbf",                              // U+0080, U+07FF (2-byte bounds)
        "\xe0\xa0\x80\xef\xbf\xbf",                      // U+0800, U+FFFF (3-byte bounds)
        "\xed\x9f\xbf\xee\x80\x80",                      // U+D7FF, U+E000 (around surrogates)
        "\xf0\x90\x80\x80",                              // U+10000 (4-byte low bound)
        "\xf4\x8f\xbf\xbf",                              // U+10FFFF, the highest code point
        "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
        "\xf0\x9f\x98\x80 smile",
    };
    for (const auto& text : texts) {
        SCOPED_TRACE(hex(text));
        ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, text));
        // The same text one byte per write, so that every sequence is split.
        ASSERT_TRUE(client->send_split(ws_encode(ws_opcode::text, text), 1));
        ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, text));
    }
}

TEST_P(Utf8, ValidSequenceSplitAcrossFragmentsIsEchoed) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "\xf0\x9f", false) +
                                 ws_encode(ws_opcode::continuation, "\x98", false) +
                                 ws_encode(ws_opcode::continuation, "\x80")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "\xf0\x9f\x98\x80"));
    // With a ping between the halves of the sequence.
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "\xe2\x82", false) +
                                 ws_encode(ws_opcode::ping, "\xff") +
                                 ws_encode(ws_opcode::continuation, "\xac")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "\xe2\x82\xac"));
}

/// Sends `text` as one text frame and expects 1007.
void expect_invalid_text(std::unique_ptr<WsClient> client, const std::string& text) {
    SCOPED_TRACE(hex(text));
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, text)));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
}

TEST_P(Utf8, OverlongEncodingsFail1007) {
    for (const std::string text : {"\xc0\x80"s, "\xc1\xbf"s, "\xe0\x80\x80"s, "\xe0\x9f\xbf"s,
                                   "\xf0\x80\x80\x80"s, "\xf0\x8f\xbf\xbf"s, "ok\xc0\xafok"s}) {
        ASSERT_NO_FATAL_FAILURE(expect_invalid_text(open(), text));
    }
}

TEST_P(Utf8, SurrogatesFail1007) {
    for (const std::string text : {"\xed\xa0\x80"s, "\xed\xad\xbf"s, "\xed\xb0\x80"s,
                                   "\xed\xbf\xbf"s, "\xed\xa0\x80\xed\xb0\x80"s}) {
        ASSERT_NO_FATAL_FAILURE(expect_invalid_text(open(), text));
    }
}

TEST_P(Utf8, CodePointsAboveTheMaximumFail1007) {
    for (const std::string text :
         {"\xf4\x90\x80\x80"s, "\xf5\x80\x80\x80"s, "\xf7\xbf\xbf\xbf"s, "\xf8\x88\x80\x80\x80"s,
          "\xfc\x84\x80\x80\x80\x80"s, "\xfe"s, "\xff"s}) {
        ASSERT_NO_FATAL_FAILURE(expect_invalid_text(open(), text));
    }
}

TEST_P(Utf8, LoneContinuationBytesFail1007) {
    for (const std::string text : {"\x80"s, "\xbf"s, "a\x80z"s, "\xc2\x80\x80"s}) {
        ASSERT_NO_FATAL_FAILURE(expect_invalid_text(open(), text));
    }
}

TEST_P(Utf8, SequenceTruncatedAtTheEndFails1007) {
    for (const std::string text : {"\xc2"s, "\xe2\x82"s, "\xf0\x9f\x98"s, "abc\xe2"s}) {
        ASSERT_NO_FATAL_FAILURE(expect_invalid_text(open(), text));
    }
}

TEST_P(Utf8, InvalidSequenceSplitAcrossFragmentsFails1007) {
    // Each fragment alone could begin or end a valid sequence; together they are a surrogate.
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "ok \xed", false) +
                                 ws_encode(ws_opcode::continuation, "\xa0\x80")));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
    // And a message whose last fragment ends inside a sequence.
    client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "ok ", false) +
                                 ws_encode(ws_opcode::continuation, "\xf0\x9f")));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
}

TEST_P(Utf8, InvalidBytesFailBeforeTheFrameEnds) {
    // Fail fast (RFC 6455 8.1 lets an endpoint fail as soon as the text cannot be valid): the
    // header announces 1000 bytes, only 10 are sent, and the close must come without the rest.
    auto client = open();
    WsFrameSpec spec;
    spec.payload = "hello\xed\xa0\x80zz";
    spec.declared_length = 1000;
    ASSERT_EQ(spec.payload.size(), 10u);
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
    // Likewise in the first fragment of a message that has not ended.
    client = open();
    ASSERT_TRUE(
        client->send_raw(ws_encode(ws_opcode::text, "\xce\xba\xe1\xbd\xb9\xf4\x90", false)));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
}

TEST_P(Utf8, InvalidUtf8InBinaryMessagesIsEchoed) {
    auto client = open();
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::binary, "\xed\xa0\x80\xff\xc0\x80"s));
}

// ---- 7.x close ---------------------------------------------------------------------------

class Close : public WsTest {};

TEST_P(Close, CloseWithoutPayloadIsAnsweredAndTheTcpConnectionClosed) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::close, "")));
    auto close = client->read_close();
    ASSERT_TRUE(close) << client->last_error();
    // RFC 6455 5.5.1 leaves it to the server: an empty close or one with 1000.
    if (close->has_code) {
        EXPECT_EQ(close->code, 1000) << close->reason;
    } else {
        EXPECT_EQ(close->payload_size, 0u);
    }
    RecordProperty("close_answer", close->has_code ? "1000" : "empty");
    std::cout << "[ note ] the server answers an empty close with "
              << (close->has_code ? "code 1000" : "an empty close") << "\n";
    EXPECT_TRUE(client->wait_tcp_closed()) << "TCP left open after the close handshake";
}

TEST_P(Close, EveryValidCodeIsEchoed) {
    for (std::uint16_t code :
         {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
        SCOPED_TRACE("code " + std::to_string(code));
        auto client = open();
        ASSERT_TRUE(client->send_close(code, "bye"));
        ASSERT_NO_FATAL_FAILURE(expect_close(*client, code));
    }
}

TEST_P(Close, InvalidCodesFail1002) {
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535}) {
        SCOPED_TRACE("code " + std::to_string(code));
        auto client = open();
        ASSERT_TRUE(client->send_close(code));
        ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
    }
}

TEST_P(Close, OneBytePayloadFails1002) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::close, "\x03")));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Close, ReasonWithInvalidUtf8Fails1007) {
    auto client = open();
    ASSERT_TRUE(client->send_close(1000, "bad \xed\xa0\x80 reason"));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1007));
}

TEST_P(Close, ReasonOf123BytesIsAccepted) {
    auto client = open();
    ASSERT_TRUE(client->send_close(1000, std::string(123, 'r')));
    ASSERT_NO_FATAL_FAILURE(expect_close(*client, 1000));
}

TEST_P(Close, PayloadOf126BytesFails1002) {
    auto client = open();
    ASSERT_TRUE(client->send_close(1000, std::string(124, 'r')));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Close, DataAfterTheCloseFrameIsIgnored) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(
        ws_encode(ws_opcode::text, "before") + ws_encode(ws_opcode::close, ws_close_payload(1000)) +
        ws_encode(ws_opcode::text, "after") + ws_encode(ws_opcode::ping, "after")));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "before"));
    auto close = client->read_close();
    ASSERT_TRUE(close) << client->last_error();
    EXPECT_EQ(close->code, 1000);
    EXPECT_TRUE(client->skipped().empty()) << "echoed a message sent after the close";
    EXPECT_TRUE(client->controls().empty()) << "answered a ping sent after the close";
    EXPECT_TRUE(client->wait_tcp_closed());
}

TEST_P(Close, CloseSentInPiecesIsAnswered) {
    auto client = open();
    ASSERT_TRUE(
        client->send_split(ws_encode(ws_opcode::close, ws_close_payload(1000, "done")), 1, 1));
    ASSERT_NO_FATAL_FAILURE(expect_close(*client, 1000));
}

TEST_P(Close, MessageBeforeTheCloseIsEchoedBeforeTheAnswer) {
    // The echo of a large message received before the close goes out whole, then the close.
    auto client = open();
    std::string message(1 << 20, 'm');
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, message) +
                                 ws_encode(ws_opcode::close, ws_close_payload(1000))));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, message));
    ASSERT_NO_FATAL_FAILURE(expect_close(*client, 1000));
}

TEST_P(Close, CloseBetweenFragmentsIsAnswered) {
    // A control frame may come inside a fragmented message (RFC 6455 5.4); a close there ends
    // the connection and the unfinished message is dropped.
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, "never finished", false) +
                                 ws_encode(ws_opcode::close, ws_close_payload(1000))));
    ASSERT_NO_FATAL_FAILURE(expect_close(*client, 1000));
    EXPECT_TRUE(client->skipped().empty()) << "an unfinished message was echoed";
}

INSTANTIATE_TEST_SUITE_P(Engines, Fragmentation, ::testing::ValuesIn(kWsEngines), ws_engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, Utf8, ::testing::ValuesIn(kWsEngines), ws_engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, Close, ::testing::ValuesIn(kWsEngines), ws_engine_name);

}  // namespace
}  // namespace c10k::test
