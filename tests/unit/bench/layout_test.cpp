// The scale rules, without opening sockets: past the descriptor limit the run spreads over
// processes; past one address's ephemeral ports it binds 127.0.0.2, 127.0.0.3, ...

#include "bench/layout.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace c10k::bench {
namespace {

std::vector<Target> loopback_targets(int count) {
    std::vector<Target> targets;
    for (int i = 0; i < count; ++i) {
        Target target;
        std::string error;
        EXPECT_TRUE(make_target("http://127.0.0.1:" + std::to_string(8000 + i) + "/",
                                RequestSpec{}, target, error));
        targets.push_back(target);
    }
    return targets;
}

TEST(Layout, SmallRunIsOneProcessOneSource) {
    BenchOptions options;
    options.connections = 50;
    options.threads = 2;
    auto plan = plan_loops(options, loopback_targets(1), 20000, 27000);
    EXPECT_EQ(plan.layout.processes, 1u);
    EXPECT_EQ(plan.layout.threads, 2u);
    EXPECT_EQ(plan.layout.source_addresses, 1u);
    ASSERT_EQ(plan.loops.size(), 2u);
    EXPECT_EQ(plan.loops[0].size() + plan.loops[1].size(), 50u);
    for (const auto& loop : plan.loops) {
        for (const auto& spec : loop) EXPECT_EQ(spec.source, 0u);
    }
    EXPECT_TRUE(plan.warnings.empty());
}

TEST(Layout, HundredThousandConnectionsSpreadOverProcessesAndSources) {
    BenchOptions options;
    options.connections = 90000;
    options.idle = 10000;
    options.threads = 1;
    auto plan = plan_loops(options, loopback_targets(1), 20000, 27000);
    // 100,000 descriptors at 19,936 per process need 6 processes.
    EXPECT_EQ(plan.layout.processes, 6u);
    EXPECT_EQ(plan.loops.size(), 6u);
    EXPECT_EQ(plan.layout.source_addresses, 4u);
    std::map<std::uint32_t, int> per_source;
    std::set<std::uint32_t> sending;
    std::size_t total = 0;
    for (const auto& loop : plan.loops) {
        EXPECT_LE(loop.size(), 20000u - reserved_descriptors);
        total += loop.size();
        for (const auto& spec : loop) {
            per_source[spec.source]++;
            if (!spec.idle) sending.insert(spec.global_index);
        }
    }
    EXPECT_EQ(total, 100000u);
    EXPECT_EQ(sending.size(), 90000u);  // every sending connection has its own schedule slot
    ASSERT_EQ(per_source.size(), 4u);
    EXPECT_EQ(per_source.begin()->first, 0x7f000001u);
    for (auto [source, count] : per_source) EXPECT_LE(count, 27000) << std::hex << source;
}

TEST(Layout, SendingConnectionsAreDealtRoundRobin) {
    // Each loop's share of the schedule is then as even as the whole: loop k owns connections
    // k, k + L, k + 2L, ... whose offsets interleave.
    BenchOptions options;
    options.connections = 12;
    options.threads = 3;
    auto plan = plan_loops(options, loopback_targets(2), 20000, 27000);
    for (std::uint32_t k = 0; k < 3; ++k) {
        ASSERT_EQ(plan.loops[k].size(), 4u);
        for (std::uint32_t j = 0; j < 4; ++j) {
            EXPECT_EQ(plan.loops[k][j].global_index, k + 3 * j);
            EXPECT_EQ(plan.loops[k][j].target, (k + 3 * j) % 2);  // URLs alternate
        }
    }
}

TEST(Layout, WarnsWhenForcedProcessesCannotHoldTheConnections) {
    BenchOptions options;
    options.connections = 50000;
    options.processes = 1;
    auto plan = plan_loops(options, loopback_targets(1), 20000, 27000);
    EXPECT_EQ(plan.layout.processes, 1u);
    EXPECT_FALSE(plan.warnings.empty());
}

TEST(Layout, NonLoopbackDestinationsAreNotGivenLoopbackSources) {
    BenchOptions options;
    options.connections = 30000;
    Target target;
    std::string error;
    ASSERT_TRUE(make_target("http://10.1.2.3:80/", RequestSpec{}, target, error));
    auto plan = plan_loops(options, {target}, 20000, 27000);
    EXPECT_EQ(plan.layout.source_addresses, 1u);
    EXPECT_FALSE(plan.warnings.empty());
}

}  // namespace
}  // namespace c10k::bench
