// The SSE parser against the WHATWG event-stream rules, fed whole, byte by byte, and split at
// every point: a read can end anywhere (inside a field name, between CR and LF, inside a BOM),
// and the events must come out the same.

#include "bench/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace c10k::bench {
namespace {

struct Seen {
    std::string type;
    std::string data;
    std::string last_event_id;
    bool has_id = false;
    bool dispatched = false;
    bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& seen) {
    return out << "{type=" << seen.type << " data=" << seen.data << " id=" << seen.last_event_id
               << " has_id=" << seen.has_id << " dispatched=" << seen.dispatched << "}";
}

void collect(void* context, const SseParser::Event& event) {
    static_cast<std::vector<Seen>*>(context)->push_back(
        Seen{std::string(event.type), std::string(event.data), std::string(event.last_event_id),
             event.has_id, event.dispatched});
}

/// Feeds `pieces` in order to a fresh parser and returns the events.
std::vector<Seen> parse(const std::vector<std::string>& pieces, SseParser* parser = nullptr) {
    SseParser local;
    SseParser& p = parser ? *parser : local;
    std::vector<Seen> events;
    for (const auto& piece : pieces) {
        EXPECT_EQ(p.feed(piece.data(), piece.size(), &collect, &events), SseParser::Outcome::ok);
    }
    return events;
}

std::vector<std::string> bytes(const std::string& text) {
    std::vector<std::string> out;
    for (char c : text) out.emplace_back(1, c);
    return out;
}

/// Whole, byte by byte, and every split into two pieces must give `expected`.
void expect_everywhere(const std::string& stream, const std::vector<Seen>& expected) {
    EXPECT_EQ(parse({stream}), expected) << "whole";
    EXPECT_EQ(parse(bytes(stream)), expected) << "byte by byte";
    for (std::size_t cut = 1; cut < stream.size(); ++cut) {
        EXPECT_EQ(parse({stream.substr(0, cut), stream.substr(cut)}), expected) << "cut at " << cut;
    }
}

TEST(SseParser, EventsWithIdsAndDataInEveryPieceSize) {
    std::string stream =
        "id: 1700000000000001\ndata: t=123 seq=0 xxx\n\n"
        "event: score\nid: 1700000000000002\ndata: first line\ndata: second line\n\n";
    expect_everywhere(stream,
                      {
                          {"", "t=123 seq=0 xxx", "1700000000000001", true, true},
                          {"score", "first line\nsecond line", "1700000000000002", true, true},
                      });
}

TEST(SseParser, CrLfCrAndLfLineEndsAreAllOneLineEnd) {
    // CRLF split between two reads is one line end: if the LF counted again it would be a blank
    // line, and "a" would be dispatched without "b".
    EXPECT_EQ(parse({"data: a\r", "\ndata: b\r\n\r\n"}),
              (std::vector<Seen>{{"", "a\nb", "", false, true}}));
    expect_everywhere(
        "id: 7\rdata: x\r\rid: 8\r\ndata: y\r\n\r\nid: 9\ndata: z\n\r",
        {{"", "x", "7", true, true}, {"", "y", "8", true, true}, {"", "z", "9", true, true}});
}

TEST(SseParser, CommentsAreHeartbeatsNotEvents) {
    SseParser parser;
    auto events = parse({":\n\n: keep-alive\n\n:", "\n", "\ndata: x\n", ": inside\n\n"}, &parser);
    EXPECT_EQ(events, (std::vector<Seen>{{"", "x", "", false, true}}));
    EXPECT_EQ(parser.comments(), 4u);
}

TEST(SseParser, RetryTakesOnlyDigits) {
    SseParser parser;
    parse({"retry: 2500\n\n"}, &parser);
    ASSERT_TRUE(parser.retry_ms().has_value());
    EXPECT_EQ(*parser.retry_ms(), 2500u);
    parse({"retry: 12x\n\nretry: -5\n\nretry:\n\nretry:  7\n\n"}, &parser);
    EXPECT_EQ(*parser.retry_ms(), 2500u);  // none of those is only digits after one space
    parse({"ret", "ry:", "30", "0\n\n"}, &parser);
    EXPECT_EQ(*parser.retry_ms(), 300u);
}

TEST(SseParser, FieldValueRules) {
    expect_everywhere(
        // Only one space after the colon is removed; no colon means an empty value; a field
        // with an unknown name is ignored; "data" alone adds an empty line.
        "data:  two spaces\ndata\ndata:no space\nfoo: bar\nDATA: upper\n\n",
        {{"", " two spaces\n\nno space", "", false, true}});
    expect_everywhere("data\n\n", {{"", "", "", false, true}});
    expect_everywhere("data: a:b: c\n\n", {{"", "a:b: c", "", false, true}});
}

TEST(SseParser, IdPersistsEventTypeDoesNot) {
    expect_everywhere("id: 5\nevent: special\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
                      {{"special", "a", "5", true, true},
                       {"", "b", "5", false, true},
                       {"", "c", "", true, true}});
}

TEST(SseParser, IdsThatAreNotPlainNumbersComeBackAsSent) {
    // Decimal ids are kept as numbers; anything whose text a number would not give back (a
    // leading zero, a space, a sign, letters, a value past 64 bits) must still be reported and
    // resent exactly.
    for (std::string id : {"007", " 5", "-1", "abc-12", "18446744073709551616", "0x10"}) {
        expect_everywhere("id: " + id + "\ndata: a\n\ndata: b\n\n",
                          {{"", "a", id, true, true}, {"", "b", id, false, true}});
        SseParser parser;
        parse({"id: " + id + "\n\n"}, &parser);
        EXPECT_EQ(parser.last_event_id(), id);
    }
    for (std::string id : {"0", "42", "18446744073709551615"}) {
        SseParser parser;
        parse({"id: " + id + "\n\n"}, &parser);
        EXPECT_EQ(parser.last_event_id(), id);
    }
    // A number after text, and an empty id after a number, replace what was there.
    expect_everywhere(
        "id: x\ndata: a\n\nid: 9\ndata: b\n\nid:\ndata: c\n\n",
        {{"", "a", "x", true, true}, {"", "b", "9", true, true}, {"", "c", "", true, true}});
}

TEST(SseParser, AnIdleParserIsSmall) {
    // A push run holds one per subscriber, up to a million in all; between events it keeps
    // no copy of what it parsed (see sse_parser.hpp), and this bounds what it keeps inline.
    EXPECT_LE(sizeof(SseParser), 48u);
}

TEST(SseParser, IdWithNulIsIgnored) {
    using namespace std::string_literals;
    std::string stream = "id: 3\ndata: a\n\nid: 4\0x\ndata: b\n\n"s;
    ASSERT_EQ(stream.size(), 32u);
    expect_everywhere(stream, {{"", "a", "3", true, true}, {"", "b", "3", false, true}});
}

TEST(SseParser, BlocksWithoutDataAreReportedButNotDispatched) {
    // The server's history-lost notice carries an event name and maybe no data: a browser would
    // not fire it, the bench still has to count it.
    expect_everywhere("event: history-lost\n\nid: 9\n\n",
                      {{"history-lost", "", "", false, false}, {"", "", "9", true, false}});
}

TEST(SseParser, LeadingBomIsDroppedOnlyAtTheStart) {
    std::string bom = "\xEF\xBB\xBF";
    expect_everywhere(bom + "data: x\n\n", {{"", "x", "", false, true}});
    // A BOM later in the stream is data; so are bytes that only began like one.
    expect_everywhere("data: " + bom + "\n\n", {{"", bom, "", false, true}});
    EXPECT_EQ(parse({"\xEF", "data: x\n\n"}).size(), 0u);  // "\xEF" + "data" is not a field name
    expect_everywhere(bom + bom + "data: y\n\n", {});      // the second BOM starts a field name
}

TEST(SseParser, IncompleteEventAtTheEndIsNotDispatched) {
    EXPECT_TRUE(parse({"id: 1\ndata: half"}).empty());
    EXPECT_TRUE(parse({"id: 1\ndata: whole line\n"}).empty());
}

TEST(SseParser, ResetForgetsThePartialEventButKeepsTheLastId) {
    SseParser parser;
    std::vector<Seen> events;
    std::string first = "id: 41\ndata: a\n\nid: 42\ndata: cut off";
    parser.feed(first.data(), first.size(), &collect, &events);
    EXPECT_EQ(parser.last_event_id(), "42");  // what an EventSource would resume from
    parser.reset();
    std::string second = "data: b\n\n";
    parser.feed(second.data(), second.size(), &collect, &events);
    EXPECT_EQ(events,
              (std::vector<Seen>{{"", "a", "41", true, true}, {"", "b", "42", false, true}}));
}

TEST(SseParser, LinesPastTheLimitAreRefused) {
    SseParser parser(64);
    std::vector<Seen> events;
    std::string long_line = "data: " + std::string(100, 'x');
    EXPECT_EQ(parser.feed(long_line.data(), 30, &collect, &events), SseParser::Outcome::ok);
    EXPECT_EQ(parser.feed(long_line.data() + 30, long_line.size() - 30, &collect, &events),
              SseParser::Outcome::too_long);
    SseParser data_bound(64);
    std::string many = "";
    for (int i = 0; i < 10; ++i) many += "data: 0123456789\n";
    EXPECT_EQ(data_bound.feed(many.data(), many.size(), &collect, &events),
              SseParser::Outcome::too_long);
}

}  // namespace
}  // namespace c10k::bench
