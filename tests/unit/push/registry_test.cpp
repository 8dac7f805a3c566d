#include "push/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

namespace c10k::push {
namespace {

using Ids = std::vector<std::uint64_t>;
using Loops = std::vector<std::size_t>;

constexpr std::int64_t kNow = 1'700'000'000'000;  // ms since the epoch
constexpr std::uint64_t kFirst = 1'700'000'000'000'000;

Ids ids(const std::vector<MessagePtr>& messages) {
    Ids out;
    for (const MessagePtr& m : messages) out.push_back(m->id);
    return out;
}

Registry make_registry(std::size_t loops, HistoryLimits history = {100, 600'000}) {
    return Registry(RegistryOptions{history, loops});
}

std::uint64_t publish_id(Registry& registry, std::string_view channel, std::int64_t now = kNow) {
    return registry.publish(channel, "", "x", "text/plain", now).message->id;
}

TEST(Registry, IdsAreConsecutiveFromTheCreationTimeInMicroseconds) {
    Registry registry = make_registry(1);
    Registry::Published first = registry.publish("score", "goal", "1-0", "text/plain", kNow);
    ASSERT_NE(first.message, nullptr);
    EXPECT_EQ(first.message->id, kFirst);
    EXPECT_EQ(first.message->event, "goal");
    EXPECT_EQ(first.message->data, "1-0");
    EXPECT_EQ(first.message->content_type, "text/plain");
    EXPECT_EQ(first.message->published_ms, kNow);
    // Later publishes count on from the creation time, whatever the clock says.
    EXPECT_EQ(publish_id(registry, "score", kNow + 5000), kFirst + 1);
    EXPECT_EQ(publish_id(registry, "score", kNow + 1), kFirst + 2);
}

TEST(Registry, ChannelCreatedBySubscribeStartsAtItsCreationTime) {
    Registry registry = make_registry(1);
    Registry::Subscribed subscribed = registry.subscribe("score", 0, std::nullopt, 0, kNow);
    EXPECT_EQ(subscribed.last_id, 0u);
    EXPECT_TRUE(subscribed.backlog.empty());
    EXPECT_EQ(publish_id(registry, "score", kNow + 1000), kFirst);
}

TEST(Registry, ChannelsAreIndependent) {
    Registry registry = make_registry(2);
    registry.subscribe("a", 0, std::nullopt, 0, kNow);
    EXPECT_EQ(publish_id(registry, "a"), kFirst);
    EXPECT_EQ(publish_id(registry, "a"), kFirst + 1);
    Registry::Published b = registry.publish("b", "", "b", "", kNow + 1);
    EXPECT_EQ(b.message->id, kFirst + 1000);
    EXPECT_TRUE(b.loops_to_notify.empty());
    EXPECT_EQ(b.subscribers, 0u);
    EXPECT_EQ(publish_id(registry, "a"), kFirst + 2);
    EXPECT_EQ(registry.info("a", kNow)->messages, 3u);
    EXPECT_EQ(registry.info("b", kNow)->messages, 1u);
    EXPECT_EQ(registry.info("b", kNow)->subscribers, 0u);
    EXPECT_EQ(registry.channel_count(), 2u);
}

TEST(Registry, SubscribersAreCountedPerLoop) {
    Registry registry = make_registry(4);
    registry.subscribe("score", 2, std::nullopt, 0, kNow);
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.subscribe("score", 2, std::nullopt, 0, kNow);
    registry.subscribe("other", 3, std::nullopt, 0, kNow);

    Registry::Published published = registry.publish("score", "", "x", "", kNow);
    EXPECT_EQ(published.loops_to_notify, (Loops{0, 2}));
    EXPECT_EQ(published.subscribers, 3u);
    EXPECT_EQ(registry.info("score", kNow)->subscribers, 3u);

    registry.unsubscribe("score", 2);
    EXPECT_EQ(registry.publish("score", "", "x", "", kNow).loops_to_notify, (Loops{0, 2}));
    registry.unsubscribe("score", 2);
    EXPECT_EQ(registry.publish("score", "", "x", "", kNow).loops_to_notify, (Loops{0}));
    registry.unsubscribe("score", 0);
    published = registry.publish("score", "", "x", "", kNow);
    EXPECT_TRUE(published.loops_to_notify.empty());
    EXPECT_EQ(published.subscribers, 0u);
}

TEST(Registry, UnsubscribeNeverGoesBelowZero) {
    Registry registry = make_registry(2);
    registry.unsubscribe("nothing", 0);  // no channel: no effect, no channel created
    EXPECT_EQ(registry.channel_count(), 0u);
    registry.subscribe("score", 1, std::nullopt, 0, kNow);
    registry.unsubscribe("score", 0);  // nobody counted on loop 0
    registry.unsubscribe("score", 7);  // no such loop
    EXPECT_EQ(registry.info("score", kNow)->subscribers, 1u);
    registry.unsubscribe("score", 1);
    registry.unsubscribe("score", 1);
    EXPECT_EQ(registry.info("score", kNow)->subscribers, 0u);
    EXPECT_EQ(registry.publish("score", "", "x", "", kNow).subscribers, 0u);
}

TEST(Registry, SubscribeOnALoopTheRegistryLacksIsAProgrammingError) {
    Registry registry = make_registry(2);
    EXPECT_THROW(registry.subscribe("score", 2, std::nullopt, 0, kNow), std::out_of_range);
    EXPECT_THROW({ Registry no_loops(RegistryOptions{{}, 0}); }, std::invalid_argument);
}

TEST(Registry, ResumeGetsTheMissedMessagesInOrderWithoutDuplicates) {
    Registry registry = make_registry(1);
    for (int i = 0; i < 10; ++i) publish_id(registry, "score");
    Registry::Subscribed subscribed = registry.subscribe("score", 0, kFirst + 6, 1, kNow);
    EXPECT_FALSE(subscribed.lost);
    EXPECT_EQ(ids(subscribed.backlog), (Ids{kFirst + 7, kFirst + 8, kFirst + 9}));
    EXPECT_EQ(subscribed.last_id, kFirst + 9);
    // The next publish continues right after the backlog.
    EXPECT_EQ(publish_id(registry, "score"), kFirst + 10);

    // Up to date: nothing to send, nothing lost.
    subscribed = registry.subscribe("score", 0, kFirst + 10, 5, kNow);
    EXPECT_FALSE(subscribed.lost);
    EXPECT_TRUE(subscribed.backlog.empty());
    EXPECT_EQ(subscribed.last_id, kFirst + 10);
}

TEST(Registry, ResumeBeyondHistoryIsLost) {
    Registry registry = make_registry(1, {3, 0});
    for (int i = 0; i < 10; ++i) publish_id(registry, "score");  // holds kFirst+7..9
    Registry::Subscribed subscribed = registry.subscribe("score", 0, kFirst + 5, 0, kNow);
    EXPECT_TRUE(subscribed.lost);
    EXPECT_EQ(ids(subscribed.backlog), (Ids{kFirst + 7, kFirst + 8, kFirst + 9}));

    subscribed = registry.subscribe("score", 0, kFirst + 6, 0, kNow);
    EXPECT_FALSE(subscribed.lost);
    EXPECT_EQ(subscribed.backlog.size(), 3u);
}

TEST(Registry, IdFromAnotherIncarnationIsLost) {
    Registry registry = make_registry(1);
    for (int i = 0; i < 3; ++i) publish_id(registry, "score");
    // Larger than anything assigned here (an earlier server that published faster).
    Registry::Subscribed subscribed = registry.subscribe("score", 0, kFirst + 100, 0, kNow);
    EXPECT_TRUE(subscribed.lost);
    EXPECT_EQ(subscribed.backlog.size(), 3u);
    // Smaller than the oldest held (an earlier server started earlier): also lost.
    subscribed = registry.subscribe("score", 0, kFirst - 1000, 0, kNow);
    EXPECT_TRUE(subscribed.lost);
    EXPECT_EQ(subscribed.backlog.size(), 3u);
    // A new channel that has published nothing cannot vouch for any id.
    subscribed = registry.subscribe("fresh", 0, 12345, 0, kNow);
    EXPECT_TRUE(subscribed.lost);
    EXPECT_TRUE(subscribed.backlog.empty());
}

TEST(Registry, ResumeAfterHistoryAgedOut) {
    Registry registry = make_registry(1, {100, 1000});
    registry.subscribe("score", 0, std::nullopt, 0, kNow);  // keeps the channel alive
    publish_id(registry, "score", kNow);
    publish_id(registry, "score", kNow + 500);
    // kFirst aged out, but the client has it, and kFirst + 1 is still held.
    Registry::Subscribed subscribed = registry.subscribe("score", 0, kFirst, 0, kNow + 1200);
    EXPECT_FALSE(subscribed.lost);
    EXPECT_EQ(ids(subscribed.backlog), (Ids{kFirst + 1}));
    subscribed = registry.subscribe("score", 0, kFirst - 1, 0, kNow + 1200);
    EXPECT_TRUE(subscribed.lost);
    EXPECT_EQ(ids(subscribed.backlog), (Ids{kFirst + 1}));
    subscribed = registry.subscribe("score", 0, kFirst + 1, 0, kNow + 5000);
    EXPECT_FALSE(subscribed.lost);
    EXPECT_TRUE(subscribed.backlog.empty());
    EXPECT_EQ(subscribed.last_id, kFirst + 1);
    EXPECT_EQ(registry.info("score", kNow + 5000)->messages, 0u);
}

TEST(Registry, FirstCountGivesTheNewestMessages) {
    Registry registry = make_registry(1);
    EXPECT_TRUE(registry.subscribe("score", 0, std::nullopt, 1, kNow).backlog.empty());
    for (int i = 0; i < 5; ++i) publish_id(registry, "score");
    EXPECT_TRUE(registry.subscribe("score", 0, std::nullopt, 0, kNow).backlog.empty());
    EXPECT_EQ(ids(registry.subscribe("score", 0, std::nullopt, 1, kNow).backlog),
              (Ids{kFirst + 4}));
    EXPECT_EQ(ids(registry.subscribe("score", 0, std::nullopt, 2, kNow).backlog),
              (Ids{kFirst + 3, kFirst + 4}));
    EXPECT_EQ(registry.subscribe("score", 0, std::nullopt, 100, kNow).backlog.size(), 5u);
    Registry::Subscribed subscribed = registry.subscribe("score", 0, std::nullopt, 1, kNow);
    EXPECT_FALSE(subscribed.lost);
    EXPECT_EQ(subscribed.last_id, kFirst + 4);
}

TEST(Registry, InfoDoesNotCreateChannels) {
    Registry registry = make_registry(1);
    EXPECT_FALSE(registry.info("score", kNow));
    EXPECT_EQ(registry.channel_count(), 0u);
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    std::optional<Registry::Info> info = registry.info("score", kNow);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->subscribers, 1u);
    EXPECT_EQ(info->last_id, 0u);
    EXPECT_EQ(info->messages, 0u);
}

TEST(Registry, RemoveReturnsTheLoopsWithSubscribers) {
    Registry registry = make_registry(3);
    EXPECT_FALSE(registry.remove("score"));
    registry.subscribe("score", 2, std::nullopt, 0, kNow);
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.subscribe("score", 1, std::nullopt, 0, kNow);
    registry.unsubscribe("score", 1);
    std::optional<Loops> loops = registry.remove("score");
    ASSERT_TRUE(loops);
    EXPECT_EQ(*loops, (Loops{0, 2}));
    EXPECT_FALSE(registry.info("score", kNow));
    EXPECT_FALSE(registry.remove("score"));

    registry.publish("quiet", "", "x", "", kNow);
    loops = registry.remove("quiet");
    ASSERT_TRUE(loops);
    EXPECT_TRUE(loops->empty());
}

TEST(Registry, RecreatedChannelStartsAboveTheRemovedOneEvenIfTheClockDidNotMove) {
    Registry registry = make_registry(1);
    for (int i = 0; i < 5; ++i) publish_id(registry, "score");
    registry.remove("score");
    EXPECT_EQ(publish_id(registry, "score"), kFirst + 5);
    registry.remove("score");
    // A later clock gives a later range.
    EXPECT_EQ(publish_id(registry, "score", kNow + 10), kFirst + 10'000);
    // A client of the old incarnation resuming on the new one is told it lost history.
    EXPECT_TRUE(registry.subscribe("score", 0, kFirst + 2, 0, kNow + 10).lost);
}

TEST(Registry, UnsubscribeFromAnOldIncarnationLeavesTheNewOneAlone) {
    Registry registry = make_registry(1);
    Registry::Subscribed old = registry.subscribe("score", 0, std::nullopt, 0, kNow);
    registry.remove("score");
    Registry::Subscribed fresh = registry.subscribe("score", 0, std::nullopt, 0, kNow);
    EXPECT_NE(old.incarnation, fresh.incarnation);
    registry.unsubscribe("score", 0, old.incarnation);
    EXPECT_EQ(registry.info("score", kNow)->subscribers, 1u);
    EXPECT_EQ(registry.publish("score", "", "x", "", kNow).loops_to_notify, (Loops{0}));
    registry.unsubscribe("score", 0, fresh.incarnation);
    EXPECT_EQ(registry.info("score", kNow)->subscribers, 0u);
}

TEST(Registry, PruneForgetsChannelsWithNoSubscribersAndNoHistory) {
    Registry registry = make_registry(1, {100, 1000});
    registry.publish("old", "", "x", "", kNow);               // ages out, no subscriber: forgotten
    registry.publish("recent", "", "x", "", kNow + 900);      // history still young: kept
    registry.subscribe("watched", 0, std::nullopt, 0, kNow);  // subscriber, no history: kept
    registry.subscribe("left", 0, std::nullopt, 0, kNow);
    registry.unsubscribe("left", 0);  // nobody, nothing: forgotten
    EXPECT_EQ(registry.channel_count(), 4u);

    registry.prune(kNow + 1500);
    EXPECT_EQ(registry.channel_count(), 2u);
    EXPECT_FALSE(registry.info("old", kNow + 1500));
    EXPECT_FALSE(registry.info("left", kNow + 1500));
    EXPECT_EQ(registry.info("recent", kNow + 1500)->messages, 1u);
    EXPECT_EQ(registry.info("watched", kNow + 1500)->subscribers, 1u);

    registry.prune(kNow + 5000);
    EXPECT_EQ(registry.channel_count(), 1u);
    EXPECT_TRUE(registry.info("watched", kNow + 5000));
}

TEST(Registry, ForgottenChannelRecreatedStartsAboveItsOldIds) {
    Registry registry = make_registry(1, {0, 0});  // no history: forgotten as soon as unwatched
    for (int i = 0; i < 3000; ++i) publish_id(registry, "busy");  // runs 3 ms ahead of the clock
    registry.prune(kNow);
    EXPECT_EQ(registry.channel_count(), 0u);
    EXPECT_EQ(publish_id(registry, "busy", kNow + 1), kFirst + 3000);
}

TEST(Registry, FourThreadsPublishingGetDistinctConsecutiveIds) {
    Registry registry = make_registry(4);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 10'000;
    std::vector<Ids> seen(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            // Each thread also subscribes and unsubscribes on its loop, as loops would.
            registry.subscribe("score", static_cast<std::size_t>(t), std::nullopt, 1, kNow);
            for (int i = 0; i < kPerThread; ++i) {
                Registry::Published published = registry.publish("score", "", "x", "", kNow);
                Ids& mine = seen[static_cast<std::size_t>(t)];
                // Ids one thread receives increase: the lock orders publishes.
                if (!mine.empty()) {
                    EXPECT_GT(published.message->id, mine.back());
                }
                mine.push_back(published.message->id);
            }
        });
    }
    for (std::thread& thread : threads) thread.join();

    Ids all;
    for (const Ids& mine : seen) all.insert(all.end(), mine.begin(), mine.end());
    ASSERT_EQ(all.size(), std::size_t{kThreads * kPerThread});
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], kFirst + i);
    std::optional<Registry::Info> info = registry.info("score", kNow);
    EXPECT_EQ(info->last_id, kFirst + kThreads * kPerThread - 1);
    EXPECT_EQ(info->subscribers, std::uint64_t{kThreads});
    EXPECT_EQ(info->messages, 100u);
}

TEST(Registry, ConcurrentSubscribersBalanceToZero) {
    Registry registry = make_registry(4);
    std::vector<std::thread> threads;
    for (std::size_t loop = 0; loop < 4; ++loop) {
        threads.emplace_back([&, loop] {
            for (int i = 0; i < 5000; ++i) {
                Registry::Subscribed s = registry.subscribe("score", loop, std::nullopt, 1, kNow);
                if (i % 7 == 0) registry.publish("score", "", "x", "", kNow);
                registry.unsubscribe("score", loop, s.incarnation);
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(registry.info("score", kNow)->subscribers, 0u);
    EXPECT_TRUE(registry.publish("score", "", "x", "", kNow).loops_to_notify.empty());
}

}  // namespace
}  // namespace c10k::push
