// The Registry with external ids (the Redis backplane): channels wait for their load, messages
// are taken only in chain order, and a broken chain is reported rather than papered over.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "push/registry.hpp"

namespace c10k::push {
namespace {

using Ids = std::vector<std::uint64_t>;
using Loops = std::vector<std::size_t>;
using Chain = Registry::Chain;

constexpr std::int64_t kNow = 1'700'000'000'000;

Registry external_registry(std::size_t loops = 2, HistoryLimits history = {100, 0},
                           std::int64_t linger_ms = 30'000) {
    RegistryOptions options;
    options.external_linger_ms = linger_ms;
    options.history = history;
    options.loops = loops;
    options.external = true;
    return Registry(options);
}

/// A message as the backplane decodes it: a stream id and the one before it.
MessagePtr stream_message(std::uint64_t id, std::uint64_t prev) {
    auto message = std::make_shared<Message>();
    message->id = id;
    message->prev_id = prev;
    message->data = std::to_string(id);
    message->published_ms = kNow;
    return message;
}

Ids ids(const std::vector<MessagePtr>& messages) {
    Ids out;
    for (const MessagePtr& m : messages) out.push_back(m->id);
    return out;
}

TEST(RegistryExternal, AFirstSubscriberWaitsAndAsksForTheLoadOnce) {
    Registry registry = external_registry();
    auto first = registry.subscribe("score", 0, std::nullopt, 1, kNow);
    EXPECT_TRUE(first.wait);
    EXPECT_TRUE(first.need_sync);
    EXPECT_TRUE(first.backlog.empty());
    auto second = registry.subscribe("score", 1, std::nullopt, 1, kNow);
    EXPECT_TRUE(second.wait);
    EXPECT_FALSE(second.need_sync);  // the load is on its way already
    auto head = registry.head("score");
    ASSERT_TRUE(head.has_value());
    EXPECT_FALSE(head->loaded);
}

TEST(RegistryExternal, LoadFillsTheChannelAndNamesTheLoopsToWake) {
    Registry registry = external_registry();
    registry.subscribe("score", 1, std::nullopt, 2, kNow);
    Loops loops = registry.load("score", {stream_message(10, 0), stream_message(20, 10)}, 20, kNow);
    EXPECT_EQ(loops, Loops{1});
    auto backlog = registry.backlog("score", std::nullopt, 2, true, kNow);
    ASSERT_TRUE(backlog.has_value());
    EXPECT_FALSE(backlog->wait);
    EXPECT_EQ(ids(backlog->backlog), (Ids{10, 20}));
    EXPECT_EQ(backlog->last_id, 20u);
    // A load for a channel nobody holds here any more does nothing.
    EXPECT_TRUE(registry.load("gone", {stream_message(5, 0)}, 5, kNow).empty());
    EXPECT_FALSE(registry.head("gone").has_value());
}

TEST(RegistryExternal, MessagesAreTakenOnlyInChainOrder) {
    Registry registry = external_registry();
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.load("score", {stream_message(10, 0)}, 10, kNow);

    auto applied = registry.apply_chained("score", stream_message(20, 10), false, kNow);
    EXPECT_EQ(applied.chain, Chain::applied);
    EXPECT_EQ(applied.loops_to_notify, Loops{0});
    EXPECT_EQ(registry.apply_chained("score", stream_message(20, 10), false, kNow).chain,
              Chain::duplicate);
    EXPECT_EQ(registry.apply_chained("score", stream_message(10, 0), false, kNow).chain,
              Chain::duplicate);
    // 30 was missed: 40 does not continue from 20.
    auto gap = registry.apply_chained("score", stream_message(40, 30), false, kNow);
    EXPECT_EQ(gap.chain, Chain::gap);
    EXPECT_TRUE(gap.loops_to_notify.empty());
    EXPECT_EQ(registry.head("score")->last_id, 20u);
    EXPECT_EQ(registry.apply_chained("score", stream_message(30, 20), false, kNow).chain,
              Chain::applied);
    EXPECT_EQ(registry.apply_chained("score", stream_message(40, 30), false, kNow).chain,
              Chain::applied);
    auto all = registry.backlog("score", 0, 0, true, kNow);
    EXPECT_EQ(ids(all->backlog), (Ids{10, 20, 30, 40}));
    EXPECT_FALSE(all->lost);
}

TEST(RegistryExternal, NothingIsAppliedBeforeTheLoad) {
    Registry registry = external_registry();
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    EXPECT_EQ(registry.apply_chained("score", stream_message(10, 0), false, kNow).chain,
              Chain::absent);
    EXPECT_EQ(registry.apply_chained("other", stream_message(10, 0), false, kNow).chain,
              Chain::absent);
}

TEST(RegistryExternal, AResumeIdAheadWaitsForACatchUpOnceThenIsLost) {
    Registry registry = external_registry();
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.load("score", {stream_message(10, 0)}, 10, kNow);
    // The client saw 20 on another server; it has not reached this one yet.
    auto ahead = registry.subscribe("score", 0, 20, 0, kNow);
    EXPECT_TRUE(ahead.wait);
    EXPECT_TRUE(ahead.need_catch_up);
    // The catch-up brought it: the client is up to date.
    registry.apply_chained("score", stream_message(20, 10), false, kNow);
    auto caught = registry.backlog("score", 20, 0, false, kNow);
    EXPECT_FALSE(caught->wait);
    EXPECT_FALSE(caught->lost);
    EXPECT_TRUE(caught->backlog.empty());
    // An id that is still ahead after the catch-up is from elsewhere.
    auto foreign = registry.backlog("score", 99, 0, false, kNow);
    EXPECT_FALSE(foreign->wait);
    EXPECT_TRUE(foreign->lost);
}

TEST(RegistryExternal, ResetForgetsTheHistoryAndContinuesFromTheNewLastId) {
    Registry registry = external_registry();
    registry.subscribe("score", 1, std::nullopt, 0, kNow);
    registry.load("score", {stream_message(10, 0), stream_message(20, 10)}, 20, kNow);
    EXPECT_EQ(registry.reset("score", 0), Loops{1});
    EXPECT_EQ(registry.head("score")->last_id, 0u);
    // A stream made again starts a new chain from 0.
    EXPECT_EQ(registry.apply_chained("score", stream_message(50, 0), false, kNow).chain,
              Chain::applied);
    auto resumed = registry.backlog("score", 20, 0, true, kNow);
    EXPECT_TRUE(resumed->lost);
    EXPECT_EQ(ids(resumed->backlog), Ids{50});
}

TEST(RegistryExternal, ForceTakesAMessageThatBreaksTheChain) {
    Registry registry = external_registry();
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.load("score", {stream_message(10, 0)}, 10, kNow);
    auto applied = registry.apply_chained("score", stream_message(40, 30), true, kNow);
    EXPECT_EQ(applied.chain, Chain::applied);
    auto all = registry.backlog("score", std::nullopt, 10, true, kNow);
    EXPECT_EQ(ids(all->backlog), Ids{40});  // the broken chain was not kept
}

TEST(RegistryExternal, AChannelNobodyWatchesIsDroppedAfterTheLingerEvenWithHistory) {
    Registry registry = external_registry(2, {100, 0}, 30'000);
    auto subscribed = registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.load("score", {stream_message(10, 0)}, 10, kNow);
    registry.unsubscribe("score", 0, subscribed.incarnation);
    registry.prune(kNow);
    registry.prune(kNow + 29'000);
    EXPECT_TRUE(registry.head("score").has_value());  // still followed: a poll comes back
    // Someone came back meanwhile: the linger starts again when they leave.
    subscribed = registry.subscribe("score", 1, std::nullopt, 0, kNow + 29'500);
    EXPECT_FALSE(subscribed.wait);  // loaded still
    registry.prune(kNow + 30'000);
    registry.unsubscribe("score", 1, subscribed.incarnation);
    registry.prune(kNow + 31'000);
    registry.prune(kNow + 60'000);
    EXPECT_TRUE(registry.head("score").has_value());
    registry.prune(kNow + 61'000);
    EXPECT_FALSE(registry.head("score").has_value());  // the stream keeps the history
}

TEST(RegistryExternal, CountChangesNameChannelsToFollowAndToLeave) {
    Registry registry = external_registry();
    registry.track_count_changes();
    auto subscribed = registry.subscribe("score", 0, std::nullopt, 0, kNow);
    auto changes = registry.take_count_changes(false);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].channel, "score");
    EXPECT_EQ(changes[0].subscribers, 1u);
    registry.unsubscribe("score", 0, subscribed.incarnation);
    changes = registry.take_count_changes(false);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].subscribers, 0u);
}

}  // namespace
}  // namespace c10k::push
