// The backplane's packed ids (stream id "MS-SEQ" <-> MS * 1'000'000 + SEQ) and its Pub/Sub
// payload codec, without a server.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "push/stream_store.hpp"

namespace c10k::push {
namespace {

using namespace std::literals;

TEST(StreamStoreIds, ParsesAStreamIdIntoOneNumber) {
    EXPECT_EQ(parse_stream_id("1764500000000-3"), 1764500000000000003u);
    EXPECT_EQ(parse_stream_id("1764500000000-0"), 1764500000000000000u);
    EXPECT_EQ(parse_stream_id("1764500000000-999999"), 1764500000000999999u);
    EXPECT_EQ(parse_stream_id("0-0"), 0u);
    EXPECT_EQ(parse_stream_id("0-1"), 1u);
    EXPECT_EQ(parse_stream_id("1-0"), 1'000'000u);
    // The largest that fits: 18446744073709 * 10^6 + 551615 = 2^64 - 1.
    EXPECT_EQ(parse_stream_id("18446744073709-551615"), UINT64_MAX);
}

TEST(StreamStoreIds, RejectsWhatIsNotAPackableStreamId) {
    for (std::string_view bad : {""sv,
                                 "-"sv,
                                 "1"sv,
                                 "1-"sv,
                                 "-1"sv,
                                 "1-2-3"sv,
                                 "1--2"sv,
                                 "a-1"sv,
                                 "1-b"sv,
                                 " 1-2"sv,
                                 "1-2 "sv,
                                 "+1-2"sv,
                                 "1-+2"sv,
                                 "1-1000000"sv,
                                 "1-9999999"sv,
                                 "18446744073709-551616"sv,
                                 "18446744073710-0"sv,
                                 "99999999999999999999-0"sv,
                                 "1-99999999999999999999"sv,
                                 "1\0-2"sv,
                                 "0x10-1"sv}) {
        EXPECT_EQ(parse_stream_id(bad), std::nullopt) << bad;
    }
}

TEST(StreamStoreIds, FormatsTheInverse) {
    EXPECT_EQ(format_stream_id(0), "0-0");
    EXPECT_EQ(format_stream_id(1764500000000000003u), "1764500000000-3");
    EXPECT_EQ(format_stream_id(1764500000000999999u), "1764500000000-999999");
    EXPECT_EQ(format_stream_id(UINT64_MAX), "18446744073709-551615");
    for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{999'999},
                             std::uint64_t{1'000'000}, std::uint64_t{1764500000000000003u},
                             std::uint64_t{1764500000123456789u}, UINT64_MAX - 1, UINT64_MAX}) {
        EXPECT_EQ(parse_stream_id(format_stream_id(id)), id) << id;
    }
    for (std::string_view text : {"0-0"sv, "1-0"sv, "1764500000000-42"sv, "5-999999"sv}) {
        std::optional<std::uint64_t> id = parse_stream_id(text);
        ASSERT_TRUE(id) << text;
        EXPECT_EQ(format_stream_id(*id), text);
    }
}

Message message(std::uint64_t id, std::uint64_t prev, std::string event, std::string data,
                std::string content_type) {
    Message m;
    m.id = id;
    m.prev_id = prev;
    m.event = std::move(event);
    m.data = std::move(data);
    m.content_type = std::move(content_type);
    m.published_ms = static_cast<std::int64_t>(id / 1'000'000);
    return m;
}

void expect_round_trip(const Message& sent) {
    std::string payload = encode_message_payload(sent);
    std::optional<StreamNotice> got = decode_payload(payload);
    ASSERT_TRUE(got) << payload;
    EXPECT_EQ(got->kind, StreamNotice::Kind::message);
    EXPECT_EQ(got->message.id, sent.id);
    EXPECT_EQ(got->message.prev_id, sent.prev_id);
    EXPECT_EQ(got->message.event, sent.event);
    EXPECT_EQ(got->message.data, sent.data);
    EXPECT_EQ(got->message.content_type, sent.content_type);
    EXPECT_EQ(got->message.published_ms, sent.published_ms);
}

TEST(StreamStorePayload, MessagesRoundTripWhateverTheirData) {
    expect_round_trip(
        message(1764500000000000003u, 1764500000000000002u, "score", "1-0", "text/plain"));
    expect_round_trip(message(1764500000000000000u, 0, "", "", ""));
    expect_round_trip(message(1764500000001000000u, 1764500000000999999u, "e",
                              "line one\nline two\n\n\r\n", "application/json"));
    expect_round_trip(message(7'000'001, 7'000'000, "bin", "\0\n\0M 1-2 0-0\nD\xff"s,
                              "application/octet-stream"));
    std::string every_byte;
    for (int byte = 0; byte < 256; ++byte) every_byte += static_cast<char>(byte);
    expect_round_trip(message(2'000'000, 1'999'999, "all", every_byte + every_byte, "x/y"));
}

TEST(StreamStorePayload, TheWireFormatIsTheScripts) {
    // The publish script builds this text itself: the decoder must read exactly it.
    EXPECT_EQ(encode_message_payload(
                  message(1764500000000000003u, 1764500000000000002u, "ev", "a\nb", "t/p")),
              "M 1764500000000-3 1764500000000-2\nev\nt/p\na\nb");
    std::optional<StreamNotice> first = decode_payload("M 1-0 0-0\n\n\n");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->message.id, 1'000'000u);
    EXPECT_EQ(first->message.prev_id, 0u);
    EXPECT_EQ(first->message.published_ms, 1);
    EXPECT_EQ(first->message.data, "");
}

TEST(StreamStorePayload, TheRemovedNotice) {
    std::optional<StreamNotice> got = decode_payload(removed_payload());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->kind, StreamNotice::Kind::removed);
}

TEST(StreamStorePayload, RejectsMalformedPayloads) {
    for (std::string_view bad : {
             ""sv,
             "D\n"sv,
             "DD"sv,
             "d"sv,
             "X 1-1 1-0\ne\nt\nd"sv,
             "M"sv,
             "M "sv,
             "M 1-1"sv,
             "M 1-1 1-0"sv,                 // no newline after the ids
             "M 1-1 1-0\n"sv,               // no event line
             "M 1-1 1-0\ne\n"sv,            // no content type line
             "M 1-1 1-0\ne\nt"sv,           // the content type line is not ended
             "M 1-1  1-0\ne\nt\nd"sv,       // two spaces
             "M  1-1 1-0\ne\nt\nd"sv,       // leading space
             "M 1-1 1-0 \ne\nt\nd"sv,       // trailing space
             "M 1 0\ne\nt\nd"sv,            // not stream ids
             "M 1-1000000 1-0\ne\nt\nd"sv,  // SEQ too large
             "M 1-1 1-1\ne\nt\nd"sv,        // prev not below the id
             "M 1-1 2-0\ne\nt\nd"sv,        // prev above the id
             "M 0-0 0-0\ne\nt\nd"sv,        // no message has id 0
             "M 1-1\t1-0\ne\nt\nd"sv,       // a tab, not a space
             "m 1-1 1-0\ne\nt\nd"sv,        // the kind is case-sensitive
             "M 1-1 1-0\r\ne\nt\nd"sv,      // CR in the prev id
             "M 99999999999999999999-0 0-0\ne\nt\nd"sv,
         }) {
        EXPECT_EQ(decode_payload(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace c10k::push
