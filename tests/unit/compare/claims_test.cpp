// Verdicts of the claims computed from canned results: each threshold on both sides.

#include <gtest/gtest.h>

#include "compare/claims.hpp"

namespace c10k::compare {
namespace {

ServerSpec engine(const std::string& name) {
    return {name, ServerKind::engine, architecture_of(name, ServerKind::engine)};
}

/// A result set over `servers` with every cell held at 10 us, p99 1 ms, 1% of a core.
Results grid(const std::vector<ServerSpec>& servers, std::vector<std::uint32_t> connections) {
    Results results;
    results.plan.servers = servers;
    results.plan.connections = std::move(connections);
    results.plan.sizes = {128};
    results.plan.rate = 2000;
    for (const auto& server : servers) {
        for (auto n : results.plan.connections) {
            CellResult r;
            r.cell = {server, 128, n, LoadMode::open_loop};
            r.held = true;
            r.requests = 16000;
            r.duration_s = 8;
            r.cpu_us_per_request = 10;
            r.cpu_s = 0.16;
            r.p99_us = 1000;
            results.cells.push_back(r);
        }
    }
    return results;
}

CellResult& cell(Results& results, const std::string& server, std::uint32_t n) {
    for (auto& r : results.cells) {
        if (r.cell.server.name == server && r.cell.connections == n) return r;
    }
    throw std::logic_error("no such cell");
}

Claim claim(const std::vector<Claim>& claims, const std::string& id) {
    for (const auto& c : claims) {
        if (c.id == id) return c;
    }
    throw std::logic_error("no such claim " + id);
}

TEST(Claims, PollingSlowNeedsTheRatioAtTheHighestCount) {
    Results results = grid({engine("epoll"), engine("poll")}, {100, 10000});
    cell(results, "poll", 10000).cpu_us_per_request = 10 * kSlowerRatio + 1;
    cell(results, "poll", 100).cpu_us_per_request = 10 * kSameRatio + 1;
    EXPECT_EQ(claim(evaluate_claims(results), "polling-slow").verdict, Verdict::reproduced);

    // Cheap at 100 connections: slow only where it matters.
    cell(results, "poll", 100).cpu_us_per_request = 10;
    EXPECT_EQ(claim(evaluate_claims(results), "polling-slow").verdict,
              Verdict::reproduced_with_caveat);

    cell(results, "poll", 10000).cpu_us_per_request = 10 * kSlowerRatio - 1;
    EXPECT_EQ(claim(evaluate_claims(results), "polling-slow").verdict, Verdict::not_reproduced);
}

TEST(Claims, PollingSlowIsNotMeasuredWithoutAPollingEngine) {
    Results results = grid({engine("epoll")}, {100, 10000});
    Claim c = claim(evaluate_claims(results), "polling-slow");
    EXPECT_EQ(c.verdict, Verdict::not_measured);
    EXPECT_FALSE(c.reason.empty());
}

TEST(Claims, PerConnectionSlowCountsFailuresAndLatency) {
    Results results = grid({engine("epoll"), engine("thread"), engine("fork")}, {100, 10000});
    EXPECT_EQ(claim(evaluate_claims(results), "per-connection-slow").verdict,
              Verdict::not_reproduced);

    cell(results, "fork", 10000).held = false;
    cell(results, "fork", 10000).failure = "server exited";
    EXPECT_EQ(claim(evaluate_claims(results), "per-connection-slow").verdict,
              Verdict::reproduced_with_caveat);

    cell(results, "thread", 10000).p99_us = 1000 * kLatencyRatio;
    Claim c = claim(evaluate_claims(results), "per-connection-slow");
    EXPECT_EQ(c.verdict, Verdict::reproduced);
    // The failure reason is part of the evidence, not dropped.
    bool mentions = false;
    for (const auto& line : c.evidence) mentions = mentions || line.find("server exited") != std::string::npos;
    EXPECT_TRUE(mentions);
}

TEST(Claims, EventDrivenWinsComparesTheCheapestOfEachArchitecture) {
    Results results = grid({engine("epoll"), engine("uring"), engine("poll"), engine("thread")},
                           {100, 15000});
    cell(results, "epoll", 15000).cpu_us_per_request = 20;
    cell(results, "uring", 15000).cpu_us_per_request = 8;
    cell(results, "poll", 15000).cpu_us_per_request = 30;
    cell(results, "thread", 15000).cpu_us_per_request = 8 * kSameRatio + 0.5;
    EXPECT_EQ(claim(evaluate_claims(results), "event-driven-wins").verdict, Verdict::reproduced);

    cell(results, "thread", 15000).cpu_us_per_request = 9;
    EXPECT_EQ(claim(evaluate_claims(results), "event-driven-wins").verdict,
              Verdict::reproduced_with_caveat);

    cell(results, "thread", 15000).cpu_us_per_request = 5;
    EXPECT_EQ(claim(evaluate_claims(results), "event-driven-wins").verdict,
              Verdict::not_reproduced);
}

TEST(Claims, ProcessPerConnectionCpuIsALowerBoundAndNotCompared) {
    Results results = grid({engine("epoll"), engine("poll"), engine("fork")}, {100, 10000});
    cell(results, "poll", 10000).cpu_us_per_request = 30;
    cell(results, "fork", 10000).cpu_us_per_request = 1;  // truncated ticks, not a real cost
    Claim c = claim(evaluate_claims(results), "event-driven-wins");
    EXPECT_EQ(c.verdict, Verdict::reproduced) << c.reason;
    bool marked = false;
    for (const auto& line : c.evidence) marked = marked || line.find("(lower bound)") != std::string::npos;
    EXPECT_TRUE(marked);
}

TEST(Claims, SelectIsCappedWhenItFailsOnlyAboveFdSetSize) {
    Results results = grid({engine("select")}, {100, 1000, 5000});
    EXPECT_EQ(claim(evaluate_claims(results), "select-fd-setsize").verdict,
              Verdict::not_reproduced);
    cell(results, "select", 5000).held = false;
    EXPECT_EQ(claim(evaluate_claims(results), "select-fd-setsize").verdict, Verdict::reproduced);
    cell(results, "select", 100).held = false;
    EXPECT_EQ(claim(evaluate_claims(results), "select-fd-setsize").verdict,
              Verdict::reproduced_with_caveat);
}

TEST(Claims, KoshienIdleUsesTheCountNearTwelveThousand) {
    Results results = grid({engine("epoll"), engine("sigio")}, {100, 10000, 15000});
    // 0.16 s of CPU in 8 s: 2% of a core, 98% idle.
    EXPECT_EQ(claim(evaluate_claims(results), "koshien-idle").verdict, Verdict::reproduced);
    cell(results, "sigio", 15000).cpu_s = 8 * (1 - kKoshienIdle) + 0.1;
    EXPECT_EQ(claim(evaluate_claims(results), "koshien-idle").verdict,
              Verdict::reproduced_with_caveat);
    cell(results, "epoll", 15000).held = false;
    EXPECT_EQ(claim(evaluate_claims(results), "koshien-idle").verdict, Verdict::not_reproduced);

    Results small = grid({engine("epoll")}, {100, 1000});
    EXPECT_EQ(claim(evaluate_claims(small), "koshien-idle").verdict, Verdict::not_measured);
}

TEST(Claims, LowConcurrencyComparesImplementationWithArchitectureSpread) {
    Results results = grid({engine("epoll"), engine("poll"),
                            {"nginx", ServerKind::anchor, "event-driven"}},
                           {100, 1000});
    cell(results, "poll", 100).cpu_us_per_request = 12;   // architecture spread 1.2x
    cell(results, "nginx", 100).cpu_us_per_request = 15;  // implementation spread 1.5x
    EXPECT_EQ(claim(evaluate_claims(results), "low-concurrency-implementation").verdict,
              Verdict::reproduced_with_caveat);
    cell(results, "poll", 100).cpu_us_per_request = 40;   // architecture spread 4x
    EXPECT_EQ(claim(evaluate_claims(results), "low-concurrency-implementation").verdict,
              Verdict::not_reproduced);
}

TEST(Claims, VerdictNamesAreTheReportWords) {
    EXPECT_EQ(verdict_name(Verdict::reproduced), "reproduced");
    EXPECT_EQ(verdict_name(Verdict::reproduced_with_caveat), "reproduced with a caveat");
    EXPECT_EQ(verdict_name(Verdict::not_reproduced), "not reproduced");
}

}  // namespace
}  // namespace c10k::compare
