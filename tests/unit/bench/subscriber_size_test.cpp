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
    // llhttp's own state (96 bytes on x86-64) and a few words: the wanted headers' text lives
    // in storage made for one head and freed at its end.
    EXPECT_LE(sizeof(PushResponseParser), sizeof(llhttp_t) + 32);
}

TEST(SubscriberSize, AnSseSubscriberCarriesNoLongPollOrWebSocketState) {
    // Its two parsers, the extra state's pointer, the loop's, ids and times, and packed flags.
    EXPECT_LE(sizeof(Subscriber), sizeof(PushResponseParser) + sizeof(SseParser) + 80);
    EXPECT_LE(sizeof(Subscriber), 256u);
}

}  // namespace
}  // namespace c10k::bench
