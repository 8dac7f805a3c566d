// The pure parts of WebSocket measurement: reading the push server's JSON envelope (written
// against the format in src/push/ws_format.hpp, not against its code), the echo payload's
// stamp, the handshake request and the check of its answer, and the counters' trip through a
// worker's pipe.

#include <gtest/gtest.h>

#include <string>

#include "bench/push_http.hpp"
#include "bench/ws_client.hpp"
#include "bench/ws_message.hpp"
#include "bench/ws_stats.hpp"
#include "websocket/handshake.hpp"

namespace c10k::bench {
namespace {

TEST(WsEnvelope, ReadsADelivery) {
    std::string scratch;
    WsEnvelope e;
    ASSERT_TRUE(parse_ws_envelope(
        R"({"channel":"score","id":"17","data":"t=1700000000000000000 seq=3 xxx"})", e, scratch));
    EXPECT_EQ(e.channel, "score");
    EXPECT_TRUE(e.has_id);
    EXPECT_EQ(e.id, "17");
    EXPECT_FALSE(e.has_event);
    EXPECT_EQ(e.data, "t=1700000000000000000 seq=3 xxx");
    EXPECT_FALSE(e.data_is_object);
}

TEST(WsEnvelope, ReadsANamedEventWithEscapedData) {
    std::string scratch;
    WsEnvelope e;
    ASSERT_TRUE(parse_ws_envelope(
        R"({"channel":"c\/d","id":"18446744073709551615","event":"goal","data":"a\"b\\c\nd\u00e9\ud83d\ude00"})",
        e, scratch));
    EXPECT_EQ(e.channel, "c/d");
    EXPECT_EQ(e.id, "18446744073709551615");
    EXPECT_EQ(e.event, "goal");
    EXPECT_EQ(e.data, "a\"b\\c\nd\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(WsEnvelope, ReadsSubscribedHistoryLostAndUnsubscribed) {
    std::string scratch;
    WsEnvelope e;
    ASSERT_TRUE(
        parse_ws_envelope(R"({"channel":"c","event":"subscribed","last_id":"16"})", e, scratch));
    EXPECT_EQ(e.event, "subscribed");
    EXPECT_TRUE(e.has_last_id);
    EXPECT_EQ(e.last_id, "16");
    EXPECT_FALSE(e.has_id);

    ASSERT_TRUE(parse_ws_envelope(
        R"({"channel":"c","event":"history-lost","data":{"last_event_id":"9","first_available":"12"}})",
        e, scratch));
    EXPECT_EQ(e.event, "history-lost");
    EXPECT_TRUE(e.data_is_object);
    EXPECT_FALSE(e.has_id);  // the nested object's members are not the envelope's

    ASSERT_TRUE(parse_ws_envelope(R"({"channel":"c","event":"unsubscribed"})", e, scratch));
    EXPECT_EQ(e.event, "unsubscribed");

    ASSERT_TRUE(parse_ws_envelope(R"({"error":"not subscribed to 'x'"})", e, scratch));
    EXPECT_TRUE(e.has_error);
}

TEST(WsEnvelope, AcceptsSpacesNumbersAndUnknownMembers) {
    std::string scratch;
    WsEnvelope e;
    ASSERT_TRUE(parse_ws_envelope(
        " { \"extra\" : [1, {\"a\": null}, true], \"id\" : 42 , \"data\" : \"x\" } ", e, scratch));
    EXPECT_EQ(e.id, "42");
    EXPECT_EQ(e.data, "x");
}

TEST(WsEnvelope, RefusesWhatIsNotOneObject) {
    std::string scratch;
    WsEnvelope e;
    for (const char* text :
         {"", "[]", "{", R"({"id":"1")", R"({"id":"1"} x)", R"({"id":1,})", R"({"data":"a\qb"})",
          R"({"data":"\ud800"})", "{\"data\":\"a\nb\"}", R"({"id":tru})", R"({"data":"abc)"}) {
        EXPECT_FALSE(parse_ws_envelope(text, e, scratch)) << text;
    }
}

TEST(EchoPayload, CarriesItsStampAtTheRequestedSize) {
    std::string payload;
    append_echo_payload(payload, {7, 1'000'000'123, 1'000'000'456}, 200);
    EXPECT_EQ(payload.size(), 200u);
    auto stamp = parse_echo_payload(payload);
    ASSERT_TRUE(stamp.has_value());
    EXPECT_EQ(stamp->sequence, 7u);
    EXPECT_EQ(stamp->intended_ns, 1'000'000'123);
    EXPECT_EQ(stamp->sent_ns, 1'000'000'456);

    // A size below the stamp's own length gives the stamp alone.
    std::string tiny;
    append_echo_payload(tiny, {0, 5, 6}, 1);
    EXPECT_EQ(tiny, "c10k-echo 0 5 6 ");
    EXPECT_TRUE(parse_echo_payload(tiny).has_value());
}

TEST(EchoPayload, RefusesOtherPayloads) {
    for (const char* text : {"", "hello", "c10k-echo ", "c10k-echo 1 2", "c10k-echo x 2 3 ",
                             "c10k-echo 1 2 3", "c10k-echo -1 2 3 "}) {
        EXPECT_FALSE(parse_echo_payload(text).has_value()) << text;
    }
}

TEST(WsHandshake, RequestCarriesUpgradeKeyOfferAndResumeId) {
    Url url;
    std::string error;
    ASSERT_TRUE(parse_url("http://127.0.0.1:8080/live/score", url, error));
    RequestSpec spec;
    spec.headers.push_back("X-Test: 1");
    WsRequest request = make_ws_request(url, spec, true);
    std::string out;
    append_ws_request(out, request, "dGhlIHNhbXBsZSBub25jZQ==", 41);
    EXPECT_EQ(out.rfind("GET /live/score?last_event_id=41 HTTP/1.1\r\n", 0), 0u) << out;
    for (const char* line : {"Host: 127.0.0.1:8080\r\n", "X-Test: 1\r\n", "Upgrade: websocket\r\n",
                             "Connection: Upgrade\r\n", "Sec-WebSocket-Version: 13\r\n",
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                             "Sec-WebSocket-Extensions: permessage-deflate"}) {
        EXPECT_NE(out.find(line), std::string::npos) << line;
    }
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");

    ASSERT_TRUE(parse_url("http://h/live/c?x=1", url, error));
    out.clear();
    append_ws_request(out, make_ws_request(url, spec, false), "k", 5);
    EXPECT_EQ(out.rfind("GET /live/c?x=1&last_event_id=5 HTTP/1.1\r\n", 0), 0u) << out;
    EXPECT_EQ(out.find("Sec-WebSocket-Extensions"), std::string::npos);
    out.clear();
    append_ws_request(out, make_ws_request(url, spec, false), "k", std::nullopt);
    EXPECT_EQ(out.rfind("GET /live/c?x=1 HTTP/1.1\r\n", 0), 0u) << out;
}

TEST(WsHandshake, ChecksStatusAcceptAndExtensions) {
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    const std::string accept = websocket::accept_for_key(key);  // RFC 6455's example
    EXPECT_EQ(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    PushResponseParser::Head head;
    head.status = 101;
    head.ws_accept = accept;
    using Outcome = WsHandshakeCheck::Outcome;
    EXPECT_EQ(check_ws_handshake(head, key, false).outcome, Outcome::accepted);
    EXPECT_FALSE(check_ws_handshake(head, key, true).deflate.has_value());  // declined

    head.ws_extensions = "permessage-deflate; server_no_context_takeover";
    auto agreed = check_ws_handshake(head, key, true);
    EXPECT_EQ(agreed.outcome, Outcome::accepted);
    ASSERT_TRUE(agreed.deflate.has_value());
    EXPECT_TRUE(agreed.deflate->server_no_context_takeover);
    // An extension nobody offered breaks the protocol.
    EXPECT_EQ(check_ws_handshake(head, key, false).outcome, Outcome::bad_handshake);
    head.ws_extensions = "x-unknown";
    EXPECT_EQ(check_ws_handshake(head, key, true).outcome, Outcome::bad_handshake);

    head.ws_extensions = {};
    head.ws_accept = "wrong";
    EXPECT_EQ(check_ws_handshake(head, key, false).outcome, Outcome::bad_handshake);
    head.status = 404;
    EXPECT_EQ(check_ws_handshake(head, key, false).outcome, Outcome::refused);
}

TEST(WsHandshake, ParserHandsOverTheBytesAfterThe101) {
    PushResponseParser parser;
    PushResponseParser::Callbacks callbacks;
    struct Seen {
        int status = 0;
        std::string accept, extensions;
    } seen;
    callbacks.on_head = [](void* c, const PushResponseParser::Head& head) {
        auto& s = *static_cast<Seen*>(c);
        s.status = head.status;
        s.accept = head.ws_accept;
        s.extensions = head.ws_extensions;
        return true;
    };
    callbacks.on_body = [](void*, const char*, std::size_t) { return true; };
    callbacks.on_complete = [](void*, bool) { return true; };
    parser.reset();
    std::string head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: abc=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
        "Sec-WebSocket-Extensions: x\r\n\r\n";
    std::string bytes = head + "\x81\x02hi";
    // Split inside the head: the first part is all HTTP.
    EXPECT_EQ(parser.feed(bytes.data(), 10, callbacks, &seen), PushResponseParser::Outcome::ok);
    EXPECT_EQ(parser.feed(bytes.data() + 10, bytes.size() - 10, callbacks, &seen),
              PushResponseParser::Outcome::upgraded);
    EXPECT_EQ(parser.upgrade_offset(), head.size() - 10);
    EXPECT_EQ(seen.status, 101);
    EXPECT_EQ(seen.accept, "abc=");
    EXPECT_EQ(seen.extensions, "permessage-deflate, x");
}

TEST(WsStats, SurviveTheWorkerPipe) {
    WsEchoStats stats;
    stats.run.requests = 5;
    stats.run.corrected.record(100);
    stats.ws.handshakes = 3;
    stats.ws.deflate_agreed = 2;
    stats.ws.refused[403] = 1;
    stats.ws.close_codes[1006] = 4;
    stats.ws.messages_sent = 6;
    stats.ws.bad_echoes = 1;
    auto bytes = stats.serialize();
    WsEchoStats back;
    ASSERT_TRUE(back.deserialize(bytes));
    EXPECT_EQ(back.run.requests, 5u);
    EXPECT_EQ(back.run.corrected.count(), 1u);
    EXPECT_EQ(back.ws.handshakes, 3u);
    EXPECT_EQ(back.ws.deflate_agreed, 2u);
    EXPECT_EQ(back.ws.refused.at(403), 1u);
    EXPECT_EQ(back.ws.close_codes.at(1006), 4u);
    EXPECT_EQ(back.ws.messages_sent, 6u);
    EXPECT_EQ(back.ws.bad_echoes, 1u);
    bytes.pop_back();
    EXPECT_FALSE(back.deserialize(bytes));
    WsEchoStats merged;
    merged.merge(stats);
    merged.merge(stats);
    EXPECT_EQ(merged.ws.close_codes.at(1006), 8u);
    EXPECT_EQ(merged.run.requests, 10u);
}

}  // namespace
}  // namespace c10k::bench
