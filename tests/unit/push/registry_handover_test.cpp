// The Registry across a handover (reload, upgrade): the old process's snapshot restored in the
// new one continues every channel's ids and history, and subscribers that came before it
// waited instead of being told their history was lost.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "push/registry.hpp"

namespace c10k::push {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;  // ms since the epoch

Registry make_registry(std::size_t loops) {
    return Registry(RegistryOptions{HistoryLimits{100, 600'000}, loops});
}

std::vector<std::uint64_t> ids(const std::vector<MessagePtr>& messages) {
    std::vector<std::uint64_t> out;
    for (const auto& m : messages) out.push_back(m->id);
    return out;
}

TEST(RegistryHandover, ARestoredChannelContinuesItsIdsAndKeepsItsHistory) {
    Registry old = make_registry(2);
    std::vector<std::uint64_t> published;
    for (int i = 0; i < 5; ++i) {
        published.push_back(old.publish("score", i == 2 ? "goal" : "", "m" + std::to_string(i),
                                        "text/plain", kNow + i)
                                .message->id);
    }
    old.publish("other", "", "x", "application/json", kNow);
    std::string bytes = old.snapshot();

    // The new process starts later: its own clock would give larger ids.
    Registry next = make_registry(3);
    next.await_handover();
    std::vector<Registry::Restored> ready;
    ASSERT_TRUE(next.restore(bytes, kNow + 60'000, ready));
    EXPECT_TRUE(ready.empty());  // nobody was waiting
    EXPECT_FALSE(next.awaiting_handover());
    EXPECT_EQ(next.channel_count(), 2u);

    // A client that saw the third message gets the last two, as the old process would give.
    auto resumed = next.subscribe("score", 0, published[2], 0, kNow + 60'000);
    EXPECT_FALSE(resumed.wait);
    EXPECT_FALSE(resumed.lost);
    EXPECT_EQ(ids(resumed.backlog), (std::vector<std::uint64_t>{published[3], published[4]}));
    EXPECT_EQ(resumed.backlog[0]->data, "m3");
    EXPECT_EQ(resumed.last_id, published[4]);
    // The next publish continues the chain.
    auto after = next.publish("score", "", "m5", "text/plain", kNow + 60'000);
    EXPECT_EQ(after.message->id, published[4] + 1);
    EXPECT_EQ(after.message->prev_id, published[4]);
    // Events, bodies and types came through.
    auto all = next.subscribe("score", 1, published[0], 0, kNow + 60'000);
    ASSERT_EQ(all.backlog.size(), 5u);
    EXPECT_EQ(all.backlog[1]->event, "goal");
    EXPECT_EQ(all.backlog[1]->content_type, "text/plain");
    auto other = next.subscribe("other", 0, std::nullopt, 1, kNow + 60'000);
    ASSERT_EQ(other.backlog.size(), 1u);
    EXPECT_EQ(other.backlog[0]->content_type, "application/json");
}

TEST(RegistryHandover, SubscribersWaitUntilTheSnapshotComesAndAreThenReady) {
    Registry old = make_registry(1);
    std::uint64_t first = old.publish("score", "", "a", "text/plain", kNow).message->id;
    std::uint64_t second = old.publish("score", "", "b", "text/plain", kNow).message->id;

    Registry next = make_registry(2);
    next.await_handover();
    // A client resuming with the old process's id: not lost, waiting.
    auto waiting = next.subscribe("score", 1, first, 0, kNow + 1000);
    EXPECT_TRUE(waiting.wait);
    EXPECT_FALSE(waiting.lost);
    EXPECT_FALSE(waiting.need_sync);  // nothing to load from a backplane
    auto fresh = next.subscribe("fresh", 0, std::nullopt, 0, kNow + 1000);
    EXPECT_TRUE(fresh.wait);

    std::vector<Registry::Restored> ready;
    ASSERT_TRUE(next.restore(old.snapshot(), kNow + 1000, ready));
    ASSERT_EQ(ready.size(), 2u);
    for (const auto& channel : ready) {
        if (channel.name == "score") {
            EXPECT_EQ(channel.loops, (std::vector<std::size_t>{1}));
            EXPECT_EQ(channel.last_id, second);
        } else {
            EXPECT_EQ(channel.name, "fresh");
            EXPECT_EQ(channel.loops, (std::vector<std::size_t>{0}));
        }
    }
    auto now = next.backlog("score", first, 0, true, kNow + 1000);
    ASSERT_TRUE(now.has_value());
    EXPECT_FALSE(now->wait);
    EXPECT_FALSE(now->lost);
    EXPECT_EQ(ids(now->backlog), (std::vector<std::uint64_t>{second}));
    // The waiting subscriber is still counted once, under the incarnation it was given.
    next.unsubscribe("score", 1, waiting.incarnation);
    auto info = next.info("score", kNow + 1000);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->subscribers, 0u);
}

TEST(RegistryHandover, MessagesThatArrivedBeforeTheSnapshotFollowIt) {
    // A process of a --processes group gets the new sequencer's first message (continuing the
    // old ids) before it has read the snapshot itself.
    Registry old = make_registry(1);
    std::uint64_t a = old.publish("score", "", "a", "text/plain", kNow).message->id;
    std::uint64_t b = old.publish("score", "", "b", "text/plain", kNow).message->id;
    Registry follower = make_registry(1);
    follower.await_handover();
    auto next = std::make_shared<Message>();
    next->id = b + 1;
    next->prev_id = b;
    next->data = "c";
    next->published_ms = kNow + 1000;
    follower.apply("score", next, kNow + 1000);
    std::vector<Registry::Restored> ready;
    ASSERT_TRUE(follower.restore(old.snapshot(), kNow + 1000, ready));
    auto resumed = follower.subscribe("score", 0, a, 0, kNow + 1000);
    EXPECT_FALSE(resumed.lost);
    EXPECT_EQ(ids(resumed.backlog), (std::vector<std::uint64_t>{b, b + 1}));
    EXPECT_EQ(resumed.last_id, b + 1);
}

TEST(RegistryHandover, NoSnapshotOrAnUnreadableOneEndsTheWaitAndResumesAreToldWhatIsLost) {
    Registry old = make_registry(1);
    std::uint64_t id = old.publish("score", "", "a", "text/plain", kNow).message->id;
    for (std::string bytes : {std::string(), std::string("garbage"),
                              old.snapshot().substr(0, old.snapshot().size() - 3)}) {
        Registry next = make_registry(1);
        next.await_handover();
        auto waiting = next.subscribe("score", 0, id, 0, kNow + 1000);
        EXPECT_TRUE(waiting.wait);
        std::vector<Registry::Restored> ready;
        EXPECT_FALSE(next.restore(bytes, kNow + 1000, ready));
        EXPECT_FALSE(next.awaiting_handover());
        EXPECT_EQ(ready.size(), 1u);  // the waiting subscriber is let go
        auto now = next.backlog("score", id, 0, true, kNow + 1000);
        ASSERT_TRUE(now.has_value());
        EXPECT_FALSE(now->wait);
        EXPECT_TRUE(now->lost);
    }
}

}  // namespace
}  // namespace c10k::push
