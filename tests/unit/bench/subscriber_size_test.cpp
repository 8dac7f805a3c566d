// What c10k bench keeps per push subscriber, in the object itself. A million-subscriber run
// holds a million Subscribers (see docs/MILLION.md), so a field added without thought costs a
// megabyte per byte; these bounds are where the shrinking left them, with the reason for each.

#include <gtest/gtest.h>

#include "bench/push_http.hpp"
#include "bench/push_loop.hpp"
#include "bench/sse_parser.hpp"

namespace c10k::bench {
namespace {

TEST(SubscriberSize, PushResponseParserKeepsHeaderTextApart) {
    // llhttp's own state (96 bytes on x86-64) and two words: the wanted headers' text lives in
    // storage made for one head and freed at its end, and the callbacks come with each feed().
    EXPECT_LE(sizeof(PushResponseParser), sizeof(llhttp_t) + 16);
}

TEST(SubscriberSize, AnSseSubscriberCarriesNoLongPollOrWebSocketState) {
    // Its two parsers, the extra state's pointer, ids and times, and packed flags: 232 bytes on
    // x86-64 (736 before long-poll and WebSocket state moved out).
    EXPECT_LE(sizeof(Subscriber), sizeof(PushResponseParser) + sizeof(SseParser) + 72);
    EXPECT_LE(sizeof(Subscriber), 232u);
}

}  // namespace
}  // namespace c10k::bench
