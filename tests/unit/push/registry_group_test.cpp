// The Registry's side of a --processes group: the sequencer sums the counts the other processes
// report, and each other process lists what changed since its last report.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "push/registry.hpp"

namespace c10k::push {
namespace {

using Counts = std::vector<ChannelCount>;

constexpr std::int64_t kNow = 1'700'000'000'000;  // ms since the epoch

Registry make_registry(std::size_t loops = 2) {
    return Registry(RegistryOptions{HistoryLimits{100, 600'000}, loops});
}

std::uint64_t subscribers(Registry& registry, std::string_view channel) {
    auto info = registry.info(channel, kNow);
    return info ? info->subscribers : 0;
}

Counts sorted(Counts counts) {
    std::sort(counts.begin(), counts.end(),
              [](const ChannelCount& a, const ChannelCount& b) { return a.channel < b.channel; });
    return counts;
}

TEST(RegistryGroup, SequencerAnswersWithItsOwnAndEveryOtherProcesssCount) {
    Registry registry = make_registry();
    registry.subscribe("c", 0, std::nullopt, 0, kNow);
    registry.subscribe("c", 1, std::nullopt, 0, kNow);
    registry.set_process_count("c", 0, 5, kNow);
    registry.set_process_count("c", 3, 3, kNow);
    EXPECT_EQ(subscribers(registry, "c"), 10u);
    EXPECT_EQ(registry.publish("c", "", "x", "", kNow).subscribers, 10u);
    // A report replaces the process's previous count; it is not added to it.
    registry.set_process_count("c", 0, 1, kNow);
    EXPECT_EQ(subscribers(registry, "c"), 6u);
    // A process whose link closed leaves every channel's count.
    registry.set_process_count("other", 3, 7, kNow);
    registry.forget_process(3);
    EXPECT_EQ(subscribers(registry, "c"), 3u);
    EXPECT_EQ(subscribers(registry, "other"), 0u);
    registry.forget_process(0);
    EXPECT_EQ(registry.publish("c", "", "y", "", kNow).subscribers, 2u);
    // Forgetting twice, or a process that never reported, changes nothing.
    registry.forget_process(0);
    registry.forget_process(9);
    EXPECT_EQ(subscribers(registry, "c"), 2u);
}

TEST(RegistryGroup, AChannelWatchedOnlyElsewhereExistsUntilNobodyWatchesIt) {
    Registry registry = make_registry();
    registry.set_process_count("far", 1, 4, kNow);
    auto info = registry.info("far", kNow);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->subscribers, 4u);
    EXPECT_EQ(info->last_id, 0u);
    EXPECT_EQ(info->messages, 0u);
    registry.prune(kNow);
    EXPECT_TRUE(registry.info("far", kNow).has_value()) << "pruned while watched elsewhere";
    registry.set_process_count("far", 1, 0, kNow);
    registry.prune(kNow);
    EXPECT_FALSE(registry.info("far", kNow).has_value());

    registry.set_process_count("gone", 2, 5, kNow);
    registry.forget_process(2);
    registry.prune(kNow);
    EXPECT_EQ(registry.channel_count(), 0u);
}

TEST(RegistryGroup, AReportOfNoneCreatesNothing) {
    Registry registry = make_registry();
    registry.set_process_count("none", 0, 0, kNow);
    EXPECT_FALSE(registry.info("none", kNow).has_value());
    EXPECT_EQ(registry.channel_count(), 0u);
}

TEST(RegistryGroup, DeletingAChannelDropsTheOtherProcessesCountsWithIt) {
    Registry registry = make_registry();
    registry.set_process_count("c", 0, 4, kNow);
    ASSERT_TRUE(registry.remove("c").has_value());
    // The process closes its subscribers of the deleted channel and reports 0.
    registry.set_process_count("c", 0, 0, kNow);
    EXPECT_FALSE(registry.info("c", kNow).has_value());
    // Clients that came back to the new channel are counted from nothing.
    registry.set_process_count("c", 0, 2, kNow);
    EXPECT_EQ(subscribers(registry, "c"), 2u);
}

TEST(RegistryGroup, NothingIsListedUnlessTracking) {
    Registry registry = make_registry();
    registry.subscribe("c", 0, std::nullopt, 0, kNow);
    EXPECT_TRUE(registry.take_count_changes(false).empty());
    registry.track_count_changes();
    registry.subscribe("c", 1, std::nullopt, 0, kNow);
    EXPECT_EQ(registry.take_count_changes(false), (Counts{{"c", 2}}));
}

TEST(RegistryGroup, ChangesSinceTheLastReportEachOnceWithTheCountNow) {
    Registry registry = make_registry();
    registry.track_count_changes();
    registry.subscribe("c", 0, std::nullopt, 0, kNow);
    registry.subscribe("d", 1, std::nullopt, 0, kNow);
    registry.subscribe("c", 1, std::nullopt, 0, kNow);
    EXPECT_EQ(registry.take_count_changes(false), (Counts{{"c", 2}, {"d", 1}}));
    EXPECT_TRUE(registry.take_count_changes(false).empty());

    // Back where it was at the last report: nothing to say.
    registry.unsubscribe("d", 1);
    registry.subscribe("d", 0, std::nullopt, 0, kNow);
    EXPECT_TRUE(registry.take_count_changes(false).empty());

    registry.unsubscribe("c", 0);
    EXPECT_EQ(registry.take_count_changes(false), (Counts{{"c", 1}}));

    // A subscriber that came and went between two reports was never reported.
    registry.subscribe("brief", 0, std::nullopt, 0, kNow);
    registry.unsubscribe("brief", 0);
    EXPECT_TRUE(registry.take_count_changes(false).empty());
}

TEST(RegistryGroup, ADroppedChannelIsReportedAsNone) {
    Registry registry = make_registry();
    registry.track_count_changes();
    registry.subscribe("deleted", 0, std::nullopt, 0, kNow);
    registry.subscribe("pruned", 0, std::nullopt, 0, kNow);
    EXPECT_EQ(sorted(registry.take_count_changes(false)), (Counts{{"deleted", 1}, {"pruned", 1}}));
    ASSERT_TRUE(registry.remove("deleted").has_value());
    registry.unsubscribe("pruned", 0);
    registry.prune(kNow);
    ASSERT_EQ(registry.channel_count(), 0u);
    EXPECT_EQ(sorted(registry.take_count_changes(false)), (Counts{{"deleted", 0}, {"pruned", 0}}));
    EXPECT_TRUE(registry.take_count_changes(false).empty());
}

TEST(RegistryGroup, ADroppedChannelCreatedAgainIsReportedWithItsNewCount) {
    Registry registry = make_registry();
    registry.track_count_changes();
    registry.subscribe("g", 0, std::nullopt, 0, kNow);
    registry.subscribe("h", 0, std::nullopt, 0, kNow);
    registry.take_count_changes(false);
    // Deleted, then subscribed to again before the next report.
    registry.remove("g");
    registry.subscribe("g", 0, std::nullopt, 0, kNow);
    registry.subscribe("g", 1, std::nullopt, 0, kNow);
    // Deleted, subscribed to again and left again: the sequencer still holds the old 1.
    registry.remove("h");
    registry.subscribe("h", 0, std::nullopt, 0, kNow);
    registry.unsubscribe("h", 0);
    EXPECT_EQ(sorted(registry.take_count_changes(false)), (Counts{{"g", 2}, {"h", 0}}));
    EXPECT_TRUE(registry.take_count_changes(false).empty());
}

TEST(RegistryGroup, ANewLinkGetsEveryNonzeroCountAndThenOnlyChanges) {
    Registry registry = make_registry();
    registry.track_count_changes();
    registry.subscribe("a", 0, std::nullopt, 0, kNow);
    registry.subscribe("a", 1, std::nullopt, 0, kNow);
    registry.subscribe("b", 1, std::nullopt, 0, kNow);
    registry.subscribe("empty", 1, std::nullopt, 0, kNow);
    registry.unsubscribe("empty", 1);
    EXPECT_EQ(sorted(registry.take_count_changes(true)), (Counts{{"a", 2}, {"b", 1}}));
    EXPECT_TRUE(registry.take_count_changes(false).empty());
    registry.unsubscribe("a", 0);
    EXPECT_EQ(registry.take_count_changes(false), (Counts{{"a", 1}}));
    // The full table again, as after a reconnection: the same nonzero counts.
    EXPECT_EQ(sorted(registry.take_count_changes(true)), (Counts{{"a", 1}, {"b", 1}}));
}

}  // namespace
}  // namespace c10k::push
