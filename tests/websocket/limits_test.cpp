// Autobahn group 9 written from RFC 6455 10.4 (limits an endpoint may set) and 7.4.1 (1009):
// a message over --ws-max-message is refused from its header, and large or numerous messages
// within the limits are echoed whole and in order.

#include <random>
#include <string>

#include "websocket/ws_suite.hpp"

namespace c10k::test {
namespace {

class Limits : public WsTest {};

// A small limit, so that the refusals need little traffic.
const std::vector<std::string> kSmallLimit = {"--ws-max-message", "65536"};

TEST_P(Limits, MessageOverTheLimitFails1009FromItsHeader) {
    for (std::uint8_t opcode : {ws_opcode::text, ws_opcode::binary}) {
        SCOPED_TRACE("opcode " + std::to_string(opcode));
        auto client = open(kSmallLimit);
        // The header announces one byte more than the limit; only 5 bytes follow.
        WsFrameSpec spec;
        spec.opcode = opcode;
        spec.payload = "start";
        spec.declared_length = 65537;
        ASSERT_TRUE(client->send_frame(spec));
        ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1009));
    }
    // A 64-bit length far beyond any limit.
    auto client = open(kSmallLimit);
    WsFrameSpec huge;
    huge.opcode = ws_opcode::binary;
    huge.declared_length = std::uint64_t{1} << 40;
    ASSERT_TRUE(client->send_frame(huge));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1009));
}

TEST_P(Limits, FragmentsThatAddUpOverTheLimitFail1009) {
    auto client = open(kSmallLimit);
    // 40,000 bytes arrive whole; the second fragment's header announces 30,000 more.
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::binary, std::string(40000, 'a'), false)));
    WsFrameSpec rest;
    rest.opcode = ws_opcode::continuation;
    rest.payload = "bbbb";
    rest.declared_length = 30000;
    ASSERT_TRUE(client->send_frame(rest));
    ASSERT_NO_FATAL_FAILURE(expect_failure(*client, 1009));
}

TEST_P(Limits, MessageOfExactlyTheLimitIsEchoed) {
    auto client = open(kSmallLimit);
    ASSERT_NO_FATAL_FAILURE(expect_echo(*client, ws_opcode::binary, std::string(65536, 'x')));
    ASSERT_TRUE(client->send_raw(ws_encode(ws_opcode::text, std::string(32768, 'y'), false) +
                                 ws_encode(ws_opcode::continuation, std::string(32768, 'z'))));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text,
                                           std::string(32768, 'y') + std::string(32768, 'z')));
}

TEST_P(Limits, SixtyFiveThousandOneByteFramesMakeOneMessage) {
    auto client = open();
    std::string message(65536, '\0');
    std::string wire;
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[i] = static_cast<char>('A' + i % 26);
        wire += ws_encode(i == 0 ? ws_opcode::text : ws_opcode::continuation, message.substr(i, 1),
                          i + 1 == message.size());
    }
    ASSERT_TRUE(client->send_raw(wire));
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, message));
}

TEST_P(Limits, ThousandPipelinedMessagesAreEchoedInOrder) {
    auto client = open();
    std::string wire;
    for (int i = 0; i < 1000; ++i) {
        wire +=
            ws_encode(i % 2 ? ws_opcode::binary : ws_opcode::text, "message " + std::to_string(i));
    }
    ASSERT_TRUE(client->send_raw(wire));
    for (int i = 0; i < 1000; ++i) {
        auto message = client->read_message(30000);
        ASSERT_TRUE(message) << "message " << i << ": " << client->last_error();
        EXPECT_EQ(message->opcode, i % 2 ? ws_opcode::binary : ws_opcode::text);
        ASSERT_EQ(message->payload, "message " + std::to_string(i));
    }
}

TEST_P(Limits, TenMebibyteMessagesPipelinedAreEchoedInOrder) {
    // More than the socket buffers hold both ways: the server must read, echo and wait for
    // room without losing or reordering anything.
    auto client = open();
    std::string wire;
    std::vector<std::string> messages;
    for (int i = 0; i < 10; ++i) {
        messages.push_back(std::string(1 << 20, static_cast<char>('a' + i)));
        wire += ws_encode(ws_opcode::text, messages.back());
    }
    ASSERT_TRUE(client->send_raw(wire)) << client->last_error();
    for (const auto& message : messages) {
        ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::text, message));
    }
}

TEST_P(Limits, SixteenMebibyteBinaryIsEchoed) {
    // The default limit is 16 MiB; a message of exactly that size is accepted.
    auto client = open();
    std::string bytes(16u << 20, '\0');
    std::mt19937 random(16);
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
        std::uint32_t word = random();
        for (int k = 0; k < 4; ++k) bytes[i + k] = static_cast<char>(word >> (8 * k));
    }
    ASSERT_TRUE(client->send_binary(bytes)) << client->last_error();
    ASSERT_NO_FATAL_FAILURE(expect_message(*client, ws_opcode::binary, bytes));
}

INSTANTIATE_TEST_SUITE_P(Engines, Limits, ::testing::ValuesIn(kWsEngines), ws_engine_name);

}  // namespace
}  // namespace c10k::test
