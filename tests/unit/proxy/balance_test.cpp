// The balancers beyond round robin and least outstanding: power of two random choices,
// consistent hashing on the client's address and on a request key (with bounded loads), and
// slow start. Every random choice comes from an explicitly seeded pool, so each run picks the
// same servers.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "proxy/pool.hpp"

namespace c10k::proxy {
namespace {

PoolSpec spec_of(std::initializer_list<std::uint32_t> weights, Balance balance) {
    PoolSpec spec;
    spec.balance = balance;
    spec.random_seed = 42;
    int port = 9000;
    for (std::uint32_t weight : weights) {
        ServerSpec server;
        std::string error;
        server.name = "127.0.0.1:" + std::to_string(port++);
        EXPECT_TRUE(core::parse_endpoint(server.name, server.address, error));
        server.weight = weight;
        spec.servers.push_back(server);
    }
    return spec;
}

/// How many of `count` picks went to each server (at most 8 servers).
std::array<int, 8> tally(Pool& pool, int count, std::int64_t now = 0, std::uint64_t tried = 0,
                         std::string_view key = {}) {
    std::array<int, 8> picks{};
    for (int i = 0; i < count; ++i) {
        int chosen = pool.pick(now, tried, key);
        EXPECT_GE(chosen, 0);
        if (chosen >= 0) ++picks[static_cast<std::size_t>(chosen)];
    }
    return picks;
}

std::string client(int i) {
    return "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".7";
}

// Power of two random choices.

TEST(RandomTwo, NeverPicksATriedOrDownServer) {
    Pool pool(spec_of({1, 1, 1, 1}, Balance::random_two));
    pool.mark_failed(1, 0);  // down until 1000
    auto picks = tally(pool, 1000, 10, 0b0001);
    EXPECT_EQ(picks[0], 0);
    EXPECT_EQ(picks[1], 0);
    EXPECT_GT(picks[2], 0);
    EXPECT_GT(picks[3], 0);
    EXPECT_EQ(picks[2] + picks[3], 1000);
    // Back from its back-off, the server is drawn again.
    EXPECT_GT(tally(pool, 1000, 1000)[1], 0);
}

TEST(RandomTwo, OfTwoServersTheLessLoadedWins) {
    Pool pool(spec_of({1, 1}, Balance::random_two));
    pool.state(0).outstanding = 5;
    pool.state(1).outstanding = 1;
    EXPECT_EQ(tally(pool, 100)[1], 100);
    pool.state(1).outstanding = 9;
    EXPECT_EQ(tally(pool, 100)[0], 100);
}

TEST(RandomTwo, TheMostLoadedServerIsNeverChosenAndTheIdlestMostOften) {
    Pool pool(spec_of({1, 1, 1}, Balance::random_two));
    pool.state(0).outstanding = 0;
    pool.state(1).outstanding = 10;
    pool.state(2).outstanding = 20;
    auto picks = tally(pool, 3000);
    // Server 2 loses every pair it is in; server 0 wins every pair it is in (two thirds).
    EXPECT_EQ(picks[2], 0);
    EXPECT_NEAR(picks[0], 2000, 200);
    EXPECT_NEAR(picks[1], 1000, 200);
}

TEST(RandomTwo, IdleServersShareEvenlyAndWeightBreaksTies) {
    Pool even(spec_of({1, 1, 1}, Balance::random_two));
    auto picks = tally(even, 3000);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(picks[static_cast<std::size_t>(i)], 1000, 200);
    // Between two idle servers the request counts: 1/3 beats 1/1.
    Pool weighted(spec_of({3, 1}, Balance::random_two));
    EXPECT_EQ(tally(weighted, 100)[0], 100);
}

TEST(RandomTwo, TheSameSeedDrawsTheSameServers) {
    Pool first(spec_of({1, 1, 1, 1, 1}, Balance::random_two));
    Pool second(spec_of({1, 1, 1, 1, 1}, Balance::random_two));
    PoolSpec other_spec = spec_of({1, 1, 1, 1, 1}, Balance::random_two);
    other_spec.random_seed = 7;
    Pool other(other_spec);
    std::string a, b, c;
    for (int i = 0; i < 200; ++i) {
        // Some load, so that the pairs drawn decide the pick.
        for (std::size_t s = 0; s < 5; ++s) {
            first.state(s).outstanding = second.state(s).outstanding = other.state(s).outstanding =
                static_cast<std::uint32_t>((s * 7 + i) % 5);
        }
        a.push_back(static_cast<char>('a' + first.pick(0, 0)));
        b.push_back(static_cast<char>('a' + second.pick(0, 0)));
        c.push_back(static_cast<char>('a' + other.pick(0, 0)));
    }
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

// Consistent hashing on the client's address.

TEST(SourceHash, OneClientAlwaysGoesToOneServer) {
    Pool pool(spec_of({1, 1, 1}, Balance::source_hash));
    int first = pool.pick(0, 0, "192.0.2.7");
    ASSERT_GE(first, 0);
    for (int i = 0; i < 1000; ++i) {
        pool.pick(0, 0, client(i));  // other clients in between change nothing
        ASSERT_EQ(pool.pick(0, 0, "192.0.2.7"), first);
    }
    // Another pool built from the same servers (another loop, another process) agrees.
    Pool again(spec_of({1, 1, 1}, Balance::source_hash));
    EXPECT_EQ(again.pick(0, 0, "192.0.2.7"), first);
}

TEST(SourceHash, ClientsSpreadEvenlyOverTheServers) {
    Pool pool(spec_of({1, 1, 1}, Balance::source_hash));
    std::array<int, 8> picks{};
    for (int i = 0; i < 3000; ++i) ++picks[static_cast<std::size_t>(pool.pick(0, 0, client(i)))];
    for (int i = 0; i < 3; ++i) {
        EXPECT_GE(picks[static_cast<std::size_t>(i)], 800) << "server " << i;
        EXPECT_LE(picks[static_cast<std::size_t>(i)], 1200) << "server " << i;
    }
}

TEST(SourceHash, WeightsSetTheShares) {
    Pool pool(spec_of({2, 1}, Balance::source_hash));
    std::array<int, 8> picks{};
    for (int i = 0; i < 3000; ++i) ++picks[static_cast<std::size_t>(pool.pick(0, 0, client(i)))];
    EXPECT_NEAR(picks[0], 2000, 300);
    EXPECT_NEAR(picks[1], 1000, 300);
}

TEST(SourceHash, AServerThatLeavesMovesOnlyItsOwnClients) {
    Pool pool(spec_of({1, 1, 1}, Balance::source_hash));
    std::vector<int> before;
    for (int i = 0; i < 3000; ++i) before.push_back(pool.pick(0, 0, client(i)));
    pool.mark_failed(1, 0);  // down until 1000
    std::array<int, 8> moved_to{};
    for (int i = 0; i < 3000; ++i) {
        int now = pool.pick(10, 0, client(i));
        if (before[static_cast<std::size_t>(i)] == 1) {
            ASSERT_NE(now, 1);
            ++moved_to[static_cast<std::size_t>(now)];
        } else {
            ASSERT_EQ(now, before[static_cast<std::size_t>(i)]) << client(i);
        }
    }
    // Its clients spread over the others rather than all landing on one.
    EXPECT_GT(moved_to[0], 200);
    EXPECT_GT(moved_to[2], 200);
    // A request that failed on its server moves the same way as when the server is down.
    for (int i = 0; i < 3000; ++i) {
        if (before[static_cast<std::size_t>(i)] != 1) continue;
        ASSERT_EQ(pool.pick(10, 0b010, client(i)), pool.pick(10, 0, client(i)));
    }
    // Back from its back-off, the server has its clients again.
    for (int i = 0; i < 3000; ++i) {
        ASSERT_EQ(pool.pick(1000, 0, client(i)), before[static_cast<std::size_t>(i)]);
    }
}

TEST(SourceHash, NoAddressIsBalancedRoundRobin) {
    Pool pool(spec_of({1, 1, 1}, Balance::source_hash));
    std::string picks;
    for (int i = 0; i < 6; ++i) picks.push_back(static_cast<char>('a' + pool.pick(0, 0)));
    EXPECT_EQ(picks, "abcabc");
}

TEST(SourceHash, EveryServerDownStillPicksTheSoonestBack) {
    Pool pool(spec_of({1, 1}, Balance::source_hash));
    pool.mark_failed(0, 1000);  // back at 2000
    pool.mark_failed(1, 500);   // back at 1500
    EXPECT_EQ(pool.pick(1200, 0, "192.0.2.7"), 1);
    EXPECT_EQ(pool.pick(1200, 0b10, "192.0.2.7"), 0);
    EXPECT_EQ(pool.pick(1200, 0b11, "192.0.2.7"), -1);
}

// Consistent hashing on a request key, with bounded loads.

/// Whether `server` is under its bounded-load capacity: outstanding < ceil(factor * (total + 1)
/// * weight / all weights), the model the pool is checked against.
bool under_bound(Pool& pool, std::size_t server, double factor) {
    std::uint64_t total = 1;
    std::uint64_t weights = 0;
    for (std::size_t i = 0; i < pool.size(); ++i) {
        total += pool.state(i).outstanding;
        weights += pool.server(i).weight;
    }
    double capacity = factor * static_cast<double>(total) * pool.server(server).weight /
                      static_cast<double>(weights);
    return pool.state(server).outstanding < static_cast<std::uint64_t>(std::ceil(capacity));
}

TEST(HashBalance, AHotKeySpillsOnceItsServerIsOverTheBound) {
    PoolSpec spec = spec_of({1, 1, 1}, Balance::hash);
    spec.hash_balance_factor = 1.25;
    Pool pool(spec);
    for (std::size_t i = 0; i < 3; ++i) pool.state(i).outstanding = 4;  // other traffic
    int home = pool.pick(0, 0, "/hot");
    ASSERT_GE(home, 0);
    auto hot = static_cast<std::size_t>(home);
    int spilled = 0;
    for (int i = 0; i < 60; ++i) {
        bool home_fits = under_bound(pool, hot, 1.25);
        int chosen = pool.pick(0, 0, "/hot");
        ASSERT_GE(chosen, 0);
        auto server = static_cast<std::size_t>(chosen);
        // The key stays home exactly while home is under its bound; elsewhere it goes to a
        // server that is under its own.
        ASSERT_EQ(server == hot, home_fits) << "pick " << i;
        ASSERT_TRUE(under_bound(pool, server, 1.25)) << "pick " << i;
        if (server != hot) ++spilled;
        ++pool.state(server).outstanding;  // the request stays in flight
    }
    EXPECT_GT(spilled, 0);
    // 72 in flight: no server above ceil(1.25 * 72 / 3) = 30.
    for (std::size_t i = 0; i < 3; ++i) EXPECT_LE(pool.state(i).outstanding, 30u);
    // Once the load drains, the key is home again.
    for (std::size_t i = 0; i < 3; ++i) pool.state(i).outstanding = 0;
    EXPECT_EQ(pool.pick(0, 0, "/hot"), home);
}

TEST(HashBalance, WithoutABoundAHotKeyStaysHome) {
    PoolSpec spec = spec_of({1, 1, 1}, Balance::hash);
    spec.hash_balance_factor = 0;
    Pool pool(spec);
    int home = pool.pick(0, 0, "/hot");
    for (int i = 0; i < 60; ++i) {
        ASSERT_EQ(pool.pick(0, 0, "/hot"), home);
        ++pool.state(static_cast<std::size_t>(home)).outstanding;
    }
}

TEST(HashBalance, KeysMapStablyAndEvenly) {
    Pool pool(spec_of({1, 1, 1}, Balance::hash));
    std::array<int, 8> picks{};
    std::map<std::string, int> first;
    for (int i = 0; i < 3000; ++i) {
        std::string uri = "/item/" + std::to_string(i) + "?v=1";
        int chosen = pool.pick(0, 0, uri);
        ++picks[static_cast<std::size_t>(chosen)];
        first[uri] = chosen;
    }
    for (int i = 0; i < 3; ++i) {
        EXPECT_GE(picks[static_cast<std::size_t>(i)], 800) << "server " << i;
        EXPECT_LE(picks[static_cast<std::size_t>(i)], 1200) << "server " << i;
    }
    // Nothing was left outstanding, so no bound interferes: every key maps where it did.
    for (const auto& [uri, server] : first) ASSERT_EQ(pool.pick(0, 0, uri), server) << uri;
}

TEST(HashBalance, ATriedServerIsPassedOverEvenOverTheBound) {
    PoolSpec spec = spec_of({1, 1}, Balance::hash);
    Pool pool(spec);
    int home = pool.pick(0, 0, "/k");
    auto other = static_cast<std::size_t>(1 - home);
    pool.state(other).outstanding = 50;  // far over its bound
    // The home server failed for this request: the other takes it anyway.
    EXPECT_EQ(pool.pick(0, std::uint64_t{1} << home, "/k"), static_cast<int>(other));
}

TEST(HashBalance, NoKeyIsBalancedRoundRobin) {
    Pool pool(spec_of({1, 1, 1}, Balance::hash));
    std::string picks;
    for (int i = 0; i < 6; ++i) picks.push_back(static_cast<char>('a' + pool.pick(0, 0, "")));
    EXPECT_EQ(picks, "abcabc");
}

// Slow start.

PoolSpec slow_start_spec(Balance balance) {
    PoolSpec spec = spec_of({1, 1}, balance);
    spec.backoff_ms = 1000;
    spec.slow_start_ms = 10'000;
    return spec;
}

TEST(SlowStart, ARecoveredServersWeightRampsFromATenth) {
    Pool pool(slow_start_spec(Balance::round_robin));
    EXPECT_EQ(pool.effective_weight(0, 0), 100u);  // never down: full weight
    pool.mark_failed(0, 0);                        // back at 1000
    EXPECT_EQ(pool.effective_weight(0, 1000), 10u);
    EXPECT_EQ(pool.effective_weight(0, 3000), 20u);
    EXPECT_EQ(pool.effective_weight(0, 6000), 50u);
    EXPECT_EQ(pool.effective_weight(0, 11'000), 100u);
    EXPECT_EQ(pool.effective_weight(1, 1000), 100u);
    // Off, the weight is the configured one.
    PoolSpec off = slow_start_spec(Balance::round_robin);
    off.slow_start_ms = 0;
    Pool plain(off);
    plain.mark_failed(0, 0);
    EXPECT_EQ(plain.effective_weight(0, 1000), 1u);
}

TEST(SlowStart, ARecoveredServersShareOfRoundRobinGrows) {
    Pool pool(slow_start_spec(Balance::round_robin));
    pool.mark_failed(0, 0);
    EXPECT_EQ(tally(pool, 100, 500)[0], 0);  // still down
    int at_start = tally(pool, 1100, 1000)[0];
    int half_way = tally(pool, 1500, 6000)[0];
    int done = tally(pool, 2000, 11'000)[0];
    EXPECT_NEAR(at_start, 100, 2);  // 10 : 100
    EXPECT_NEAR(half_way, 500, 2);  // 50 : 100
    EXPECT_NEAR(done, 1000, 2);     // even again
}

TEST(SlowStart, AServerThatAnswersBeforeItsBackoffEndsRampsFromThen) {
    Pool pool(slow_start_spec(Balance::round_robin));
    pool.mark_failed(0, 0);              // back at 1000
    EXPECT_EQ(pool.pick(500, 0b10), 0);  // the only untried server, down: tried anyway
    pool.mark_ok(0);                     // it answered at 500
    EXPECT_EQ(pool.effective_weight(0, 500), 10u);
    EXPECT_EQ(pool.effective_weight(0, 5500), 50u);
    EXPECT_EQ(pool.effective_weight(0, 10'500), 100u);
}

TEST(SlowStart, LeastOutstandingWeighsTheRamp) {
    Pool pool(slow_start_spec(Balance::least_outstanding));
    pool.state(0).outstanding = 1;
    pool.state(1).outstanding = 3;
    pool.mark_failed(0, 0);
    EXPECT_EQ(pool.pick(1000, 0), 1);    // 1 per 10 against 3 per 100
    EXPECT_EQ(pool.pick(11'000, 0), 0);  // 1 against 3, both full weight
}

TEST(SlowStart, RandomTwoWeighsTheRamp) {
    Pool pool(slow_start_spec(Balance::random_two));
    pool.state(0).outstanding = 1;
    pool.state(1).outstanding = 3;
    pool.mark_failed(0, 0);
    EXPECT_EQ(tally(pool, 50, 1000)[1], 50);    // (1 + 1) per 10 against (3 + 1) per 100
    EXPECT_EQ(tally(pool, 50, 11'000)[0], 50);  // 2 against 4
}

TEST(SlowStart, HashingIgnoresIt) {
    PoolSpec spec = slow_start_spec(Balance::source_hash);
    spec.servers = spec_of({1, 1, 1}, Balance::source_hash).servers;
    Pool pool(spec);
    std::vector<int> before;
    for (int i = 0; i < 300; ++i) before.push_back(pool.pick(0, 0, client(i)));
    pool.mark_failed(0, 0);
    // Back at 1000 and ramping: its clients are all its own again at once.
    for (int i = 0; i < 300; ++i) {
        ASSERT_EQ(pool.pick(1000, 0, client(i)), before[static_cast<std::size_t>(i)]);
    }
}

}  // namespace
}  // namespace c10k::proxy
