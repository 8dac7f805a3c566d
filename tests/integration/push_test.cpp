// Live push end to end: the real binary with --push, SSE and long-poll subscribers on raw
// sockets, publishes through the publish listener. The core behaviours run on every engine that
// holds subscribers.

#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/push_client.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

std::unique_ptr<SseClient> subscribe(int port, const std::string& path,
                                     const std::string& headers = {}) {
    auto client = std::make_unique<SseClient>(port, path, headers);
    EXPECT_TRUE(client->read_head());
    return client;
}

std::uint64_t as_id(const std::string& text) {
    return std::stoull(text);
}

/// Reads the long-poll answer the server gives on `client` (a poll sent before).
HttpResponse poll_answer(HttpClient& client, int timeout_ms = 5000) {
    HttpResponse response;
    if (!client.read_response(response, timeout_ms)) response.status = 0;
    return response;
}

class PushOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(PushOnEveryEngine, SseStreamCarriesEveryPublishInOrder) {
    PushServer s(GetParam());
    auto sub = subscribe(s.port, "/live/scores");
    EXPECT_EQ(sub->status(), 200);
    EXPECT_EQ(sub->header("content-type"), "text/event-stream");
    EXPECT_EQ(sub->header("transfer-encoding"), "chunked");
    EXPECT_EQ(sub->header("cache-control"), "no-cache");
    std::string first = s.publish("scores", "1-0");
    s.publish("scores", "line one\nline two", "X-Event: update\r\n");
    s.publish("scores", "2-0");
    SseEvent e;
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(e.id, first);
    EXPECT_EQ(e.data, "1-0");
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(as_id(e.id), as_id(first) + 1);
    EXPECT_EQ(e.event, "update");
    EXPECT_EQ(e.data, "line one\nline two");
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(as_id(e.id), as_id(first) + 2);
    EXPECT_EQ(e.data, "2-0");
}

TEST_P(PushOnEveryEngine, ResumeWithLastEventIdLosesNothingAndRepeatsNothing) {
    PushServer s(GetParam());
    std::string seen;
    {
        auto sub = subscribe(s.port, "/live/c");
        s.publish("c", "m1");
        s.publish("c", "m2");
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e));
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.data, "m2");
        seen = e.id;
    }
    s.publish("c", "m3");
    s.publish("c", "m4");
    s.publish("c", "m5");
    auto sub = subscribe(s.port, "/live/c", "Last-Event-ID: " + seen + "\r\n");
    s.publish("c", "m6");
    for (int i = 3; i <= 6; ++i) {
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e)) << "message " << i;
        EXPECT_EQ(e.data, "m" + std::to_string(i));
        EXPECT_EQ(as_id(e.id), as_id(seen) + static_cast<std::uint64_t>(i - 2));
    }
    SseEvent extra;
    EXPECT_FALSE(sub->next_event(extra, 300)) << "repeated: " << extra.data;
}

TEST_P(PushOnEveryEngine, LongPollWaitsForTheNextMessageAndResumesByEtag) {
    PushServer s(GetParam());
    HttpClient client(s.port);
    client.send_get("/live/lp");
    HttpResponse early;
    EXPECT_FALSE(client.read_response(early, 300)) << "answered before any publish";
    std::string id = s.publish("lp", "{\"score\":1}", "Content-Type: application/json\r\n");
    HttpResponse r = poll_answer(client);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"score\":1}");
    EXPECT_EQ(r.header("etag"), "\"" + id + "\"");
    EXPECT_EQ(r.header("content-type"), "application/json");
    // The next poll, on the same connection, names what it has and waits for what follows.
    client.send_get("/live/lp", "If-None-Match: " + r.header("etag") + "\r\n");
    EXPECT_FALSE(client.read_response(early, 300));
    std::string next = s.publish("lp", "{\"score\":2}");
    r = poll_answer(client);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"score\":2}");
    EXPECT_EQ(as_id(next), as_id(id) + 1);
    // A poll that names an older id gets the message after it at once.
    HttpClient again(s.port);
    again.send_get("/live/lp", "Last-Event-ID: " + id + "\r\n");
    r = poll_answer(again, 2000);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"score\":2}");
}

TEST_P(PushOnEveryEngine, PublishOnOneLoopReachesSubscribersOnEveryLoop) {
    // Four loops, each with its own SO_REUSEPORT listener: the kernel spreads 24 subscribers
    // over them, and the publish lands on whichever loop accepts the publish connection.
    PushServer s(GetParam(), {}, 4);
    std::vector<std::unique_ptr<SseClient>> subs;
    for (int i = 0; i < 24; ++i) subs.push_back(subscribe(s.port, "/live/all"));
    // Every subscriber is counted before the first publish.
    ASSERT_TRUE(s.subscribers_are("all", 24));
    std::vector<std::string> ids;
    for (int m = 0; m < 5; ++m) ids.push_back(s.publish("all", "msg" + std::to_string(m)));
    for (auto& sub : subs) {
        for (int m = 0; m < 5; ++m) {
            SseEvent e;
            ASSERT_TRUE(sub->next_event(e));
            EXPECT_EQ(e.id, ids[static_cast<std::size_t>(m)]);
            EXPECT_EQ(e.data, "msg" + std::to_string(m));
        }
    }
}

TEST_P(PushOnEveryEngine, SigtermEndsStreamsCleanlyAndAnswersLongPolls) {
    PushServer s(GetParam());
    auto sub = subscribe(s.port, "/live/t");
    HttpClient poller(s.port);
    poller.send_get("/live/t");
    ASSERT_TRUE(s.subscribers_are("t", 2));
    s.publish("t", "before");
    SseEvent e;
    ASSERT_TRUE(sub->next_event(e));
    HttpResponse first = poll_answer(poller);
    ASSERT_EQ(first.status, 200);
    poller.send_get("/live/t", "If-None-Match: " + first.header("etag") + "\r\n");
    ASSERT_TRUE(s.subscribers_are("t", 2));
    ::kill(s.server->pid(), SIGTERM);
    EXPECT_TRUE(sub->wait_end(5000));
    EXPECT_TRUE(sub->saw_last_chunk()) << "the stream was cut instead of ended";
    HttpResponse last = poll_answer(poller);
    EXPECT_EQ(last.status, 503);
    EXPECT_EQ(last.header("connection"), "close");
    EXPECT_EQ(s.server->stop(SIGTERM, 10000), 0);
}

INSTANTIATE_TEST_SUITE_P(PushEngines, PushOnEveryEngine, ::testing::ValuesIn(kPushEngines),
                         engine_param_name);

// ---- the rest on the default engine --------------------------------------------------------

TEST(Push, HistoryLostIsAnExplicitEventNotASilentGap) {
    PushServer s("epoll", {"--push-history", "2"});
    std::string first = s.publish("h", "a");
    for (const char* body : {"b", "c", "d", "e"}) s.publish("h", body);
    auto sub = subscribe(s.port, "/live/h", "Last-Event-ID: " + first + "\r\n");
    SseEvent e;
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(e.event, "history-lost");
    EXPECT_EQ(e.id, "");  // it does not move the client's Last-Event-ID
    EXPECT_NE(e.data.find(first), std::string::npos) << e.data;
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(e.data, "d");
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(e.data, "e");
    // Long-poll: the same news as a response, with an ETag that fetches the oldest held next.
    HttpClient poller(s.port);
    poller.send_get("/live/h", "Last-Event-ID: " + first + "\r\n");
    HttpResponse r = poll_answer(poller);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-event"), "history-lost");
    poller.send_get("/live/h", "If-None-Match: " + r.header("etag") + "\r\n");
    r = poll_answer(poller);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "d");
}

TEST(Push, PushFirstNewestGivesTheCurrentStateAtOnce) {
    PushServer s("epoll", {"--push-first", "newest"});
    s.publish("score", "old");
    std::string id = s.publish("score", "current");
    auto sub = subscribe(s.port, "/live/score");
    SseEvent e;
    ASSERT_TRUE(sub->next_event(e, 2000));
    EXPECT_EQ(e.data, "current");
    EXPECT_EQ(e.id, id);
    HttpResponse r = fetch(s.port, "/live/score");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "current");
    // Without --push-first a new subscriber waits for the next message.
    PushServer plain("epoll");
    plain.publish("score", "old");
    auto waiting = subscribe(plain.port, "/live/score");
    EXPECT_FALSE(waiting->next_event(e, 300));
}

TEST(Push, LongPollTimesOutWith304AndKeepsTheConnection) {
    PushServer s("epoll", {"--push-long-poll-timeout", "1s"});
    std::string id = s.publish("idle", "x");
    HttpClient client(s.port);
    client.send_get("/live/idle", "Last-Event-ID: " + id + "\r\n");
    HttpResponse r = poll_answer(client, 5000);
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.header("etag"), "\"" + id + "\"");
    client.send_get("/index.html");
    r = poll_answer(client);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "home\n");
}

TEST(Push, PublishingOnlyOnThePublishListenerAndTokenChecked) {
    PushServer s("epoll", {"--publish-token", "s3cret"});
    // The public listener never publishes: /pub/ there is an ordinary path.
    HttpResponse r = request(s.port, "POST", "/pub/x", "hello");
    EXPECT_NE(r.status, 200);
    EXPECT_EQ(r.body.find("\"id\""), std::string::npos);
    r = request(s.port, "GET", "/pub/x");
    EXPECT_EQ(r.status, 404);
    r = request(s.pub, "POST", "/pub/x", "hello");
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.header("www-authenticate").find("Bearer"), std::string::npos);
    r = request(s.pub, "POST", "/pub/x", "hello", "Authorization: Bearer wrong\r\n");
    EXPECT_EQ(r.status, 403);
    r = request(s.pub, "POST", "/pub/x", "hello", "Authorization: Bearer s3cret\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"id\":\""), std::string::npos);
    // Nothing but /pub/ on the publish listener.
    r = request(s.pub, "GET", "/index.html", "", "Authorization: Bearer s3cret\r\n");
    EXPECT_EQ(r.status, 404);
}

TEST(Push, ChannelInfoAndDeleteCloseSubscribers) {
    PushServer s("epoll");
    auto sub = subscribe(s.port, "/live/gone");
    HttpClient poller(s.port);
    poller.send_get("/live/gone");
    std::string id = s.publish("gone", "last words");
    SseEvent e;
    ASSERT_TRUE(sub->next_event(e));
    HttpResponse lp = poll_answer(poller);
    ASSERT_EQ(lp.status, 200);
    poller.send_get("/live/gone", "If-None-Match: " + lp.header("etag") + "\r\n");
    ASSERT_TRUE(s.subscribers_are("gone", 2));
    HttpResponse info = request(s.pub, "GET", "/pub/gone");
    EXPECT_EQ(info.status, 200);
    EXPECT_NE(info.body.find("\"subscribers\":2"), std::string::npos) << info.body;
    EXPECT_NE(info.body.find("\"last_id\":\"" + id + "\""), std::string::npos) << info.body;
    EXPECT_NE(info.body.find("\"messages\":1"), std::string::npos) << info.body;
    HttpResponse del = request(s.pub, "DELETE", "/pub/gone");
    EXPECT_EQ(del.status, 200);
    EXPECT_TRUE(sub->wait_end(3000));
    EXPECT_TRUE(sub->saw_last_chunk());
    HttpResponse ended = poll_answer(poller);
    EXPECT_EQ(ended.status, 410);
    EXPECT_EQ(request(s.pub, "GET", "/pub/gone").status, 404);
    EXPECT_EQ(request(s.pub, "DELETE", "/pub/gone").status, 404);
}

TEST(Push, BadInputGetsAClearAnswer) {
    PushServer s("epoll", {"--push-max-message", "1000"});
    HttpResponse r = request(s.pub, "POST", "/pub/big", std::string(1001, 'x'));
    EXPECT_EQ(r.status, 413);
    r = request(s.pub, "POST", "/pub/ok", std::string(1000, 'x'));
    EXPECT_EQ(r.status, 200);
    r = request(s.pub, "POST", "/pub/bad%20name", "x");
    EXPECT_EQ(r.status, 400);
    r = request(s.pub, "POST", "/pub/ok", "x", "X-Event: two\r\n words\r\n");
    EXPECT_EQ(r.status, 400);
    r = request(s.pub, "POST", "/pub/ok?event=bad%0aname", "x");
    EXPECT_EQ(r.status, 400);
    r = fetch(s.port, "/live/bad%2Fname");
    EXPECT_EQ(r.status, 400);
    r = fetch(s.port, "/live/");
    EXPECT_EQ(r.status, 400);
    r = request(s.port, "POST", "/live/ok", "x");
    EXPECT_EQ(r.status, 405);
    // A Last-Event-ID that is not an id counts as none: the subscriber gets what comes next.
    auto sub = subscribe(s.port, "/live/ok", "Last-Event-ID: banana\r\n");
    std::string id = s.publish("ok", "fresh");
    SseEvent e;
    ASSERT_TRUE(sub->next_event(e));
    EXPECT_EQ(e.data, "fresh");
    EXPECT_EQ(e.id, id);
}

TEST(Push, Http10StreamIsDelimitedByTheClose) {
    PushServer s("epoll");
    SseClient sub(s.port, "/live/old", {}, /*http10=*/true);
    ASSERT_TRUE(sub.read_head());
    EXPECT_EQ(sub.header("transfer-encoding"), "");
    EXPECT_EQ(sub.header("connection"), "close");
    s.publish("old", "hello 1.0");
    SseEvent e;
    ASSERT_TRUE(sub.next_event(e));
    EXPECT_EQ(e.data, "hello 1.0");
    ASSERT_EQ(request(s.pub, "DELETE", "/pub/old").status, 200);
    EXPECT_TRUE(sub.wait_end(3000));
    EXPECT_TRUE(sub.closed());
}

long rss_kb(pid_t pid) {
    std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
    if (f == nullptr) return -1;
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    }
    std::fclose(f);
    return kb;
}

/// A subscriber that never reads, a fast one, and 15 MB published: past what the kernel's socket
/// buffers absorb (up to 4 MB each way on loopback) plus the slow one's bound. Returns the
/// server's RSS growth in kB over the run.
long flood_with_a_slow_subscriber(PushServer& s) {
    // A small fixed receive buffer, so the server's queue fills instead of the kernel's buffers.
    auto slow = std::make_unique<SseClient>(s.port, "/live/firehose", "", false, 4096);
    EXPECT_TRUE(slow->read_head());
    auto fast = subscribe(s.port, "/live/firehose");
    long before = rss_kb(s.server->pid());
    std::string body(50'000, 'p');
    constexpr int kMessages = 300;
    int received = 0;
    for (int i = 0; i < kMessages; ++i) {
        s.publish("firehose", body);
        SseEvent e;
        if (!fast->next_event(e)) break;
        EXPECT_EQ(e.data.size(), body.size());
        ++received;
    }
    EXPECT_EQ(received, kMessages);
    EXPECT_TRUE(slow->wait_end(5000)) << "the slow subscriber was never closed";
    EXPECT_NE(s.server->output().find("closing a slow subscriber"), std::string::npos);
    return rss_kb(s.server->pid()) - before;
}

// History of one message, so that what the server holds is the queues, not the history.
const std::vector<std::string> kFloodFlags = {
    "--push-max-queue", "262144", "--push-max-message", "100000", "--push-history", "1"};

TEST(Push, SlowSubscriberIsClosedAtItsBoundAndOthersGetEverything) {
    PushServer s("epoll", kFloodFlags);
    flood_with_a_slow_subscriber(s);
}

// Apart, so that sanitizer runs (whose RSS counts shadow memory) can leave it out.
TEST(PushMemory, SlowSubscriberCostsNoMoreThanItsBound) {
    PushServer s("epoll", kFloodFlags);
    long grew = flood_with_a_slow_subscriber(s);
    EXPECT_LT(grew, 2 * 1024) << "RSS grew by " << grew << " kB";
}

TEST(Push, DisconnectFreesTheSubscriberAtOnce) {
    PushServer s("epoll");
    std::vector<std::unique_ptr<SseClient>> subs;
    for (int i = 0; i < 40; ++i) subs.push_back(subscribe(s.port, "/live/count"));
    HttpClient poller(s.port);
    poller.send_get("/live/count");
    auto count_is = [&](int n) { return s.subscribers_are("count", n); };
    EXPECT_TRUE(count_is(41));
    subs.resize(10);
    EXPECT_TRUE(count_is(11));
    subs.clear();
    ::shutdown(poller.fd(), SHUT_RDWR);
    EXPECT_TRUE(count_is(0));
}

TEST(Push, ProcessesDeliverEverywhereAndResumeOnAnyProcess) {
    // Three processes of two loops: process 0 serves the publish listener and sends every
    // message to the others, which each keep a replica of the history.
    PushServer s("epoll", {"--processes", "3"}, 2);
    s.wait_for_group();
    std::vector<std::unique_ptr<SseClient>> subs;
    for (int i = 0; i < 30; ++i) subs.push_back(subscribe(s.port, "/live/group"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::vector<std::string> ids;
    for (int m = 0; m < 4; ++m) ids.push_back(s.publish("group", "g" + std::to_string(m)));
    for (auto& sub : subs) {
        for (int m = 0; m < 4; ++m) {
            SseEvent e;
            ASSERT_TRUE(sub->next_event(e)) << "message " << m;
            EXPECT_EQ(e.id, ids[static_cast<std::size_t>(m)]);
            EXPECT_EQ(e.data, "g" + std::to_string(m));
        }
    }
    // Subscribers leave and come back on whichever process the kernel picks: each resumes from
    // its Last-Event-ID with the replica's history, nothing lost, nothing repeated.
    subs.clear();
    s.publish("group", "missed1");
    std::string last = s.publish("group", "missed2");
    for (int i = 0; i < 12; ++i) {
        auto sub = subscribe(s.port, "/live/group", "Last-Event-ID: " + ids[3] + "\r\n");
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.data, "missed1");
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.data, "missed2");
        EXPECT_EQ(e.id, last);
        EXPECT_FALSE(sub->next_event(e, 100)) << "repeated: " << e.data;
    }
    EXPECT_EQ(s.server->stop(SIGTERM, 15000), 0);
}

std::vector<pid_t> children_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> children;
    pid_t child = 0;
    while (in >> child) children.push_back(child);
    return children;
}

TEST(Push, ProcessesSurviveTheSequencerDying) {
    PushServer s("epoll", {"--processes", "3"}, 1);
    s.wait_for_group();
    std::vector<std::unique_ptr<SseClient>> subs;
    for (int i = 0; i < 12; ++i) subs.push_back(subscribe(s.port, "/live/k"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::string first = s.publish("k", "m1");
    for (auto& sub : subs) {
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.data, "m1");
    }
    // The sequencer (the oldest child: slot 0) dies without a word.
    std::vector<pid_t> children = children_of(s.server->pid());
    ASSERT_EQ(children.size(), 3u);
    ASSERT_EQ(::kill(children[0], SIGKILL), 0);
    // Every stream ends: the sequencer's own with its death, the others' because their link is
    // gone (they would otherwise wait forever for messages nobody sends them).
    for (auto& sub : subs) EXPECT_TRUE(sub->wait_end(10000));
    // The supervisor starts another sequencer, the others link to it on their next tick, and
    // clients that come back with their Last-Event-ID get what is published next (after a
    // history-lost event where they land on the new sequencer, which never saw their id).
    s.wait_for_group();
    subs.clear();
    for (int i = 0; i < 12; ++i) {
        subs.push_back(subscribe(s.port, "/live/k", "Last-Event-ID: " + first + "\r\n"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s.publish("k", "m2");
    for (auto& sub : subs) {
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e));
        if (e.event == "history-lost") ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.data, "m2");
    }
    EXPECT_NE(s.server->output().find("lost the link from the publishing process"),
              std::string::npos);
}

/// Waits (bounded) until process `pid` has exited, by which time the kernel has closed its
/// sockets: its clients' streams have ended and its link to the sequencer has.
bool exited(pid_t pid) {
    for (int i = 0; i < 100; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line)) return true;  // reaped by the supervisor
        auto state = line.rfind(')');
        if (state != std::string::npos && line.compare(state, 3, ") Z") == 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

TEST(Push, ChannelInfoCountsTheSubscribersOfEveryProcess) {
    // The kernel spreads the subscribers over the three processes (SO_REUSEPORT); the others
    // report their counts to the sequencer, which answers with the sum.
    PushServer s("epoll", {"--processes", "3"}, 1);
    s.wait_for_group();
    std::vector<std::unique_ptr<SseClient>> subs;
    for (int i = 0; i < 30; ++i) subs.push_back(subscribe(s.port, "/live/crowd"));
    // No message yet: the channel exists because someone watches it, wherever.
    EXPECT_TRUE(s.subscribers_are("crowd", 30));
    HttpResponse info = request(s.pub, "GET", "/pub/crowd");
    EXPECT_EQ(info.status, 200);
    EXPECT_NE(info.body.find("\"last_id\":\"0\""), std::string::npos) << info.body;
    HttpResponse published = request(s.pub, "POST", "/pub/crowd", "m1");
    EXPECT_EQ(published.status, 200);
    EXPECT_NE(published.body.find("\"subscribers\":30}"), std::string::npos) << published.body;
    for (auto& sub : subs) {
        SseEvent e;
        ASSERT_TRUE(sub->next_event(e));
        EXPECT_EQ(e.data, "m1");
    }

    subs.resize(10);
    EXPECT_TRUE(s.subscribers_are("crowd", 10));
    published = request(s.pub, "POST", "/pub/crowd", "m2");
    EXPECT_NE(published.body.find("\"subscribers\":10}"), std::string::npos) << published.body;

    // A process other than the sequencer (the oldest child) dies: its subscribers' streams end
    // with it, and they leave the count once the sequencer reads the end of its link.
    std::vector<pid_t> children = children_of(s.server->pid());
    ASSERT_EQ(children.size(), 3u);
    ASSERT_EQ(::kill(children[1], SIGKILL), 0);
    ASSERT_TRUE(exited(children[1]));
    int ended = 0;
    for (auto& sub : subs) {
        if (sub->wait_end(200)) ++ended;
    }
    SCOPED_TRACE(std::to_string(ended) + " of 10 subscribers were on the process killed");
    EXPECT_TRUE(s.subscribers_are("crowd", 10 - ended));
    published = request(s.pub, "POST", "/pub/crowd", "m3");
    EXPECT_NE(published.body.find("\"subscribers\":" + std::to_string(10 - ended) + "}"),
              std::string::npos)
        << published.body;

    EXPECT_NE(s.server->output().find("its subscribers leave the counts"), std::string::npos);

    // Every subscriber gone: nobody is counted anywhere.
    subs.clear();
    EXPECT_TRUE(s.subscribers_are("crowd", 0));
}

TEST(Push, BadFlagsSayWhatIsWrong) {
    auto r = run_command({"serve", "--push", "live", "--listen", "127.0.0.1:0"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("must be a URL path prefix"), std::string::npos) << r.output;
    r = run_command({"serve", "--push", "/live/", "--engine", "fork", "--listen", "127.0.0.1:0"});
    EXPECT_NE(r.status, 0);
    // Without Redis no other process's publish reaches a process per client: refused, and
    // the message names the way that works.
    EXPECT_NE(r.output.find("give it --redis"), std::string::npos) << r.output;
    r = run_command(
        {"serve", "--push", "/live/", "--push-first", "latest", "--listen", "127.0.0.1:0"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--push-first"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test
