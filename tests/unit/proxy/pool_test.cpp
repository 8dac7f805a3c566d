// The per-loop pool: smooth weighted round robin, least outstanding, skipping servers a request
// already failed on, and the passive back-off of servers whose connect failed.

#include "proxy/pool.hpp"

#include <gtest/gtest.h>

#include <string>

namespace c10k::proxy {
namespace {

PoolSpec spec_of(std::initializer_list<std::uint32_t> weights,
                 Balance balance = Balance::round_robin) {
    PoolSpec spec;
    spec.balance = balance;
    int port = 9000;
    for (std::uint32_t weight : weights) {
        ServerSpec server;
        std::string error;
        EXPECT_TRUE(
            core::parse_endpoint("127.0.0.1:" + std::to_string(port++), server.address, error));
        server.weight = weight;
        spec.servers.push_back(server);
    }
    return spec;
}

std::string sequence(Pool& pool, int count, std::int64_t now = 0, std::uint64_t tried = 0) {
    std::string picks;
    for (int i = 0; i < count; ++i) picks.push_back(static_cast<char>('a' + pool.pick(now, tried)));
    return picks;
}

TEST(Pool, RoundRobinIsSmoothAndWeighted) {
    Pool pool(spec_of({5, 1, 1}));
    // nginx's smooth weighted round robin: the heavy server's turns are spread out.
    EXPECT_EQ(sequence(pool, 7), "aabacaa");
    EXPECT_EQ(sequence(pool, 7), "aabacaa");
}

TEST(Pool, EqualWeightsTakeTurns) {
    Pool pool(spec_of({1, 1, 1}));
    EXPECT_EQ(sequence(pool, 6), "abcabc");
}

TEST(Pool, TriedServersAreSkipped) {
    Pool pool(spec_of({1, 1, 1}));
    EXPECT_EQ(sequence(pool, 4, 0, 0b010), "acac");
    EXPECT_EQ(pool.pick(0, 0b111), -1);
}

TEST(Pool, FailedServerSitsOutItsBackoffThatDoublesAndIsCapped) {
    PoolSpec spec = spec_of({1, 1});
    spec.backoff_ms = 100;
    spec.max_backoff_ms = 350;
    Pool pool(spec);
    pool.mark_failed(0, 1000);
    EXPECT_EQ(sequence(pool, 3, 1050), "bbb");
    EXPECT_EQ(pool.state(0).down_until_ms, 1100);
    pool.mark_failed(0, 1100);
    EXPECT_EQ(pool.state(0).down_until_ms, 1300);
    pool.mark_failed(0, 1300);
    EXPECT_EQ(pool.state(0).down_until_ms, 1650);  // 400 capped at 350
    pool.mark_ok(0);
    EXPECT_EQ(pool.state(0).down_until_ms, 0);
    EXPECT_EQ(pool.state(0).failures, 0u);
    EXPECT_EQ(pool.state(0).failed, 3u);
}

TEST(Pool, WhenEveryServerIsDownTheSoonestBackIsTried) {
    Pool pool(spec_of({1, 1}));
    pool.mark_failed(0, 1000);  // back at 2000
    pool.mark_failed(1, 500);   // back at 1500
    EXPECT_EQ(pool.pick(1200, 0), 1);
    EXPECT_EQ(pool.pick(1200, 0b10), 0);
}

TEST(Pool, LeastOutstandingPrefersTheIdlest) {
    Pool pool(spec_of({1, 1, 1}, Balance::least_outstanding));
    pool.state(0).outstanding = 3;
    pool.state(1).outstanding = 1;
    pool.state(2).outstanding = 2;
    EXPECT_EQ(pool.pick(0, 0), 1);
    pool.state(1).outstanding = 5;
    EXPECT_EQ(pool.pick(0, 0), 2);
}

TEST(Pool, LeastOutstandingWeighsByWeight) {
    Pool pool(spec_of({4, 1}, Balance::least_outstanding));
    pool.state(0).outstanding = 3;  // 3/4 per unit of weight
    pool.state(1).outstanding = 1;  // 1/1
    EXPECT_EQ(pool.pick(0, 0), 0);
}

}  // namespace
}  // namespace c10k::proxy
