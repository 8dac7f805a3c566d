// The backplane's StreamStore against a real redis-server on 127.0.0.1: publish through one
// store, receive through another (two servers of a fleet), read the stream back, and survive
// Redis restarts with and without persistence. Everything runs on one test loop.

#include <signal.h>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "push/redis_client.hpp"
#include "push/stream_store.hpp"
#include "support/poll_loop.hpp"
#include "support/redis_server.hpp"

namespace c10k::push {
namespace {

using namespace std::literals;
using Type = RedisReply::Type;

RedisAddress local(int port) {
    RedisAddress address;
    address.host = "127.0.0.1";
    address.port = static_cast<std::uint16_t>(port);
    return address;
}

StreamStoreOptions quick(HistoryLimits history = {}) {
    StreamStoreOptions options;
    options.history = history;
    options.client.reconnect_base_ms = 10;
    options.client.reconnect_cap_ms = 200;
    return options;
}

/// What one store's handlers saw.
struct Seen {
    std::map<std::string, std::vector<MessagePtr>> messages;
    std::map<std::string, int> subscribed;
    std::vector<std::string> removed;
    std::vector<std::string> lost;  ///< the `why` of each state report that was a loss
};

/// A test loop with stores on it (servers of one fleet) and a plain client for inspecting Redis.
class Fleet {
public:
    explicit Fleet(int port) : port_(port), admin_(local(port), loop_.context(), quick().client) {
        admin_.start();
    }
    ~Fleet() {
        for (auto& store : stores_) store->stop();
        admin_.stop();
    }

    StreamStore& add(StreamStoreOptions options = quick()) {
        auto store = std::make_unique<StreamStore>(local(port_), loop_.context(), options);
        auto seen = std::make_unique<Seen>();
        Seen* into = seen.get();
        store->set_message_handler([into](std::string_view channel, MessagePtr message) {
            into->messages[std::string(channel)].push_back(std::move(message));
        });
        store->set_subscribed_handler(
            [into](std::string_view channel) { ++into->subscribed[std::string(channel)]; });
        store->set_removed_handler(
            [into](std::string_view channel) { into->removed.emplace_back(channel); });
        store->set_state_handler([into](bool, bool, std::string_view why) {
            if (!why.empty()) into->lost.emplace_back(why);
        });
        store->start();
        stores_.push_back(std::move(store));
        seen_.push_back(std::move(seen));
        return *stores_.back();
    }
    Seen& seen(const StreamStore& store) {
        for (std::size_t i = 0; i < stores_.size(); ++i) {
            if (stores_[i].get() == &store) return *seen_[i];
        }
        throw std::logic_error("not a store of this fleet");
    }

    bool run_until(const std::function<bool()>& done) {
        return loop_.run_until(
            [&] {
                for (auto& store : stores_) store->on_tick();
                admin_.on_tick();
            },
            done);
    }
    bool all_ready() {
        return run_until([&] {
            if (!admin_.ready()) return false;
            for (auto& store : stores_) {
                if (!store->commands_ready() || !store->subscriptions_ready()) return false;
            }
            return true;
        });
    }

    /// Subscribes `store` to `channel` and waits for the confirmation.
    void subscribe(StreamStore& store, const std::string& channel) {
        int before = seen(store).subscribed[channel];
        store.subscribe(channel);
        ASSERT_TRUE(run_until([&] { return seen(store).subscribed[channel] > before; }));
    }

    Published publish(StreamStore& store, std::string_view channel, std::string_view data,
                      std::string_view event = "ev", std::string_view type = "text/plain") {
        Published got;
        bool answered = false;
        store.publish(channel, event, data, type, [&](const Published& result) {
            EXPECT_FALSE(answered) << "a second answer";
            got = result;
            answered = true;
        });
        EXPECT_TRUE(run_until([&] { return answered; }));
        return got;
    }
    Loaded load(StreamStore& store, std::string_view channel, std::size_t count) {
        Loaded got;
        bool answered = false;
        store.load(channel, count, [&](const Loaded& result) {
            got = result;
            answered = true;
        });
        EXPECT_TRUE(run_until([&] { return answered; }));
        return got;
    }
    Loaded fetch_after(StreamStore& store, std::string_view channel, std::uint64_t after,
                       std::size_t count) {
        Loaded got;
        bool answered = false;
        store.fetch_after(channel, after, count, [&](const Loaded& result) {
            got = result;
            answered = true;
        });
        EXPECT_TRUE(run_until([&] { return answered; }));
        return got;
    }

    /// One command on the plain client.
    RedisReply call(std::initializer_list<std::string_view> args) {
        RedisReply got;
        bool answered = false;
        EXPECT_TRUE(run_until([&] { return admin_.ready(); }));
        if (admin_.connection() == nullptr) return got;
        EXPECT_TRUE(admin_.connection()->command(args, [&](const RedisReply& reply) {
            got = reply;
            answered = true;
        }));
        admin_.flush();
        EXPECT_TRUE(run_until([&] { return answered; }));
        return got;
    }

private:
    int port_;
    test::PollLoop loop_;
    RedisClient admin_;
    std::vector<std::unique_ptr<StreamStore>> stores_;
    std::vector<std::unique_ptr<Seen>> seen_;
};

void expect_same(const Message& got, const Message& sent) {
    EXPECT_EQ(got.id, sent.id);
    EXPECT_EQ(got.prev_id, sent.prev_id);
    EXPECT_EQ(got.event, sent.event);
    EXPECT_EQ(got.data, sent.data);
    EXPECT_EQ(got.content_type, sent.content_type);
    EXPECT_EQ(got.published_ms, sent.published_ms);
}

/// Publishes `count` messages one after the other; their ids.
std::vector<MessagePtr> publish_many(Fleet& fleet, StreamStore& store, std::string_view channel,
                                     int count) {
    std::vector<MessagePtr> sent;
    for (int i = 0; i < count; ++i) {
        Published result = fleet.publish(store, channel, "message " + std::to_string(i));
        EXPECT_TRUE(result.ok) << result.error;
        if (result.ok) sent.push_back(result.message);
    }
    return sent;
}

TEST(StreamStore, PublishChainsIdsAndAnotherServerGetsEachMessage) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& publisher = fleet.add();
    StreamStore& receiver = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(receiver, "scores");
    EXPECT_TRUE(receiver.wanted("scores"));

    // Pipelined: all five go out before the first answer.
    std::vector<std::string> datas = {"1-0", "", "line\nbreaks\r\n\n", "nul\0inside\0"s,
                                      "M 1-1 0-0\nfake\nheader\n\xff\xfe"s};
    std::vector<Published> answers(datas.size());
    int answered = 0;
    for (std::size_t i = 0; i < datas.size(); ++i) {
        publisher.publish("scores", i % 2 == 0 ? "goal" : "", datas[i],
                          i == 3 ? "application/octet-stream" : "text/plain",
                          [&, i](const Published& result) {
                              answers[i] = result;
                              ++answered;
                          });
    }
    ASSERT_TRUE(fleet.run_until([&] { return answered == 5; }));
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < answers.size(); ++i) {
        ASSERT_TRUE(answers[i].ok) << answers[i].error;
        const Message& m = *answers[i].message;
        EXPECT_GT(m.id, last);
        EXPECT_EQ(m.prev_id, last) << "message " << i;
        EXPECT_EQ(m.data, datas[i]);
        EXPECT_EQ(m.published_ms, static_cast<std::int64_t>(m.id / 1'000'000));
        EXPECT_EQ(answers[i].receivers, 1);  // the receiver's subscription connection
        last = m.id;
    }

    Seen& seen = fleet.seen(receiver);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["scores"].size() == 5; }));
    for (std::size_t i = 0; i < answers.size(); ++i) {
        expect_same(*seen.messages["scores"][i], *answers[i].message);
    }
    // The publisher is not subscribed: it hears nothing.
    EXPECT_TRUE(fleet.seen(publisher).messages.empty());
    EXPECT_EQ(seen.subscribed["scores"], 1);
}

TEST(StreamStore, LoadAndFetchAfterReadTheStream) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& store = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    std::vector<MessagePtr> sent = publish_many(fleet, store, "feed", 10);
    ASSERT_EQ(sent.size(), 10u);

    Loaded newest = fleet.load(store, "feed", 4);
    ASSERT_TRUE(newest.ok) << newest.error;
    EXPECT_TRUE(newest.exists);
    EXPECT_EQ(newest.last_id, sent[9]->id);
    ASSERT_EQ(newest.messages.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) expect_same(*newest.messages[i], *sent[6 + i]);

    Loaded all = fleet.load(store, "feed", 100);
    ASSERT_EQ(all.messages.size(), 10u);
    for (std::size_t i = 0; i < 10; ++i) expect_same(*all.messages[i], *sent[i]);

    Loaded none = fleet.load(store, "feed", 0);
    EXPECT_TRUE(none.ok && none.exists);
    EXPECT_EQ(none.last_id, sent[9]->id);
    EXPECT_TRUE(none.messages.empty());

    Loaded after = fleet.fetch_after(store, "feed", sent[5]->id, 100);
    ASSERT_TRUE(after.ok) << after.error;
    EXPECT_EQ(after.last_id, sent[9]->id);
    ASSERT_EQ(after.messages.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) expect_same(*after.messages[i], *sent[6 + i]);

    Loaded two = fleet.fetch_after(store, "feed", sent[5]->id, 2);
    ASSERT_EQ(two.messages.size(), 2u);
    EXPECT_EQ(two.messages[0]->id, sent[6]->id);
    EXPECT_EQ(two.messages[1]->id, sent[7]->id);

    EXPECT_EQ(fleet.fetch_after(store, "feed", 0, 100).messages.size(), 10u);
    Loaded up_to_date = fleet.fetch_after(store, "feed", sent[9]->id, 100);
    EXPECT_TRUE(up_to_date.ok && up_to_date.exists);
    EXPECT_TRUE(up_to_date.messages.empty());
    // An id that is no message's (when sent[2] and sent[3] are not adjacent) reads from the
    // next message.
    Loaded between = fleet.fetch_after(store, "feed", sent[3]->id - 1, 100);
    ASSERT_FALSE(between.messages.empty());
    EXPECT_EQ(between.messages[0]->id, sent[3]->id);

    Loaded missing = fleet.load(store, "nothing-here", 10);
    EXPECT_TRUE(missing.ok) << missing.error;
    EXPECT_FALSE(missing.exists);
    EXPECT_EQ(missing.last_id, 0u);
    EXPECT_TRUE(missing.messages.empty());
    EXPECT_FALSE(fleet.fetch_after(store, "nothing-here", 5, 10).exists);
}

TEST(StreamStore, EntriesThatAreNotMessagesAreSkipped) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& store = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    MessagePtr first = fleet.publish(store, "mixed", "first").message;
    ASSERT_TRUE(first);
    EXPECT_EQ(fleet.call({"XADD", "c10k:mixed", "*", "foreign", "entry"}).type, Type::string);
    Published third = fleet.publish(store, "mixed", "third");
    ASSERT_TRUE(third.ok) << third.error;
    EXPECT_GT(third.message->prev_id, first->id);  // the foreign entry is in the chain
    Loaded loaded = fleet.load(store, "mixed", 10);
    ASSERT_TRUE(loaded.ok) << loaded.error;
    ASSERT_EQ(loaded.messages.size(), 2u);
    EXPECT_EQ(loaded.messages[0]->data, "first");
    EXPECT_EQ(loaded.messages[1]->data, "third");

    // A key that is not a stream is an error, not a crash.
    EXPECT_EQ(fleet.call({"SET", "c10k:plain", "x"}).text, "OK");
    Loaded wrong = fleet.load(store, "plain", 10);
    EXPECT_FALSE(wrong.ok);
    EXPECT_FALSE(wrong.error.empty());
    Published refused = fleet.publish(store, "plain", "x");
    EXPECT_FALSE(refused.ok);
    EXPECT_FALSE(refused.error.empty());
}

TEST(StreamStore, MaxlenTrimmingKeepsAtLeastMaxMessages) {
    // Small stream nodes, so that approximate trimming (which drops whole nodes) shows.
    test::RedisServer server({"--stream-node-max-entries", "4"});
    Fleet fleet(server.port());
    StreamStore& store = fleet.add(quick({.max_messages = 10, .max_age_ms = 0}));
    ASSERT_TRUE(fleet.all_ready());
    std::vector<MessagePtr> sent = publish_many(fleet, store, "capped", 60);
    ASSERT_EQ(sent.size(), 60u);
    RedisReply length = fleet.call({"XLEN", "c10k:capped"});
    ASSERT_EQ(length.type, Type::integer);
    EXPECT_GE(length.integer, 10);
    EXPECT_LT(length.integer, 60);
    Loaded newest = fleet.load(store, "capped", 10);
    ASSERT_EQ(newest.messages.size(), 10u);
    for (std::size_t i = 0; i < 10; ++i) expect_same(*newest.messages[i], *sent[50 + i]);
    // Without an age bound, the stream does not expire.
    EXPECT_EQ(fleet.call({"PTTL", "c10k:capped"}).integer, -1);

    // max_messages 0 still keeps the newest message, whose id the next publish chains to.
    StreamStore& bare = fleet.add(quick({.max_messages = 0, .max_age_ms = 0}));
    ASSERT_TRUE(fleet.all_ready());
    publish_many(fleet, bare, "bare", 12);
    EXPECT_GE(fleet.call({"XLEN", "c10k:bare"}).integer, 1);
    EXPECT_EQ(fleet.load(bare, "bare", 1).messages.size(), 1u);
}

TEST(StreamStore, TheAgeBoundTrimsOldEntriesAndSetsAnExpiry) {
    test::RedisServer server({"--stream-node-max-entries", "1"});
    Fleet fleet(server.port());
    constexpr std::int64_t kAgeMs = 50;
    StreamStore& store = fleet.add(quick({.max_messages = 100, .max_age_ms = kAgeMs}));
    ASSERT_TRUE(fleet.all_ready());
    std::vector<MessagePtr> old = publish_many(fleet, store, "aging", 3);
    ASSERT_EQ(old.size(), 3u);
    RedisReply ttl = fleet.call({"PTTL", "c10k:aging"});
    EXPECT_GT(ttl.integer, kAgeMs);
    EXPECT_LE(ttl.integer, kAgeMs + 3'600'000);

    // Wait until Redis's own clock has passed the age bound of the old messages.
    auto redis_ms = [&]() -> std::int64_t {
        RedisReply time = fleet.call({"TIME"});
        if (time.elements.size() != 2) return 0;
        return std::stoll(time.elements[0].text) * 1000 + std::stoll(time.elements[1].text) / 1000;
    };
    ASSERT_TRUE(fleet.run_until([&] { return redis_ms() > old[2]->published_ms + kAgeMs + 1; }));
    Published young = fleet.publish(store, "aging", "young");
    ASSERT_TRUE(young.ok) << young.error;
    EXPECT_EQ(young.message->prev_id, old[2]->id);
    Loaded loaded = fleet.load(store, "aging", 100);
    ASSERT_EQ(loaded.messages.size(), 1u);
    EXPECT_EQ(loaded.messages[0]->id, young.message->id);
    EXPECT_EQ(fleet.call({"XLEN", "c10k:aging"}).integer, 1);
}

TEST(StreamStore, PublishWhileRedisIsDownFails) {
    int port = 0;
    {
        test::RedisServer gone;
        port = gone.port();
    }
    Fleet fleet(port);
    StreamStore& store = fleet.add();
    EXPECT_FALSE(store.commands_ready());
    // Down: answered at once.
    Published got;
    bool answered = false;
    store.publish("any", "", "data", "text/plain", [&](const Published& result) {
        got = result;
        answered = true;
    });
    EXPECT_TRUE(answered);
    EXPECT_FALSE(got.ok);
    EXPECT_FALSE(got.error.empty());
    bool loaded = false;
    store.load("any", 10, [&](const Loaded& result) {
        EXPECT_FALSE(result.ok);
        EXPECT_FALSE(result.error.empty());
        loaded = true;
    });
    EXPECT_TRUE(loaded);
    // The state handler tells each failed attempt.
    ASSERT_TRUE(fleet.run_until([&] { return fleet.seen(store).lost.size() >= 2; }));
    EXPECT_NE(fleet.seen(store).lost[0].find("redis"), std::string::npos);
}

TEST(StreamStore, APublishPendingWhenRedisDiesFails) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& store = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    ASSERT_TRUE(fleet.publish(store, "c", "before").ok);
    server.stop(SIGKILL);
    std::vector<Published> answers;
    for (int i = 0; i < 3; ++i) {
        store.publish("c", "", "after", "text/plain",
                      [&](const Published& result) { answers.push_back(result); });
    }
    ASSERT_TRUE(fleet.run_until([&] { return answers.size() == 3; }));
    for (const Published& answer : answers) {
        EXPECT_FALSE(answer.ok);
        EXPECT_FALSE(answer.error.empty());
    }
}

TEST(StreamStore, ARedisRestartWithoutPersistenceResubscribesAndRestartsTheChain) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& publisher = fleet.add();
    StreamStore& receiver = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(receiver, "a");
    fleet.subscribe(receiver, "b");
    Seen& seen = fleet.seen(receiver);
    Published before = fleet.publish(publisher, "a", "before");
    ASSERT_TRUE(before.ok);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["a"].size() == 1; }));

    server.stop();
    ASSERT_TRUE(fleet.run_until(
        [&] { return !receiver.subscriptions_ready() && !publisher.commands_ready(); }));
    EXPECT_FALSE(seen.lost.empty());
    server.restart();
    ASSERT_TRUE(fleet.all_ready());
    ASSERT_TRUE(
        fleet.run_until([&] { return seen.subscribed["a"] == 2 && seen.subscribed["b"] == 2; }));

    Published after = fleet.publish(publisher, "a", "after");
    ASSERT_TRUE(after.ok) << after.error;
    EXPECT_EQ(after.message->prev_id, 0u);  // the stream was lost: the owner sees the gap
    EXPECT_EQ(after.receivers, 1);
    ASSERT_TRUE(fleet.publish(publisher, "b", "on b").ok);
    ASSERT_TRUE(fleet.run_until(
        [&] { return seen.messages["a"].size() == 2 && seen.messages["b"].size() == 1; }));
    expect_same(*seen.messages["a"][1], *after.message);
    EXPECT_EQ(seen.messages["b"][0]->data, "on b");
}

TEST(StreamStore, ARedisRestartWithPersistenceContinuesTheChain) {
    test::RedisServer server({"--appendonly", "yes"});
    Fleet fleet(server.port());
    StreamStore& publisher = fleet.add();
    StreamStore& receiver = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(receiver, "kept");
    std::vector<MessagePtr> sent = publish_many(fleet, publisher, "kept", 3);
    ASSERT_EQ(sent.size(), 3u);

    server.stop();
    ASSERT_TRUE(fleet.run_until([&] { return !publisher.commands_ready(); }));
    server.restart();
    ASSERT_TRUE(fleet.all_ready());
    Seen& seen = fleet.seen(receiver);
    ASSERT_TRUE(fleet.run_until([&] { return seen.subscribed["kept"] == 2; }));
    Published after = fleet.publish(publisher, "kept", "after the restart");
    ASSERT_TRUE(after.ok) << after.error;
    EXPECT_EQ(after.message->prev_id, sent[2]->id);
    Loaded loaded = fleet.load(publisher, "kept", 10);
    ASSERT_EQ(loaded.messages.size(), 4u);
    EXPECT_EQ(loaded.messages[3]->prev_id, loaded.messages[2]->id);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["kept"].size() == 4; }));
    expect_same(*seen.messages["kept"][3], *after.message);
}

TEST(StreamStore, UnsubscribeStopsDelivery) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& publisher = fleet.add();
    StreamStore& receiver = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(receiver, "news");
    fleet.subscribe(receiver, "other");
    Seen& seen = fleet.seen(receiver);
    ASSERT_TRUE(fleet.publish(publisher, "news", "one").ok);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["news"].size() == 1; }));

    receiver.unsubscribe("news");
    receiver.unsubscribe("news");  // idempotent
    EXPECT_FALSE(receiver.wanted("news"));
    // Redis stops counting the receiver once the UNSUBSCRIBE is through; whatever was
    // published before that is dropped by the receiver.
    ASSERT_TRUE(
        fleet.run_until([&] { return fleet.publish(publisher, "news", "x").receivers == 0; }));
    ASSERT_TRUE(fleet.publish(publisher, "other", "still wanted").ok);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["other"].size() == 1; }));
    EXPECT_EQ(seen.messages["news"].size(), 1u);

    // Wanted again: confirmed again, and delivered again.
    fleet.subscribe(receiver, "news");
    EXPECT_EQ(seen.subscribed["news"], 2);
    Published again = fleet.publish(publisher, "news", "two");
    EXPECT_EQ(again.receivers, 1);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["news"].size() == 2; }));
    EXPECT_EQ(seen.messages["news"][1]->data, "two");
}

TEST(StreamStore, AConfirmationForAChannelNoLongerWantedIsNotReported) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& publisher = fleet.add();
    StreamStore& receiver = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    receiver.subscribe("brief");
    receiver.unsubscribe("brief");        // before its confirmation came
    fleet.subscribe(receiver, "marker");  // confirmed after brief's would have been
    Seen& seen = fleet.seen(receiver);
    EXPECT_EQ(seen.subscribed.count("brief"), 0u);
    EXPECT_EQ(fleet.publish(publisher, "brief", "unheard").receivers, 0);

    // Subscribed before the connection is made: sent (and reported) once it is.
    StreamStore& late = fleet.add();
    late.subscribe("early");
    late.subscribe("early");
    late.subscribe("dropped");
    late.unsubscribe("dropped");
    ASSERT_TRUE(fleet.run_until([&] { return fleet.seen(late).subscribed["early"] == 1; }));
    EXPECT_EQ(fleet.seen(late).subscribed.count("dropped"), 0u);
}

TEST(StreamStore, ManyChannelsAreSubscribedInBatches) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& receiver = fleet.add();
    constexpr int kChannels = 1300;
    for (int i = 0; i < kChannels; ++i) receiver.subscribe("ch" + std::to_string(i));
    Seen& seen = fleet.seen(receiver);
    ASSERT_TRUE(fleet.run_until([&] { return seen.subscribed.size() == kChannels; }));
    for (auto& [channel, count] : seen.subscribed) EXPECT_EQ(count, 1) << channel;
    StreamStore& publisher = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    EXPECT_EQ(fleet.publish(publisher, "ch1299", "last").receivers, 1);
    ASSERT_TRUE(fleet.run_until([&] { return seen.messages["ch1299"].size() == 1; }));
}

TEST(StreamStore, RemoveDeletesTheStreamAndTellsEveryServer) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& owner = fleet.add();
    StreamStore& other = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(owner, "gone");
    fleet.subscribe(other, "gone");
    ASSERT_TRUE(fleet.publish(owner, "gone", "soon removed").ok);

    auto remove = [&](StreamStore& store, std::string_view channel) {
        StoreResult got;
        bool existed = false;
        bool answered = false;
        store.remove(channel, [&](const StoreResult& result, bool was) {
            got = result;
            existed = was;
            answered = true;
        });
        EXPECT_TRUE(fleet.run_until([&] { return answered; }));
        EXPECT_TRUE(got.ok) << got.error;
        return existed;
    };
    EXPECT_TRUE(remove(owner, "gone"));
    EXPECT_EQ(fleet.call({"EXISTS", "c10k:gone"}).integer, 0);
    ASSERT_TRUE(fleet.run_until([&] {
        return fleet.seen(other).removed.size() == 1 && fleet.seen(owner).removed.size() == 1;
    }));
    EXPECT_EQ(fleet.seen(other).removed[0], "gone");
    EXPECT_FALSE(fleet.load(other, "gone", 10).exists);
    EXPECT_FALSE(remove(owner, "gone"));  // nothing to delete; the notice goes all the same
    ASSERT_TRUE(fleet.run_until([&] { return fleet.seen(other).removed.size() == 2; }));

    // A channel published again after its removal starts a new chain.
    Published again = fleet.publish(owner, "gone", "back");
    ASSERT_TRUE(again.ok);
    EXPECT_EQ(again.message->prev_id, 0u);
}

TEST(StreamStore, MalformedPayloadsAreDroppedAndDeliveryGoesOn) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& publisher = fleet.add();
    StreamStore& receiver = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(receiver, "noisy");
    for (std::string_view junk :
         {""sv, "hello"sv, "M 1-1 2-0\ne\nt\nd"sv, "M 5-5 1-0\nno end"sv, "D\n"sv, "\0\0\0"sv}) {
        EXPECT_EQ(fleet.call({"PUBLISH", "c10k:noisy", junk}).integer, 1);
    }
    Published real = fleet.publish(publisher, "noisy", "real");
    ASSERT_TRUE(real.ok);
    Seen& seen = fleet.seen(receiver);
    ASSERT_TRUE(fleet.run_until([&] { return !seen.messages["noisy"].empty(); }));
    ASSERT_EQ(seen.messages["noisy"].size(), 1u);
    expect_same(*seen.messages["noisy"][0], *real.message);
    EXPECT_TRUE(seen.removed.empty());
    EXPECT_TRUE(receiver.subscriptions_ready());
}

TEST(StreamStore, AFlushedScriptCacheFallsBackToEval) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStore& store = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    Published first = fleet.publish(store, "cached", "by sha");
    ASSERT_TRUE(first.ok) << first.error;
    EXPECT_EQ(fleet.call({"SCRIPT", "FLUSH"}).text, "OK");
    Published second = fleet.publish(store, "cached", "by eval");
    ASSERT_TRUE(second.ok) << second.error;
    EXPECT_EQ(second.message->prev_id, first.message->id);
    Loaded loaded = fleet.load(store, "cached", 10);
    ASSERT_TRUE(loaded.ok) << loaded.error;
    EXPECT_EQ(loaded.messages.size(), 2u);
}

TEST(StreamStore, APrefixSeparatesFleets) {
    test::RedisServer server;
    Fleet fleet(server.port());
    StreamStoreOptions blue = quick();
    blue.prefix = "blue:";
    StreamStore& blue_store = fleet.add(blue);
    StreamStore& default_store = fleet.add();
    ASSERT_TRUE(fleet.all_ready());
    fleet.subscribe(default_store, "shared");
    Published published = fleet.publish(blue_store, "shared", "blue only");
    ASSERT_TRUE(published.ok);
    EXPECT_EQ(published.receivers, 0);
    EXPECT_EQ(fleet.call({"EXISTS", "blue:shared"}).integer, 1);
    EXPECT_FALSE(fleet.load(default_store, "shared", 10).exists);
}

}  // namespace
}  // namespace c10k::push
