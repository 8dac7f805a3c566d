#include "push/sse.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace c10k::push {
namespace {

/// What an EventSource would see: the WHATWG "event stream interpretation" algorithm, applied to
/// a whole stream, written here independently of the framer so that it can check it.
struct ParsedEvent {
    std::string type;
    std::string data;
    std::string last_event_id;
};

struct ParsedStream {
    std::vector<ParsedEvent> events;
    std::optional<std::string> retry;
    std::string last_event_id;  ///< the last event ID buffer at the end of the stream
    int comments = 0;
};

ParsedStream parse_event_stream(std::string_view stream) {
    ParsedStream result;
    std::string data;
    std::string type;
    if (stream.substr(0, 3) == "\xEF\xBB\xBF") stream.remove_prefix(3);  // one leading BOM

    auto dispatch = [&] {
        if (data.empty()) {
            type.clear();
            return;
        }
        if (data.back() == '\n') data.pop_back();
        result.events.push_back({type.empty() ? "message" : type, data, result.last_event_id});
        data.clear();
        type.clear();
    };
    auto process_field = [&](std::string_view field, std::string_view value) {
        if (field == "event") {
            type = value;
        } else if (field == "data") {
            data.append(value).push_back('\n');
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) result.last_event_id = value;
        } else if (field == "retry") {
            bool digits =
                !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
            if (digits) result.retry = std::string(value);
        }
    };

    // Lines end with CRLF, LF or CR; a last line with no end is discarded, as at end of file.
    for (;;) {
        std::size_t end = stream.find_first_of("\r\n");
        if (end == std::string_view::npos) break;
        std::string_view line = stream.substr(0, end);
        bool crlf = stream[end] == '\r' && end + 1 < stream.size() && stream[end + 1] == '\n';
        stream.remove_prefix(end + (crlf ? 2 : 1));

        if (line.empty()) {
            dispatch();
        } else if (line.front() == ':') {
            ++result.comments;
        } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
            std::string_view value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            process_field(line.substr(0, colon), value);
        } else {
            process_field(line, "");
        }
    }
    return result;
}

/// m.data as EventSource delivers it: every CRLF, LF or lone CR becomes LF.
std::string normalise_breaks(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

Message make(std::uint64_t id, std::string data, std::string event = "") {
    Message m;
    m.id = id;
    m.data = std::move(data);
    m.event = std::move(event);
    return m;
}

std::string framed(const Message& m) {
    std::string out;
    append_sse_event(out, m);
    return out;
}

TEST(SseFraming, SingleLine) {
    EXPECT_EQ(framed(make(7, "hello")), "id: 7\ndata: hello\n\n");
}

TEST(SseFraming, MultiLine) {
    EXPECT_EQ(framed(make(1, "a\nb\nc")), "id: 1\ndata: a\ndata: b\ndata: c\n\n");
}

TEST(SseFraming, CarriageReturnAndCrlfAreLineBreaks) {
    EXPECT_EQ(framed(make(1, "a\rb")), "id: 1\ndata: a\ndata: b\n\n");
    EXPECT_EQ(framed(make(1, "a\r\nb")), "id: 1\ndata: a\ndata: b\n\n");
    EXPECT_EQ(framed(make(1, "a\n\rb")), "id: 1\ndata: a\ndata: \ndata: b\n\n");
    EXPECT_EQ(framed(make(1, "a\r\rb")), "id: 1\ndata: a\ndata: \ndata: b\n\n");
}

TEST(SseFraming, TrailingNewlineBecomesAnEmptyLastLine) {
    EXPECT_EQ(framed(make(1, "a\n")), "id: 1\ndata: a\ndata: \n\n");
    EXPECT_EQ(framed(make(1, "a\r\n")), "id: 1\ndata: a\ndata: \n\n");
    EXPECT_EQ(framed(make(1, "\n")), "id: 1\ndata: \ndata: \n\n");
}

TEST(SseFraming, EmptyDataIsOneEmptyDataLine) {
    EXPECT_EQ(framed(make(1, "")), "id: 1\ndata: \n\n");
    ParsedStream parsed = parse_event_stream(framed(make(1, "")));
    ASSERT_EQ(parsed.events.size(), 1u);  // an event with empty data still fires
    EXPECT_EQ(parsed.events[0].data, "");
}

TEST(SseFraming, LeadingSpaceOfThePayloadIsKept) {
    EXPECT_EQ(framed(make(1, " x")), "id: 1\ndata:  x\n\n");
    EXPECT_EQ(parse_event_stream(framed(make(1, "  x\n y"))).events.at(0).data, "  x\n y");
}

TEST(SseFraming, EventName) {
    EXPECT_EQ(framed(make(18446744073709551615u, "1-0", "goal")),
              "id: 18446744073709551615\nevent: goal\ndata: 1-0\n\n");
}

TEST(SseFraming, InvalidEventNameIsLeftOutRatherThanInjected) {
    std::string out = framed(make(3, "x", "goal\ndata: injected"));
    EXPECT_EQ(out, "id: 3\ndata: x\n\n");
}

TEST(SseFraming, EventNames) {
    EXPECT_TRUE(valid_event_name("message"));
    EXPECT_TRUE(valid_event_name("score.update:v2_final-1"));
    EXPECT_TRUE(valid_event_name(std::string(64, 'e')));
    EXPECT_FALSE(valid_event_name(""));
    EXPECT_FALSE(valid_event_name(std::string(65, 'e')));
    for (std::string_view bad : {"a b", "a\nb", "a\rb", "a\r\n", "é", "a/b", "a;b"}) {
        EXPECT_FALSE(valid_event_name(bad)) << bad;
    }
}

TEST(SseFraming, HistoryLost) {
    std::string out;
    append_sse_history_lost(out, 1700000000000123, 1700000000000500);
    EXPECT_EQ(out,
              "event: history-lost\ndata: "
              "{\"last_event_id\":\"1700000000000123\",\"first_available\":\"1700000000000500\"}"
              "\n\n");
    out.clear();
    append_sse_history_lost(out, 5, 0);
    EXPECT_EQ(out,
              "event: history-lost\ndata: {\"last_event_id\":\"5\",\"first_available\":\"\"}\n\n");
}

TEST(SseFraming, HistoryLostDoesNotMoveTheLastEventId) {
    std::string stream(sse_stream_open());
    append_sse_event(stream, make(41, "before"));
    append_sse_history_lost(stream, 10, 30);
    append_sse_event(stream, make(42, "after"));
    ParsedStream parsed = parse_event_stream(stream);
    ASSERT_EQ(parsed.events.size(), 3u);
    EXPECT_EQ(parsed.events[1].type, "history-lost");
    EXPECT_EQ(parsed.events[1].data, R"({"last_event_id":"10","first_available":"30"})");
    EXPECT_EQ(parsed.events[1].last_event_id, "41");
    EXPECT_EQ(parsed.events[2].last_event_id, "42");
}

TEST(SseFraming, RetryHeartbeatAndOpening) {
    std::string out;
    append_sse_retry(out, 3000);
    EXPECT_EQ(out, "retry: 3000\n\n");
    out.clear();
    append_sse_retry(out, -5);
    EXPECT_EQ(out, "retry: 0\n\n");
    EXPECT_EQ(sse_heartbeat(), ":\n\n");
    EXPECT_EQ(sse_stream_open(), ":ok\n\n");

    std::string stream(sse_stream_open());
    append_sse_retry(stream, 2500);
    stream.append(sse_heartbeat());
    ParsedStream parsed = parse_event_stream(stream);
    EXPECT_TRUE(parsed.events.empty());  // none of these fires an event
    EXPECT_EQ(parsed.retry, "2500");
    EXPECT_EQ(parsed.comments, 2);
}

TEST(SseFraming, AppendsWithoutTouchingWhatIsThere) {
    std::string out = "prefix";
    append_sse_event(out, make(1, "x"));
    EXPECT_EQ(out, "prefixid: 1\ndata: x\n\n");
}

/// Frames every message into one stream (with heartbeats between them, as a live stream has) and
/// checks that the parser hands back each data, type and id exactly.
void expect_round_trip(const std::vector<Message>& messages) {
    std::string stream(sse_stream_open());
    for (const Message& m : messages) {
        append_sse_event(stream, m);
        stream.append(sse_heartbeat());
    }
    ParsedStream parsed = parse_event_stream(stream);
    ASSERT_EQ(parsed.events.size(), messages.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const Message& m = messages[i];
        const ParsedEvent& event = parsed.events[i];
        EXPECT_EQ(event.data, normalise_breaks(m.data)) << testing::PrintToString(m.data);
        EXPECT_EQ(event.type, m.event.empty() ? "message" : m.event);
        EXPECT_EQ(event.last_event_id, std::to_string(m.id));
    }
}

TEST(SseRoundTrip, EveryShortStringOfAwkwardCharacters) {
    // Every string of up to 6 characters over these: line breaks in every combination, spaces
    // and colons (which the parser treats specially at the start of a line), and a letter.
    constexpr std::string_view kAlphabet = "a\r\n :";
    std::vector<Message> messages;
    std::uint64_t id = 1;
    std::vector<std::string> current{""};
    for (int length = 0; length <= 6; ++length) {
        std::vector<std::string> next;
        for (const std::string& text : current) {
            messages.push_back(make(id, text, id % 3 == 0 ? "tick" : ""));
            ++id;
            if (length < 6) {
                for (char c : kAlphabet) next.push_back(text + c);
            }
        }
        current = std::move(next);
    }
    EXPECT_EQ(messages.size(), 19531u);  // 1 + 5 + ... + 5^6
    expect_round_trip(messages);
}

TEST(SseRoundTrip, RealisticPayloads) {
    expect_round_trip({
        make(1700000000000000, R"({"home":3,"away":2,"inning":"9 bottom"})", "score"),
        make(1700000000000001, "line one\r\nline two\r\n\r\nline four"),
        make(1700000000000002, "data: not a field\nid: 99\nevent: nope\n\n:comment\nretry: 1"),
        make(1700000000000003,
             "\xEF\xBB\xBFnot at stream start\n\xE7\x94\xB2\xE5\xAD\x90\xE5\x9C\x92"),
        make(1700000000000004, std::string(10000, 'z') + "\n" + std::string(3, '\r')),
        make(1700000000000005, std::string("nul\0inside", 10)),
    });
}

}  // namespace
}  // namespace c10k::push
