// Close codes and close payloads: the table of codes a peer may send, and the errors a bad close
// frame earns (1002 for its shape or code, 1007 for its reason).

#include <gtest/gtest.h>

#include <string>

#include "websocket/close_code.hpp"
#include "websocket/utf8.hpp"

namespace c10k::websocket {
namespace {

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string out;
    append_close_payload(out, code, reason);
    return out;
}

TEST(CloseCode, TheTableOfCodesAPeerMaySend) {
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                               1014, 3000, 3999, 4000, 4999}) {
        EXPECT_TRUE(is_valid_close_code(code)) << code;
    }
    // Autobahn 7.9.x's invalid codes, and the edges of each refused range.
    for (std::uint16_t code :
         {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        EXPECT_FALSE(is_valid_close_code(code)) << code;
    }
    int valid = 0;
    for (int code = 0; code < 65536; ++code) valid += is_valid_close_code(code);
    EXPECT_EQ(valid, 4 + 8 + 2000);  // 1000-1003, 1007-1014, 3000-4999
}

TEST(CloseCode, ParsesAValidPayload) {
    CloseFrame frame;
    std::string payload = close_payload(1000, "bye");
    EXPECT_EQ(payload, std::string("\x03\xe8", 2) + "bye");
    EXPECT_EQ(parse_close_payload(payload, frame), 0);
    EXPECT_EQ(frame.code, 1000);
    EXPECT_EQ(frame.reason, "bye");
    payload = close_payload(4321);
    EXPECT_EQ(parse_close_payload(payload, frame), 0);
    EXPECT_EQ(frame.code, 4321);
    EXPECT_EQ(frame.reason, "");
}

TEST(CloseCode, AnEmptyPayloadMeansNoStatus) {
    CloseFrame frame;
    frame.code = 1000;
    EXPECT_EQ(parse_close_payload("", frame), 0);
    EXPECT_EQ(frame.code, close_code::no_status);
}

TEST(CloseCode, BadPayloads) {
    CloseFrame frame;
    EXPECT_EQ(parse_close_payload(std::string("\x03", 1), frame), close_code::protocol_error);
    EXPECT_EQ(parse_close_payload(close_payload(1005), frame), close_code::protocol_error);
    EXPECT_EQ(parse_close_payload(close_payload(999, "x"), frame), close_code::protocol_error);
    EXPECT_EQ(parse_close_payload(close_payload(1000, "\xed\xa0\x80"), frame),
              close_code::invalid_payload);
    EXPECT_EQ(parse_close_payload(close_payload(1000, "cut \xe2\x82"), frame),
              close_code::invalid_payload);
}

TEST(CloseCode, ALongReasonIsCutAtACharacterBoundary) {
    std::string reason;
    for (int i = 0; i < 60; ++i) reason += "\xc3\xa9";  // 120 bytes of é
    reason += "abc\xe2\x82\xac";                        // 126 bytes: the euro sign straddles 123
    std::string payload = close_payload(1001, reason);
    EXPECT_EQ(payload.size(), 2u + 123);
    EXPECT_TRUE(is_valid_utf8(payload.substr(2)));
    reason = std::string(80, 'a') + std::string(40, 'b') + "\xc3\xa9\xc3\xa9";  // 124 bytes
    payload = close_payload(1001, reason);
    EXPECT_EQ(payload.size(), 2u + 122);  // the second é would end at byte 124
    CloseFrame frame;
    EXPECT_EQ(parse_close_payload(payload, frame), 0);
}

}  // namespace
}  // namespace c10k::websocket
