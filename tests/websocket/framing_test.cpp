// Autobahn groups 1-4 written from RFC 6455 section 5: framing of every length encoding, ping
// and pong, reserved bits and reserved opcodes. Plus a check of the test client itself against
// the RFC's own examples, since every other test trusts it.

#include <random>
#include <string>

#include "websocket/ws_suite.hpp"

namespace c10k::test {
namespace {

// Lengths on either side of each length encoding (7-bit, 16-bit, 64-bit).
const std::size_t kBoundaryLengths[] = {0, 125, 126, 127, 128, 65535, 65536};

std::string text_of(std::size_t length) {
    std::string text(length, '\0');
    for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>('a' + i % 26);
    return text;
}

std::string binary_of(std::size_t length, unsigned seed = 7) {
    std::mt19937 random(seed);
    std::string bytes(length, '\0');
    for (auto& b : bytes) b = static_cast<char>(random());
    return bytes;
}

// ---- the client against RFC 6455's examples -----------------------------------------------

TEST(WsClientSelfCheck, AcceptOfTheRfcSampleKey) {
    // RFC 6455 section 1.3.
    EXPECT_EQ(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(ws_base64(ws_sha1("abc")), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    EXPECT_EQ(ws_base64(""), "");
    EXPECT_EQ(ws_base64("f"), "Zg==");
    EXPECT_EQ(ws_base64("fo"), "Zm8=");
}

TEST(WsClientSelfCheck, FramesOfRfcSection57) {
    WsFrameSpec unmasked;
    unmasked.payload = "Hello";
    unmasked.masked = false;
    EXPECT_EQ(ws_encode(unmasked), std::string("\x81\x05\x48\x65\x6c\x6c\x6f"));
    WsFrameSpec masked;
    masked.payload = "Hello";
    masked.mask_key = {0x37, 0xfa, 0x21, 0x3d};
    EXPECT_EQ(ws_encode(masked), std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
    WsFrameSpec ping;
    ping.opcode = ws_opcode::ping;
    ping.payload = "Hello";
    ping.masked = false;
    EXPECT_EQ(ws_encode(ping), std::string("\x89\x05\x48\x65\x6c\x6c\x6f"));
    WsFrameSpec big;
    big.opcode = ws_opcode::binary;
    big.masked = false;
    big.payload = std::string(256, 'x');
    EXPECT_EQ(ws_encode(big).substr(0, 4), std::string("\x82\x7e\x01\x00", 4));
    big.payload = std::string(65536, 'x');
    EXPECT_EQ(ws_encode(big).substr(0, 10), std::string("\x82\x7f\0\0\0\0\0\x01\0\0", 10));
}

TEST(WsClientSelfCheck, DeflateOfRfc7692Example) {
    // RFC 7692 section 7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00.
    WsInflater inflater(15, false);
    auto hello = inflater.inflate(std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7));
    ASSERT_TRUE(hello);
    EXPECT_EQ(*hello, "Hello");
    // With context takeover the second "Hello" refers back to the first (7.2.3.2).
    auto again = inflater.inflate(std::string("\xf2\x00\x11\x00\x00", 5));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, "Hello");
    WsDeflater deflater(15, false);
    WsInflater round_trip(15, false);
    for (std::string message : {std::string(), std::string("Hello"), binary_of(100000)}) {
        auto back = round_trip.inflate(deflater.compress(message));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, message);
    }
}

// ---- 1.x framing -------------------------------------------------------------------------

class Framing : public WsTest {};

TEST_P(Framing, TextOfEveryLengthEncodingIsEchoed) {
    auto client = open();
    for (std::size_t length : kBoundaryLengths) {
        SCOPED_TRACE("length " + std::to_string(length));
        ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, text_of(length)));
    }
}

TEST_P(Framing, BinaryOfEveryLengthEncodingIsEchoed) {
    auto client = open();
    for (std::size_t length : kBoundaryLengths) {
        SCOPED_TRACE("length " + std::to_string(length));
        ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::binary,
                                            binary_of(length, static_cast<unsigned>(length))));
    }
}

TEST_P(Framing, OneMebibyteTextAndBinaryAreEchoed) {
    auto client = open();
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, text_of(1 << 20)));
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::binary, binary_of(1 << 20)));
}

TEST_P(Framing, FramesSentOneBytePerWriteAreEchoed) {
    auto client = open();
    for (std::size_t length : {0, 1, 125, 126, 127, 128}) {
        SCOPED_TRACE("length " + std::to_string(length));
        std::string payload = text_of(length);
        // The header bytes go with a pause after each, so that the server meets every
        // partial header; the payload follows a byte per write.
        std::string wire = ws_encode(ws_opcode::text, payload);
        std::size_t header = length < 126 ? 6 : 8;
        ASSERT_TRUE(client->send_split(wire.substr(0, header), 1, 2));
        ASSERT_TRUE(client->send_split(wire.substr(header), 1));
        ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, payload));
    }
    std::string bytes = binary_of(70000);
    ASSERT_TRUE(client->send_split(ws_encode(ws_opcode::binary, bytes), 1));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::binary, bytes));
}

TEST_P(Framing, UnmaskedClientFrameFails1002) {
    // RFC 6455 5.1: a server MUST close the connection on an unmasked frame from a client.
    auto client = open();
    WsFrameSpec spec;
    spec.payload = "not masked";
    spec.masked = false;
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(Framing, LengthWithTheTopBitSetFails1002) {
    // RFC 6455 5.2: the most significant bit of a 64-bit length MUST be 0.
    auto client = open();
    WsFrameSpec spec;
    spec.opcode = ws_opcode::binary;
    spec.declared_length = std::uint64_t{1} << 63;
    ASSERT_TRUE(client->send_frame(spec));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

// ---- 2.x ping and pong -------------------------------------------------------------------

class PingPong : public WsTest {};

TEST_P(PingPong, EmptyPingIsAnsweredWithEmptyPong) {
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::ping, "")));
    auto pong = client->read_frame();
    ASSERT_TRUE(pong) << client->last_error();
    EXPECT_EQ(pong->opcode, ws_opcode::pong);
    EXPECT_TRUE(pong->fin);
    EXPECT_FALSE(pong->masked);
    EXPECT_EQ(pong->payload, "");
}

TEST_P(PingPong, PingOf125BytesIsAnsweredWithTheSamePayload) {
    auto client = open();
    std::string payload;
    for (int i = 0; i < 125; ++i) payload.push_back(static_cast<char>(i * 2 + 1));
    for (const std::string& ping : {std::string("Hello, server"), payload}) {
        ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::ping, ping)));
        auto pong = client->read_frame();
        ASSERT_TRUE(pong) << client->last_error();
        EXPECT_EQ(pong->opcode, ws_opcode::pong);
        EXPECT_EQ(pong->payload, ping) << hex(pong->payload);
    }
}

TEST_P(PingPong, PingOf126BytesFails1002) {
    // RFC 6455 5.5: control frames carry at most 125 bytes.
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::ping, std::string(126, 'p'))));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
    // A pong is a control frame too.
    client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::pong, std::string(126, 'p'))));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

TEST_P(PingPong, UnsolicitedPongIsIgnored) {
    // RFC 6455 5.5.3: an unsolicited pong needs no answer. The echo that follows is the next
    // thing the server sends.
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::pong, "unsolicited") +
                                 ws_encode(ws_opcode::pong, "")));
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::text, "after the pongs"));
}

TEST_P(PingPong, TenPingsInARowAreAllAnsweredInOrder) {
    auto client = open();
    std::string wire;
    for (int i = 0; i < 10; ++i) wire += ws_encode(ws_opcode::ping, "ping " + std::to_string(i));
    ASSERT_TRUE(client->send_raw(wire));
    for (int i = 0; i < 10; ++i) {
        auto pong = client->read_frame();
        ASSERT_TRUE(pong) << "pong " << i << ": " << client->last_error();
        EXPECT_EQ(pong->opcode, ws_opcode::pong);
        EXPECT_EQ(pong->payload, "ping " + std::to_string(i));
    }
}

TEST_P(PingPong, FragmentedPingFails1002) {
    // RFC 6455 5.5: control frames MUST NOT be fragmented.
    auto client = open();
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::ping, "frag", false) +
                                 ws_encode(ws_opcode::continuation, "ment")));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

// ---- 3.x reserved bits -------------------------------------------------------------------

class ReservedBits : public WsTest {};

/// Sends a valid text then a frame with a reserved bit; the echo of the first must arrive,
/// then the close with 1002.
void check_reserved_bit(WsClient& client, int bit, std::uint8_t opcode) {
    WsFrameSpec bad;
    bad.opcode = opcode;
    bad.payload = opcode == ws_opcode::close ? ws_close_payload(1000) : std::string("bad");
    bad.rsv1 = bit == 1;
    bad.rsv2 = bit == 2;
    bad.rsv3 = bit == 3;
    ASSERT_TRUE(client.send_raw(ws_encode(ws_opcode::text, "before") + ws_encode(bad)));
    ASSERT_NO_FATAL_FAILURE(expect_message(client, ws_opcode::text, "before"));
    ASSERT_NO_FATAL_FAILURE(expect_failure(client, 1002));
}

TEST_P(ReservedBits, ReservedBitOnDataFrameFails1002) {
    for (int bit = 1; bit <= 3; ++bit) {
        for (std::uint8_t opcode : {ws_opcode::text, ws_opcode::binary}) {
            SCOPED_TRACE("RSV" + std::to_string(bit) + " opcode " + std::to_string(opcode));
            auto client = open();
            ASSERT_NO_FATAL_FAILURE(check_reserved_bit(*client, bit, opcode));
        }
    }
}

TEST_P(ReservedBits, ReservedBitOnControlFrameFails1002) {
    for (int bit = 1; bit <= 3; ++bit) {
        for (std::uint8_t opcode : {ws_opcode::ping, ws_opcode::close}) {
            SCOPED_TRACE("RSV" + std::to_string(bit) + " opcode " + std::to_string(opcode));
            auto client = open();
            ASSERT_NO_FATAL_FAILURE(check_reserved_bit(*client, bit, opcode));
        }
    }
}

TEST_P(ReservedBits, ReservedBitSentByteByByteFails1002) {
    auto client = open();
    WsFrameSpec bad;
    bad.rsv2 = true;
    bad.payload = "slowly";
    ASSERT_TRUE(client->send_split(ws_encode(ws_opcode::text, "first"), 1, 1));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, "first"));
    client->send_split(ws_encode(bad), 1, 1);
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1002));
}

// ---- 4.x opcodes -------------------------------------------------------------------------

class Opcodes : public WsTest {};

void check_reserved_opcode(WsClient& client, std::uint8_t opcode, bool after_message) {
    WsFrameSpec bad;
    bad.opcode = opcode;
    bad.payload = "reserved";
    std::string wire = ws_encode(bad);
    if (after_message) wire = ws_encode(ws_opcode::text, "valid") + wire;
    ASSERT_TRUE(client.send_raw(wire));
    if (after_message) ASSERT_NO_FATAL_FAILURE(expect_message(client, ws_opcode::text, "valid"));
    ASSERT_NO_FATAL_FAILURE(expect_failure(client, 1002));
}

TEST_P(Opcodes, ReservedDataOpcodesFail1002) {
    for (std::uint8_t opcode = 3; opcode <= 7; ++opcode) {
        for (bool after : {false, true}) {
            SCOPED_TRACE("opcode " + std::to_string(opcode) + (after ? " after a message" : ""));
            auto client = open();
            ASSERT_NO_FATAL_FAILURE(check_reserved_opcode(*client, opcode, after));
        }
    }
}

TEST_P(Opcodes, ReservedControlOpcodesFail1002) {
    for (std::uint8_t opcode = 11; opcode <= 15; ++opcode) {
        for (bool after : {false, true}) {
            SCOPED_TRACE("opcode " + std::to_string(opcode) + (after ? " after a message" : ""));
            auto client = open();
            ASSERT_NO_FATAL_FAILURE(check_reserved_opcode(*client, opcode, after));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Engines, Framing, ::testing::ValuesIn(kWsEngines), ws_engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, PingPong, ::testing::ValuesIn(kWsEngines), ws_engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, ReservedBits, ::testing::ValuesIn(kWsEngines), ws_engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, Opcodes, ::testing::ValuesIn(kWsEngines), ws_engine_name);

}  // namespace
}  // namespace c10k::test
