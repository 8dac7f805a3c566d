// The Redis backplane end to end: two real servers, A and B, follow one real redis-server
// (tests/support/redis_server), with SSE, long-poll and WebSocket subscribers on raw sockets and
// publishes through each server's publish API. Redis is killed and restarted with and without
// persistence, stopped with SIGSTOP, absent at start, and replaced by listeners that answer
// garbage or nothing; through all of it the servers stay up, answer publishes 503 while Redis
// is away, say in their logs what is wrong, and give every subscriber each accepted message
// once, in order, or tell it plainly that history was lost.
//
// Waits are bounded, never asserted: Redis is reconnected with a backoff capped at 5 s, so the
// waits that span a reconnect allow several attempts.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_redis.hpp"
#include "support/json_value.hpp"
#include "support/push_client.hpp"
#include "support/push_server.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace c10k::test {
namespace {

/// Per message, while nothing is being reconnected.
constexpr int kWaitMs = 10'000;
/// Per message, or per notice, when a server may first have to reconnect to Redis.
constexpr int kReconnectWaitMs = 30'000;
/// How long a stream must stay quiet to count as having nothing more (a repeat would come at
/// once, with the message it repeats).
constexpr int kQuietMs = 300;
/// Publish attempts, 100 ms apart, while waiting for a server to reach Redis again.
constexpr int kPublishTries = 300;

std::string redis_url(int port) {
    return "redis://127.0.0.1:" + std::to_string(port);
}

std::vector<std::string> redis_flags(int port, std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {"--redis", redis_url(port)};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
}

/// A message the publish API accepted.
struct Sent {
    std::string id;
    std::string data;
};

HttpResponse publish_answer(PushServer& s, const std::string& channel, const std::string& body) {
    return request(s.pub, "POST", "/pub/" + channel, body);
}

JsonValue json_of(const HttpResponse& r) {
    std::optional<JsonValue> json = parse_json(r.body);
    EXPECT_TRUE(json) << r.body;
    return json ? *json : JsonValue{};
}

/// Publishes and expects the API to accept: 200 {"channel","id","receivers"}.
Sent publish_ok(PushServer& s, const std::string& channel, const std::string& body) {
    HttpResponse r = publish_answer(s, channel, body);
    EXPECT_EQ(r.status, 200) << r.body;
    JsonValue json = json_of(r);
    EXPECT_EQ(json["channel"].string, channel) << r.body;
    EXPECT_TRUE(json["id"].is_string()) << r.body;
    EXPECT_TRUE(json["receivers"].is_number()) << r.body;
    return {json["id"].string, body};
}

/// Expects a publish to be refused because Redis is away: 503 {"channel","error"} with
/// Retry-After. Returns the error.
std::string expect_refused(PushServer& s, const std::string& channel, const std::string& body) {
    HttpResponse r = publish_answer(s, channel, body);
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.header("retry-after"), "1");
    JsonValue json = json_of(r);
    EXPECT_EQ(json["channel"].string, channel) << r.body;
    EXPECT_TRUE(json["error"].is_string()) << r.body;
    EXPECT_FALSE(json["id"].is_string()) << r.body;
    return json["error"].string;
}

/// What came of publishing until the API accepted.
struct Attempts {
    std::vector<std::string> refused;  ///< bodies answered 503
    std::optional<Sent> accepted;
};

/// Publishes `body` with a try number appended until the API accepts one, 100 ms apart,
/// bounded. Every refusal must be a 503; each try has its own body, so a refused one that was
/// delivered all the same shows.
Attempts publish_until_accepted(PushServer& s, const std::string& channel,
                                const std::string& body) {
    Attempts attempts;
    for (int i = 0; i < kPublishTries; ++i) {
        std::string data = body + " (try " + std::to_string(i) + ")";
        HttpResponse r = publish_answer(s, channel, data);
        if (r.status == 200) {
            attempts.accepted = Sent{json_of(r)["id"].string, data};
            return attempts;
        }
        EXPECT_EQ(r.status, 503) << r.body;
        attempts.refused.push_back(data);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no publish on channel '" << channel << "' was accepted after "
                  << kPublishTries << " tries; the server's log:\n"
                  << s.server->output();
    return attempts;
}

/// Waits (bounded) until the server's output holds `text`.
bool log_has(PushServer& s, const std::string& text, int timeout_ms = kWaitMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (s.server->output().find(text) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

std::unique_ptr<SseClient> sse_subscribe(int port, const std::string& channel,
                                         const std::string& headers = {}) {
    auto client = std::make_unique<SseClient>(port, "/live/" + channel, headers);
    EXPECT_TRUE(client->read_head());
    EXPECT_EQ(client->status(), 200);
    EXPECT_EQ(client->header("content-type"), "text/event-stream");
    return client;
}

/// Expects exactly `sent`, in order, with their ids, then nothing more.
void expect_sse_gets(SseClient& sub, const std::vector<Sent>& sent, const std::string& who,
                     int timeout_ms = kWaitMs) {
    SCOPED_TRACE(who);
    for (std::size_t i = 0; i < sent.size(); ++i) {
        SseEvent e;
        ASSERT_TRUE(sub.next_event(e, timeout_ms))
            << "message " << i << " of " << sent.size() << " did not come"
            << (sub.closed() || sub.saw_last_chunk() ? " (the stream ended)" : "");
        EXPECT_EQ(e.event, "") << e.data;
        EXPECT_EQ(e.id, sent[i].id) << "message " << i;
        EXPECT_EQ(e.data, sent[i].data) << "message " << i;
    }
    SseEvent extra;
    EXPECT_FALSE(sub.next_event(extra, kQuietMs))
        << "more than was published: event '" << extra.event << "' id " << extra.id << ": "
        << extra.data;
    EXPECT_FALSE(sub.closed() || sub.saw_last_chunk()) << "the stream ended";
}

/// A message of the WebSocket push protocol, parsed.
struct Pushed {
    std::string channel, id, event, data;
    std::string raw;
};

std::optional<Pushed> next_pushed(WsClient& client, int timeout_ms = kWaitMs) {
    std::optional<WsMessage> message = client.read_message(timeout_ms);
    if (!message) return std::nullopt;
    std::optional<JsonValue> json = parse_json(message->payload);
    EXPECT_TRUE(json) << message->payload;
    if (!json) return std::nullopt;
    return Pushed{(*json)["channel"].string, (*json)["id"].string, (*json)["event"].string,
                  (*json)["data"].string, message->payload};
}

/// A WebSocket subscriber of `channel` (path /live/<channel><query>), its handshake accepted.
std::unique_ptr<WsClient> ws_connect(int port, const std::string& channel,
                                     const std::string& query = {}) {
    auto client = std::make_unique<WsClient>(port);
    WsHandshake handshake;
    handshake.path = "/live/" + channel + query;
    EXPECT_TRUE(client->handshake(handshake))
        << client->answer().status << " " << client->answer().body;
    return client;
}

/// Reads the "subscribed" notice, which the server sends once the channel is loaded from
/// Redis: from then on a publish anywhere reaches every subscriber of the channel on that
/// server, whatever their protocol.
bool ws_subscribed(WsClient& client, const std::string& channel, int timeout_ms = kWaitMs) {
    std::optional<Pushed> notice = next_pushed(client, timeout_ms);
    if (!notice) return false;
    EXPECT_EQ(notice->event, "subscribed") << notice->raw;
    EXPECT_EQ(notice->channel, channel) << notice->raw;
    return notice->event == "subscribed";
}

std::unique_ptr<WsClient> ws_subscribe(int port, const std::string& channel,
                                       int timeout_ms = kWaitMs) {
    auto client = ws_connect(port, channel);
    EXPECT_TRUE(ws_subscribed(*client, channel, timeout_ms)) << client->last_error();
    return client;
}

/// WebSocket text frames carry UTF-8: the server replaces each byte that starts no valid
/// sequence with U+FFFD (ws_format.cpp). The data here is valid UTF-8 but for bytes that never
/// occur in UTF-8 (C0, C1, F5 to FF), so those are the ones replaced.
std::string as_websocket_text(const std::string& data) {
    std::string out;
    for (char c : data) {
        auto byte = static_cast<unsigned char>(c);
        if (byte == 0xc0 || byte == 0xc1 || byte >= 0xf5) {
            out += "\xEF\xBF\xBD";
        } else {
            out += c;
        }
    }
    return out;
}

void expect_ws_gets(WsClient& sub, const std::string& channel, const std::vector<Sent>& sent,
                    const std::string& who, int timeout_ms = kWaitMs) {
    SCOPED_TRACE(who);
    for (std::size_t i = 0; i < sent.size(); ++i) {
        std::optional<Pushed> p = next_pushed(sub, timeout_ms);
        ASSERT_TRUE(p) << "message " << i << " of " << sent.size()
                       << " did not come: " << sub.last_error();
        EXPECT_EQ(p->channel, channel) << p->raw;
        EXPECT_EQ(p->event, "") << p->raw;
        EXPECT_EQ(p->id, sent[i].id) << "message " << i << ": " << p->raw;
        EXPECT_EQ(p->data, as_websocket_text(sent[i].data)) << "message " << i;
    }
    std::optional<WsMessage> extra = sub.read_message(kQuietMs);
    EXPECT_FALSE(extra) << "more than was published: " << extra->payload;
}

HttpResponse poll_answer(HttpClient& client, int timeout_ms = kWaitMs) {
    HttpResponse response;
    if (!client.read_response(response, timeout_ms)) response.status = 0;
    return response;
}

/// A long-poll sent before the messages were published: its answer is the first, and each
/// next poll on the same connection, naming the ETag it has, the next.
void expect_polls_get(HttpClient& poller, const std::string& channel, const std::vector<Sent>& sent,
                      const std::string& who) {
    SCOPED_TRACE(who);
    for (std::size_t i = 0; i < sent.size(); ++i) {
        if (i > 0) {
            poller.send_get("/live/" + channel, "If-None-Match: \"" + sent[i - 1].id + "\"\r\n");
        }
        HttpResponse r = poll_answer(poller);
        ASSERT_EQ(r.status, 200) << "poll " << i << ": " << r.body;
        EXPECT_EQ(r.header("etag"), "\"" + sent[i].id + "\"");
        EXPECT_EQ(r.header("x-event"), "");
        EXPECT_EQ(r.body, sent[i].data) << "poll " << i;
    }
}

/// Sends SIGCONT to a process stopped with SIGSTOP when the test leaves its scope, however it
/// leaves: a stopped redis-server would never act on the SIGTERM that stops it.
struct ContinueAtExit {
    pid_t pid;
    ~ContinueAtExit() { ::kill(pid, SIGCONT); }
};

/// Data that is not text: control bytes, NUL, bytes that are not UTF-8, blank lines, a
/// trailing newline, and what SSE and JSON must escape.
const std::vector<std::string> kBinaryish = {
    std::string("first line\nsecond line"),
    std::string("ctl\x01\x1f\x7f tab\there nul") + '\0' + "byte",
    std::string("not utf-8: \xff\xfe and utf-8: \xc3\xa9\xe2\x82\xac"),
    std::string("{\"json\":\"quote \\\" backslash\"}\n\nafter a blank line\n"),
    std::string("data: id: event: looks like fields\n:and a comment"),
};

// ---- the engines that run these cases too ---------------------------------------------------

const std::vector<std::string> kRedisEngines = {"epoll", "uring", "thread"};

class PushRedisOnEngines : public ::testing::TestWithParam<std::string> {};

TEST_P(PushRedisOnEngines, PublishOnAReachesEverySubscriberOnBothServersInOrder) {
    RedisServer redis;
    PushServer a(GetParam(), redis_flags(redis.port()));
    PushServer b(GetParam(), redis_flags(redis.port()));
    const std::string channel = "scores";
    std::map<std::string, std::unique_ptr<SseClient>> sse;
    std::map<std::string, std::unique_ptr<HttpClient>> polls;
    std::map<std::string, std::unique_ptr<WsClient>> ws;
    for (PushServer* s : {&b, &a}) {
        std::string name = s == &a ? "A" : "B";
        sse[name] = sse_subscribe(s->port, channel);
        polls[name] = std::make_unique<HttpClient>(s->port);
        polls[name]->send_get("/live/" + channel);
        // Its "subscribed" notice comes when the channel is loaded on that server.
        ws[name] = ws_subscribe(s->port, channel);
        ASSERT_TRUE(s->subscribers_are(channel, 3)) << name;
    }
    ASSERT_FALSE(HasFailure()) << "A's log:\n"
                               << a.server->output() << "B's log:\n"
                               << b.server->output();
    std::vector<Sent> sent;
    for (const std::string& body : kBinaryish) {
        HttpResponse r = publish_answer(a, channel, body);
        ASSERT_EQ(r.status, 200) << r.body;
        JsonValue json = json_of(r);
        EXPECT_EQ(json["channel"].string, channel);
        // Both servers' subscription connections, each subscribed once the channel loaded.
        EXPECT_EQ(json["receivers"].number, 2) << r.body;
        sent.push_back({json["id"].string, body});
        if (sent.size() > 1) {
            EXPECT_LT(std::stoull(sent[sent.size() - 2].id), std::stoull(sent.back().id));
        }
    }
    for (const char* name : {"A", "B"}) {
        std::string who = std::string("on ") + name;
        expect_sse_gets(*sse[name], sent, "SSE " + who);
        expect_ws_gets(*ws[name], channel, sent, "WebSocket " + who);
        expect_polls_get(*polls[name], channel, sent, "long-poll " + who);
    }
}

TEST_P(PushRedisOnEngines, RedisKilledAndRestartedWithItsAppendOnlyFileLosesNothing) {
    RedisServer redis({"--appendonly", "yes", "--appendfsync", "always"});
    PushServer a(GetParam(), redis_flags(redis.port()));
    PushServer b(GetParam(), redis_flags(redis.port()));
    const std::string channel = "durable";
    auto sse_a = sse_subscribe(a.port, channel);
    auto sse_b = sse_subscribe(b.port, channel);
    auto ws_a = ws_subscribe(a.port, channel);
    auto ws_b = ws_subscribe(b.port, channel);
    ASSERT_FALSE(HasFailure()) << "A's log:\n"
                               << a.server->output() << "B's log:\n"
                               << b.server->output();
    std::vector<Sent> accepted;
    accepted.push_back(publish_ok(a, channel, "before 1"));
    accepted.push_back(publish_ok(b, channel, "before 2"));
    accepted.push_back(publish_ok(a, channel, "before 3"));

    redis.stop(SIGKILL);
    for (int i = 0; i < 4; ++i) {
        PushServer& s = i % 2 == 0 ? a : b;
        expect_refused(s, channel, "during the outage " + std::to_string(i));
    }
    redis.restart();
    Attempts first = publish_until_accepted(a, channel, "after the restart, on A");
    ASSERT_TRUE(first.accepted);
    accepted.push_back(*first.accepted);
    Attempts second = publish_until_accepted(b, channel, "after the restart, on B");
    ASSERT_TRUE(second.accepted);
    accepted.push_back(*second.accepted);
    accepted.push_back(publish_ok(a, channel, "after 3"));
    accepted.push_back(publish_ok(b, channel, "after 4"));

    // Every stream stayed open through the outage and carries each accepted message once: no
    // history-lost notice, none of the refused ones.
    expect_sse_gets(*sse_a, accepted, "SSE on A", kReconnectWaitMs);
    expect_sse_gets(*sse_b, accepted, "SSE on B", kReconnectWaitMs);
    expect_ws_gets(*ws_a, channel, accepted, "WebSocket on A", kReconnectWaitMs);
    expect_ws_gets(*ws_b, channel, accepted, "WebSocket on B", kReconnectWaitMs);
    EXPECT_TRUE(log_has(a, "push: lost redis://127.0.0.1:" + std::to_string(redis.port())));
    EXPECT_TRUE(a.server->running());
    EXPECT_TRUE(b.server->running());
}

INSTANTIATE_TEST_SUITE_P(PushRedisEngines, PushRedisOnEngines, ::testing::ValuesIn(kRedisEngines),
                         engine_param_name);

// ---- the rest on the default engine --------------------------------------------------------

TEST(PushRedis, ResumeOnTheOtherServerGetsExactlyWhatWasMissed) {
    RedisServer redis;
    PushServer a("epoll", redis_flags(redis.port()));
    PushServer b("epoll", redis_flags(redis.port()));
    const std::string channel = "resume";
    std::vector<Sent> sent;
    {
        auto sub = sse_subscribe(a.port, channel);
        auto ready = ws_subscribe(a.port, channel);
        sent.push_back(publish_ok(a, channel, "m1"));
        sent.push_back(publish_ok(b, channel, "m2"));
        sent.push_back(publish_ok(a, channel, "m3"));
        for (const Sent& m : sent) {
            SseEvent e;
            ASSERT_TRUE(sub->next_event(e, kWaitMs));
            EXPECT_EQ(e.id, m.id);
            EXPECT_EQ(e.data, m.data);
        }
    }
    const std::string seen = sent.back().id;
    std::vector<Sent> missed;
    missed.push_back(publish_ok(a, channel, "m4"));
    missed.push_back(publish_ok(b, channel, "m5"));
    missed.push_back(publish_ok(b, channel, "m6"));
    missed.push_back(publish_ok(a, channel, "m7"));
    missed.push_back(publish_ok(b, channel, "m8"));

    // SSE on B, which never held the channel: it loads it from Redis.
    auto again = sse_subscribe(b.port, channel, "Last-Event-ID: " + seen + "\r\n");
    expect_sse_gets(*again, missed, "SSE resumed on B");
    // The same over WebSocket, and as long-polls on A, which dropped the channel with its
    // last subscriber.
    auto ws_again = ws_connect(b.port, channel, "?last_event_id=" + seen);
    ASSERT_TRUE(ws_subscribed(*ws_again, channel));
    expect_ws_gets(*ws_again, channel, missed, "WebSocket resumed on B");
    HttpClient poller(a.port);
    poller.send_get("/live/" + channel, "Last-Event-ID: " + seen + "\r\n");
    HttpResponse r = poll_answer(poller);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "m4");
    EXPECT_EQ(r.header("etag"), "\"" + missed.front().id + "\"");

    // The resumed subscribers go on live.
    Sent live = publish_ok(a, channel, "m9");
    expect_sse_gets(*again, {live}, "SSE resumed on B, live");
    expect_ws_gets(*ws_again, channel, {live}, "WebSocket resumed on B, live");

    // An id this channel never had, older than all it holds or newer than any: history-lost,
    // then what the server holds, then live messages.
    std::vector<Sent> held = sent;
    held.insert(held.end(), missed.begin(), missed.end());
    held.push_back(live);
    for (const std::string& foreign :
         {std::string("1000001"), std::string("9000000000000000000")}) {
        SCOPED_TRACE("Last-Event-ID " + foreign);
        auto stranger = sse_subscribe(b.port, channel, "Last-Event-ID: " + foreign + "\r\n");
        SseEvent e;
        ASSERT_TRUE(stranger->next_event(e, kWaitMs));
        EXPECT_EQ(e.event, "history-lost");
        EXPECT_EQ(e.id, "");
        EXPECT_NE(e.data.find("\"last_event_id\":\"" + foreign + "\""), std::string::npos)
            << e.data;
        EXPECT_NE(e.data.find("\"first_available\":\"" + held.front().id + "\""), std::string::npos)
            << e.data;
        expect_sse_gets(*stranger, held, "after history-lost");
    }
}

TEST(PushRedis, RedisRestartedWithoutPersistenceTellsSubscribersHistoryWasLost) {
    RedisServer redis;
    PushServer a("epoll", redis_flags(redis.port()));
    PushServer b("epoll", redis_flags(redis.port()));
    const std::string channel = "forgetful";
    auto sse_a = sse_subscribe(a.port, channel);
    auto sse_b = sse_subscribe(b.port, channel);
    auto ws_a = ws_subscribe(a.port, channel);
    auto ws_b = ws_subscribe(b.port, channel);
    Sent before = publish_ok(a, channel, "before");
    expect_sse_gets(*sse_a, {before}, "SSE on A");
    expect_sse_gets(*sse_b, {before}, "SSE on B");
    expect_ws_gets(*ws_a, channel, {before}, "WebSocket on A");
    expect_ws_gets(*ws_b, channel, {before}, "WebSocket on B");

    redis.restart();  // SIGTERM, then a fresh start: neither snapshots nor an append-only file
    Attempts attempts = publish_until_accepted(a, channel, "after");
    ASSERT_TRUE(attempts.accepted);
    Sent after = *attempts.accepted;
    // B reconnects on its own backoff: it may still be away when A is back.
    attempts = publish_until_accepted(b, channel, "next");
    ASSERT_TRUE(attempts.accepted);
    Sent next = *attempts.accepted;

    for (auto* sub : {sse_a.get(), sse_b.get()}) {
        SCOPED_TRACE(sub == sse_a.get() ? "SSE on A" : "SSE on B");
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e, kReconnectWaitMs));
        EXPECT_EQ(e.event, "history-lost") << e.data;
        EXPECT_EQ(e.id, "");
        EXPECT_NE(e.data.find("\"last_event_id\":\"" + before.id + "\""), std::string::npos)
            << e.data;
        expect_sse_gets(*sub, {after, next}, "after history-lost", kReconnectWaitMs);
    }
    for (auto* sub : {ws_a.get(), ws_b.get()}) {
        SCOPED_TRACE(sub == ws_a.get() ? "WebSocket on A" : "WebSocket on B");
        std::optional<Pushed> p = next_pushed(*sub, kReconnectWaitMs);
        ASSERT_TRUE(p) << sub->last_error();
        EXPECT_EQ(p->event, "history-lost") << p->raw;
        EXPECT_EQ(p->channel, channel) << p->raw;
        std::optional<JsonValue> json = parse_json(p->raw);
        ASSERT_TRUE(json);
        EXPECT_EQ((*json)["data"]["last_event_id"].string, before.id) << p->raw;
        expect_ws_gets(*sub, channel, {after, next}, "after history-lost", kReconnectWaitMs);
    }
    EXPECT_TRUE(log_has(a, "does not continue from id " + before.id));
    EXPECT_TRUE(log_has(b, "does not continue from id " + before.id));
}

TEST(PushRedis, RedisAbsentAtStartIsWaitedForUnlessRequired) {
    RedisServer redis;
    const int port = redis.port();
    const std::string where = "127.0.0.1:" + std::to_string(port);
    redis.stop();  // nothing listens on its port now; restart() brings it back there

    // --redis-require refuses to start, and says why.
    TempDir root;
    CommandResult refused =
        run_command({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--publish-listen",
                     "127.0.0.1:0", "--push", "/live/", "--redis", redis_url(port),
                     "--redis-require", "--redis-timeout", "1s"});
    EXPECT_NE(refused.status, 0);
    EXPECT_NE(refused.output.find("--redis-require"), std::string::npos) << refused.output;
    EXPECT_NE(refused.output.find(where), std::string::npos) << refused.output;
    EXPECT_EQ(refused.output.find("c10k: serving"), std::string::npos) << refused.output;

    // Without it the servers start, serve files, hold new subscribers until the channel can be
    // read (an SSE head promises every message from then on), and refuse publishes.
    PushServer a("epoll", redis_flags(port));
    PushServer b("epoll", redis_flags(port));
    for (PushServer* s : {&a, &b}) {
        HttpResponse file = fetch(s->port, "/index.html");
        EXPECT_EQ(file.status, 200);
        EXPECT_EQ(file.body, "home\n");
        std::string error = expect_refused(*s, "late", "too early");
        EXPECT_NE(error.find(where), std::string::npos) << error;
    }
    auto sse_b = std::make_unique<SseClient>(b.port, "/live/late");
    EXPECT_FALSE(sse_b->read_head(kQuietMs));
    EXPECT_FALSE(sse_b->closed());
    auto ws_b = ws_connect(b.port, "late");
    EXPECT_TRUE(log_has(a, where));
    EXPECT_TRUE(log_has(a, "unreachable"));

    redis.restart();
    // A channel nobody watches tells when A reaches Redis; B's WebSocket subscriber is told
    // "subscribed" when B has, and has loaded the channel.
    ASSERT_TRUE(publish_until_accepted(a, "probe", "probe").accepted);
    ASSERT_TRUE(ws_subscribed(*ws_b, "late", kReconnectWaitMs)) << b.server->output();
    ASSERT_TRUE(sse_b->read_head(kReconnectWaitMs));
    EXPECT_EQ(sse_b->status(), 200);
    EXPECT_EQ(sse_b->header("content-type"), "text/event-stream");
    std::vector<Sent> sent = {publish_ok(a, "late", "on time"), publish_ok(b, "late", "also")};
    expect_sse_gets(*sse_b, sent, "SSE on B");
    expect_ws_gets(*ws_b, "late", sent, "WebSocket on B");
    EXPECT_TRUE(log_has(a, "push: connected to redis://" + where));

    // With Redis there, --redis-require starts.
    PushServer required("epoll", redis_flags(port, {"--redis-require"}));
    Sent checked = publish_ok(required, "late", "required");
    EXPECT_FALSE(checked.id.empty());
}

/// Two servers that follow something that is not a working Redis: they stay up, serve files,
/// hold a new SSE subscriber (no head: the channel cannot be read), answer publishes 503, and
/// log `wanted`.
void expect_survives(int port, const std::string& wanted) {
    PushServer a("epoll", redis_flags(port, {"--redis-timeout", "300ms"}));
    PushServer b("epoll", redis_flags(port, {"--redis-timeout", "300ms"}));
    for (PushServer* s : {&a, &b}) {
        SCOPED_TRACE(s == &a ? "A" : "B");
        EXPECT_TRUE(log_has(*s, wanted)) << s->server->output();
        HttpResponse file = fetch(s->port, "/index.html");
        EXPECT_EQ(file.status, 200);
        EXPECT_EQ(file.body, "home\n");
        SseClient sub(s->port, "/live/ch");
        std::string error = expect_refused(*s, "ch", "nobody takes this");
        EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << error;
        EXPECT_FALSE(sub.read_head(kQuietMs));
        EXPECT_FALSE(sub.closed());
        EXPECT_TRUE(s->server->running());
    }
}

TEST(PushRedis, AServerThatAnswersGarbageIsReportedAndPublishesGet503) {
    {
        SCOPED_TRACE("an error, then replies to nothing, then an absurd bulk length");
        FakeRedis fake("-ERR nonsense\r\n+OK\r\n$999999999999\r\n");
        expect_survives(fake.port(), "PING refused: ERR nonsense");
        EXPECT_GT(fake.accepted(), 0);
    }
    {
        SCOPED_TRACE("an HTTP server");
        FakeRedis fake(
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        expect_survives(fake.port(), "not RESP");
    }
}

TEST(PushRedis, AServerThatNeverAnswersIsTimedOut) {
    FakeRedis fake("");
    expect_survives(fake.port(), "did not complete the connection within 300 ms");
    EXPECT_GT(fake.received(), 0);  // it was sent the handshake
}

TEST(PushRedis, AStoppedRedisTimesPublishesOutAndIsUsedAgainWhenItContinues) {
    RedisServer redis;
    PushServer a("epoll", redis_flags(redis.port(), {"--redis-timeout", "300ms"}));
    PushServer b("epoll", redis_flags(redis.port(), {"--redis-timeout", "300ms"}));
    const std::string channel = "paused";
    auto sse_b = sse_subscribe(b.port, channel);
    auto ws_b = ws_subscribe(b.port, channel);
    Sent first = publish_ok(a, channel, "before the stop");
    const std::string timed_out = "while stopped";
    {
        ASSERT_EQ(::kill(redis.pid(), SIGSTOP), 0);
        ContinueAtExit resume{redis.pid()};
        // Sent and never answered: Redis may still store it, so the answer is 504 and says
        // so (a 503 would tell the publisher that a retry makes no duplicate).
        HttpResponse unanswered = publish_answer(a, channel, timed_out);
        EXPECT_EQ(unanswered.status, 504) << unanswered.body;
        JsonValue json = json_of(unanswered);
        EXPECT_EQ(json["channel"].string, channel);
        EXPECT_TRUE(json["maybe_published"].boolean) << unanswered.body;
        EXPECT_NE(json["error"].string.find("127.0.0.1:" + std::to_string(redis.port())),
                  std::string::npos)
            << unanswered.body;
        EXPECT_TRUE(log_has(a, "did not answer for 300 ms")) << a.server->output();
        // The connection was given up: what follows is not sent at all, so a plain 503.
        expect_refused(a, channel, "refused while stopped");
        EXPECT_EQ(fetch(a.port, "/index.html").status, 200);
    }
    Attempts attempts = publish_until_accepted(a, channel, "after the continue");
    ASSERT_TRUE(attempts.accepted);
    Sent last = *attempts.accepted;

    // The publish that timed out was written to Redis before it stopped, and Redis may run it
    // when it continues (hence the 504). Either way nothing is repeated, nothing is out of
    // order, every accepted message comes, and the refused one never does.
    SseEvent e;
    ASSERT_TRUE(sse_b->next_event(e, kWaitMs));
    EXPECT_EQ(e.id, first.id);
    ASSERT_TRUE(sse_b->next_event(e, kReconnectWaitMs));
    bool stored_anyway = e.data == timed_out;
    if (stored_anyway) {
        ASSERT_TRUE(sse_b->next_event(e, kReconnectWaitMs));
    }
    EXPECT_EQ(e.event, "") << e.data;
    EXPECT_EQ(e.data, last.data);
    EXPECT_EQ(e.id, last.id);
    EXPECT_FALSE(sse_b->next_event(e, kQuietMs)) << "more than was published: " << e.data;
    RecordProperty("timed_out_publish_stored", stored_anyway ? "yes" : "no");

    std::vector<Sent> ws_wanted = {first};
    if (stored_anyway) ws_wanted.push_back({"", timed_out});
    ws_wanted.push_back(last);
    for (std::size_t i = 0; i < ws_wanted.size(); ++i) {
        std::optional<Pushed> p = next_pushed(*ws_b, kReconnectWaitMs);
        ASSERT_TRUE(p) << ws_b->last_error();
        EXPECT_EQ(p->data, ws_wanted[i].data);
        if (!ws_wanted[i].id.empty()) {
            EXPECT_EQ(p->id, ws_wanted[i].id);
        }
    }
}

TEST(PushRedis, DeleteOnAEndsTheStreamsOnB) {
    RedisServer redis;
    PushServer a("epoll", redis_flags(redis.port()));
    PushServer b("epoll", redis_flags(redis.port()));
    const std::string channel = "doomed";
    std::vector<std::unique_ptr<SseClient>> on_b;
    on_b.push_back(sse_subscribe(b.port, channel));
    on_b.push_back(sse_subscribe(b.port, channel));
    auto ready_b = ws_subscribe(b.port, channel);
    auto on_a = sse_subscribe(a.port, channel);
    auto ready_a = ws_subscribe(a.port, channel);
    Sent last = publish_ok(a, channel, "last words");
    for (auto& sub : on_b) expect_sse_gets(*sub, {last}, "SSE on B");
    expect_sse_gets(*on_a, {last}, "SSE on A");

    HttpResponse deleted = request(a.pub, "DELETE", "/pub/" + channel);
    EXPECT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_EQ(json_of(deleted)["deleted"].boolean, true) << deleted.body;
    for (auto& sub : on_b) {
        EXPECT_TRUE(sub->wait_end(kWaitMs));
        EXPECT_TRUE(sub->saw_last_chunk()) << "the stream on B was cut instead of ended";
    }
    EXPECT_TRUE(on_a->wait_end(kWaitMs));
    EXPECT_TRUE(on_a->saw_last_chunk()) << "the stream on A was cut instead of ended";

    HttpResponse again = request(a.pub, "DELETE", "/pub/" + channel);
    EXPECT_EQ(again.status, 404) << again.body;
    HttpResponse on_other = request(b.pub, "DELETE", "/pub/" + channel);
    EXPECT_EQ(on_other.status, 404) << on_other.body;
}

// ---- --processes: every process follows Redis on its own ------------------------------------

std::vector<pid_t> children_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> children;
    pid_t child = 0;
    while (in >> child) children.push_back(child);
    return children;
}

/// The client ports of the TCP connections to 127.0.0.1:server_port, by socket inode.
std::map<std::string, int> server_sockets(int server_port) {
    std::map<std::string, int> peers;
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        if (local.size() < 5 || remote.size() < 5) continue;
        int local_port = std::stoi(local.substr(local.size() - 4), nullptr, 16);
        if (local_port != server_port || state != "01") continue;  // 01: established
        peers[inode] = std::stoi(remote.substr(remote.size() - 4), nullptr, 16);
    }
    return peers;
}

/// How many of the sockets in `peers` process `pid` holds.
int held_by(pid_t pid, const std::map<std::string, int>& peers) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* fds = ::opendir(dir.c_str());
    if (fds == nullptr) return 0;
    int count = 0;
    while (dirent* entry = ::readdir(fds)) {
        char target[64] = {};
        std::string path = dir + "/" + entry->d_name;
        ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
        std::string link(target, n > 0 ? static_cast<std::size_t>(n) : 0);
        if (!link.starts_with("socket:[")) continue;
        if (peers.count(link.substr(8, link.size() - 9)) != 0) ++count;
    }
    ::closedir(fds);
    return count;
}

TEST(PushRedis, ProcessesOfOneServerEachFollowRedis) {
    RedisServer redis;
    PushServer a("epoll", redis_flags(redis.port(), {"--processes", "2"}));
    PushServer b("epoll", redis_flags(redis.port()));
    const std::string channel = "crowd";
    // Subscribers resume from a first message, so each gets what follows it however late its
    // process loads the channel.
    Sent seed = publish_ok(a, channel, "seed");
    const std::string resume = "Last-Event-ID: " + seed.id + "\r\n";
    std::vector<std::unique_ptr<SseClient>> subs_a;
    for (int i = 0; i < 16; ++i) subs_a.push_back(sse_subscribe(a.port, channel, resume));
    std::vector<std::unique_ptr<SseClient>> subs_b;
    for (int i = 0; i < 3; ++i) subs_b.push_back(sse_subscribe(b.port, channel, resume));

    std::vector<pid_t> children = children_of(a.server->pid());
    ASSERT_EQ(children.size(), 2u);
    std::map<std::string, int> peers = server_sockets(a.port);
    int first = held_by(children[0], peers);
    int second = held_by(children[1], peers);
    EXPECT_EQ(first + second, 16);
    // SO_REUSEPORT spreads connections by a hash of their addresses: all 16 on one process
    // happens once in 2^15 runs.
    EXPECT_GT(first, 0);
    EXPECT_GT(second, 0);

    std::vector<Sent> sent;
    for (int m = 0; m < 5; ++m) sent.push_back(publish_ok(a, channel, "m" + std::to_string(m)));
    for (std::size_t i = 0; i < subs_a.size(); ++i) {
        expect_sse_gets(*subs_a[i], sent, "SSE " + std::to_string(i) + " on A");
    }
    for (auto& sub : subs_b) expect_sse_gets(*sub, sent, "SSE on B");
    // Each process that holds subscribers is subscribed in Redis on its own, as is B.
    HttpResponse r = publish_answer(a, channel, "counted");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json_of(r)["receivers"].number, 3) << r.body;
    EXPECT_EQ(a.server->stop(SIGTERM, 15000), 0) << a.server->output();
}

TEST(PushRedis, BadRedisFlagsNameTheFlag) {
    CommandResult r = run_command(
        {"serve", "--listen", "127.0.0.1:0", "--push", "/live/", "--redis", "http://x"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--redis:"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("redis://"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("c10k: serving"), std::string::npos) << r.output;
    r = run_command({"serve", "--listen", "127.0.0.1:0", "--push", "/live/", "--redis-require"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--redis-require"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("c10k: serving"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test
