#include "push/history.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace c10k::push {
namespace {

MessagePtr make(std::uint64_t id, std::int64_t published_ms = 0) {
    auto message = std::make_shared<Message>();
    message->id = id;
    message->prev_id = id - 1;  // a local channel's ids are consecutive
    message->data = std::to_string(id);
    message->published_ms = published_ms;
    return message;
}

std::vector<std::uint64_t> ids(const std::vector<MessagePtr>& messages) {
    std::vector<std::uint64_t> out;
    for (const MessagePtr& m : messages) out.push_back(m->id);
    return out;
}

using Ids = std::vector<std::uint64_t>;

/// A history holding ids first..last, all published at `published_ms`.
History filled(HistoryLimits limits, std::uint64_t first, std::uint64_t last,
               std::int64_t published_ms = 0) {
    History history(limits);
    for (std::uint64_t id = first; id <= last; ++id) history.append(make(id, published_ms));
    return history;
}

TEST(History, KeepsAtMostMaxMessages) {
    History history = filled({3, 0}, 10, 14);
    EXPECT_EQ(history.size(), 3u);
    EXPECT_EQ(history.front()->id, 12u);
    EXPECT_EQ(history.back()->id, 14u);
    EXPECT_EQ(ids(history.newest(10)), (Ids{12, 13, 14}));
}

TEST(History, EmptyHistoryHasNoBack) {
    History history({5, 0});
    EXPECT_EQ(history.size(), 0u);
    EXPECT_EQ(history.back(), nullptr);
    EXPECT_TRUE(history.newest(3).empty());
}

TEST(History, PruneDropsOnlyMessagesOlderThanMaxAge) {
    History history({100, 1000});
    history.append(make(1, 0));
    history.append(make(2, 500));
    history.append(make(3, 1000));
    history.prune(1000);  // ages 1000, 500, 0: none is older than the limit
    EXPECT_EQ(history.size(), 3u);
    history.prune(1001);
    EXPECT_EQ(ids(history.newest(10)), (Ids{2, 3}));
    history.prune(2001);
    EXPECT_EQ(history.size(), 0u);
}

TEST(History, ZeroAgeMeansNoAgeLimit) {
    History history = filled({100, 0}, 1, 3, 0);
    history.prune(1'000'000'000'000);
    EXPECT_EQ(history.size(), 3u);
}

TEST(History, PruneKeepsTheHeldIdsConsecutiveWhenTheClockSteppedBack) {
    History history({100, 1000});
    history.append(make(1, 5000));
    history.append(make(2, 100));  // the wall clock stepped back
    history.append(make(3, 5000));
    history.prune(5500);
    // 2 is old, but dropping it while keeping 1 would leave a hole that since() could not see.
    EXPECT_EQ(ids(history.newest(10)), (Ids{1, 2, 3}));
}

TEST(History, NewestIsTheLastNOldestFirst) {
    History history = filled({100, 0}, 1, 5);
    EXPECT_EQ(ids(history.newest(0)), Ids{});
    EXPECT_EQ(ids(history.newest(1)), (Ids{5}));
    EXPECT_EQ(ids(history.newest(2)), (Ids{4, 5}));
    EXPECT_EQ(ids(history.newest(5)), (Ids{1, 2, 3, 4, 5}));
    EXPECT_EQ(ids(history.newest(50)), (Ids{1, 2, 3, 4, 5}));
}

TEST(History, SinceWithNoGap) {
    History history = filled({100, 0}, 10, 15);
    History::Since since = history.since(12, 15);
    EXPECT_FALSE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{13, 14, 15}));
    // Resuming from just before the oldest held message misses nothing.
    since = history.since(9, 15);
    EXPECT_FALSE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{10, 11, 12, 13, 14, 15}));
}

TEST(History, SinceTheLastIdIsEmptyAndNotLost) {
    History history = filled({100, 0}, 10, 15);
    History::Since since = history.since(15, 15);
    EXPECT_FALSE(since.lost);
    EXPECT_TRUE(since.messages.empty());
}

TEST(History, SinceWithAGapIsLostAndGivesEverythingHeld) {
    History history = filled({3, 0}, 10, 15);  // holds 13..15
    History::Since since = history.since(11, 15);
    EXPECT_TRUE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{13, 14, 15}));
    since = history.since(0, 15);
    EXPECT_TRUE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{13, 14, 15}));
    since = history.since(12, 15);
    EXPECT_FALSE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{13, 14, 15}));
}

TEST(History, SinceAFutureIdIsLost) {
    History history = filled({100, 0}, 10, 15);
    History::Since since = history.since(16, 15);
    EXPECT_TRUE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{10, 11, 12, 13, 14, 15}));
    since = history.since(UINT64_MAX, 15);
    EXPECT_TRUE(since.lost);
}

TEST(History, SinceOnAnEmptyHistory) {
    History history({100, 0});
    // A channel that never published: any id is from elsewhere.
    EXPECT_TRUE(history.since(5, 0).lost);
    EXPECT_FALSE(history.since(0, 0).lost);
    // Everything aged out: up to date is fine, behind is lost.
    EXPECT_FALSE(history.since(20, 20).lost);
    History::Since since = history.since(19, 20);
    EXPECT_TRUE(since.lost);
    EXPECT_TRUE(since.messages.empty());
}

TEST(History, MaxMessagesZeroKeepsNone) {
    History history = filled({0, 0}, 1, 10);
    EXPECT_EQ(history.size(), 0u);
    EXPECT_TRUE(history.newest(5).empty());
    EXPECT_TRUE(history.since(9, 10).lost);
    EXPECT_FALSE(history.since(10, 10).lost);
    EXPECT_TRUE(history.since(11, 10).lost);
}

TEST(History, AgeAndCountTogether) {
    History history({3, 100});
    for (std::uint64_t id = 1; id <= 5; ++id) {
        history.append(make(id, static_cast<std::int64_t>(id) * 50));
    }
    EXPECT_EQ(ids(history.newest(10)), (Ids{3, 4, 5}));  // by count
    history.prune(300);                                  // ages 150, 100, 50
    EXPECT_EQ(ids(history.newest(10)), (Ids{4, 5}));
    EXPECT_TRUE(history.since(2, 5).lost);
    EXPECT_EQ(ids(history.since(3, 5).messages), (Ids{4, 5}));
}

/// Ids as a Redis backplane hands them out: increasing, not consecutive, chained by prev_id.
MessagePtr chained(std::uint64_t id, std::uint64_t prev) {
    auto message = std::make_shared<Message>();
    message->id = id;
    message->prev_id = prev;
    return message;
}

History stream_history() {
    History history({10, 0});
    history.append(chained(1000, 0));
    history.append(chained(1005, 1000));
    history.append(chained(2000, 1005));
    return history;
}

TEST(History, SinceFollowsTheChainOfStreamIds) {
    History history = stream_history();
    auto since = history.since(1000, 2000);
    EXPECT_FALSE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{1005, 2000}));
    since = history.since(0, 2000);
    EXPECT_FALSE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{1000, 1005, 2000}));
}

TEST(History, AnIdBetweenTwoStreamIdsIsLost) {
    History history = stream_history();
    // 1003 was never handed out: the message after it continues from 1000, not from 1003.
    auto since = history.since(1003, 2000);
    EXPECT_TRUE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{1000, 1005, 2000}));
}

TEST(History, ATrimmedStreamIsLostBeforeItsOldestHeld) {
    History history({2, 0});
    history.append(chained(1000, 0));
    history.append(chained(1005, 1000));
    history.append(chained(2000, 1005));  // 1000 is dropped
    EXPECT_FALSE(history.since(1000, 2000).lost);
    auto since = history.since(900, 2000);
    EXPECT_TRUE(since.lost);
    EXPECT_EQ(ids(since.messages), (Ids{1005, 2000}));
}

TEST(History, ClearStartsANewChain) {
    History history = stream_history();
    history.clear();
    EXPECT_TRUE(history.empty());
    history.append(chained(5000, 0));  // a stream made again after it was lost
    EXPECT_TRUE(history.since(2000, 5000).lost);
    EXPECT_FALSE(history.since(0, 5000).lost);
}

}  // namespace
}  // namespace c10k::push
