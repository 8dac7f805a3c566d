// The experiments beside the matrix, on canned results: the ramp's rates, goodput curves, the
// new claims' verdicts on both sides of their thresholds, "not measured" without data, and
// results.json keeping the experiments' fields.

#include <gtest/gtest.h>

#include "compare/claims.hpp"
#include "compare/experiments.hpp"

namespace c10k::compare {
namespace {

ServerSpec variant(const std::string& name, const std::string& v) {
    return {name, ServerKind::engine, architecture_of(name, ServerKind::engine), v, {}};
}

Claim claim(const std::vector<Claim>& claims, const std::string& id) {
    for (const auto& c : claims) {
        if (c.id == id) return c;
    }
    ADD_FAILURE() << "no claim " << id;
    return {};
}

/// Overload cells of epoll and epoll (overload 20ms): goodput per factor given per variant.
Results ramp(const std::vector<double>& without, const std::vector<double>& with) {
    Results results;
    results.plan.experiment = Experiment::overload;
    const std::vector<double> factors{0.5, 1, 2};
    for (int v = 0; v < 2; ++v) {
        const auto& goodput = v == 0 ? without : with;
        for (std::size_t i = 0; i < factors.size(); ++i) {
            CellResult r;
            r.cell = {variant("epoll", v == 0 ? "" : "overload 20ms"),
                      0,
                      200,
                      LoadMode::open_loop,
                      Experiment::overload,
                      "ramp",
                      1000 * factors[i],
                      factors[i]};
            r.held = true;
            r.good_rps = goodput[i];
            r.ok_p99_us = 5000;
            results.cells.push_back(r);
        }
    }
    return results;
}

TEST(Ramp, RatesAreCapacityTimesFactorsAndEmptyWithoutCapacity) {
    EXPECT_EQ(ramp_rates(1000, {0.5, 1, 1.5, 2, 3}),
              (std::vector<double>{500, 1000, 1500, 2000, 3000}));
    EXPECT_EQ(ramp_rates(333, {1.5}), (std::vector<double>{500}));  // rounded to whole req/s
    EXPECT_TRUE(ramp_rates(0, {1, 2}).empty());
}

TEST(Ramp, CurveIsOrderedByFactorWithPeakAndPoints) {
    Results results = ramp({500, 1000, 300}, {500, 990, 950});
    auto curve = goodput_curve(results, "epoll (overload 20ms)");
    ASSERT_EQ(curve.size(), 3u);
    EXPECT_EQ(curve[0].load_factor, 0.5);
    EXPECT_EQ(peak_goodput(curve), 990);
    ASSERT_TRUE(point_at(curve, 2).has_value());
    EXPECT_EQ(point_at(curve, 2)->good_rps, 950);
    EXPECT_FALSE(point_at(curve, 3).has_value());
    EXPECT_EQ(peak_goodput({}), 0);
}

TEST(DropEarlyClaim, ReproducedWhenControlKeepsGoodputAndNoControlCollapses) {
    Claim c = drop_early_goodput(ramp({500, 1000, 300}, {500, 990, 950}));
    EXPECT_EQ(c.verdict, Verdict::reproduced) << c.reason;
    EXPECT_FALSE(c.evidence.empty());
}

TEST(DropEarlyClaim, CaveatWhenNothingCollapsedWithoutControl) {
    EXPECT_EQ(drop_early_goodput(ramp({500, 1000, 980}, {500, 990, 950})).verdict,
              Verdict::reproduced_with_caveat);
}

TEST(DropEarlyClaim, NotReproducedBelowNinetyPercentAndNotMeasuredWithoutData) {
    // 880 / 990 = 0.89: just below the 90% threshold.
    EXPECT_EQ(drop_early_goodput(ramp({500, 1000, 300}, {500, 990, 880})).verdict,
              Verdict::not_reproduced);
    Claim none = drop_early_goodput(Results{});
    EXPECT_EQ(none.verdict, Verdict::not_measured);
    EXPECT_NE(none.reason.find("--experiment overload"), std::string::npos);
}

TEST(DropEarlyClaim, AControlledVariantWithNoGoodputAtAllIsJudgedNotLeftOut) {
    // Nothing good at any step (a backlog in the load generator, say): a collapse, 0% of peak.
    Claim c = drop_early_goodput(ramp({500, 1000, 300}, {0, 0, 0}));
    EXPECT_EQ(c.verdict, Verdict::not_reproduced) << c.reason;
    EXPECT_FALSE(c.evidence.empty());
}

TEST(ExperimentClaims, EachExperimentNamesTheClaimItJudges) {
    // The text report always shows this claim for its experiment, whatever the verdict.
    EXPECT_EQ(experiment_claim_id(Experiment::overload), drop_early_goodput(Results{}).id);
    EXPECT_EQ(experiment_claim_id(Experiment::disk), helpers_keep_cached_fast(Results{}).id);
    EXPECT_EQ(experiment_claim_id(Experiment::caching),
              caching_matters_at_low_concurrency(Results{}).id);
    EXPECT_EQ(experiment_claim_id(Experiment::matrix), "");
}

Results disk(double idle, double busy_with, double busy_without) {
    Results results;
    results.plan.experiment = Experiment::disk;
    auto add = [&](const std::string& v, const std::string& phase, double p99) {
        CellResult r;
        r.cell = {variant("epoll", v), 128, 20, LoadMode::open_loop, Experiment::disk, phase, 500};
        r.held = true;
        r.p99_us = p99;
        results.cells.push_back(r);
    };
    add("", "idle", idle);
    add("", "busy", busy_with);
    add("no helpers", "idle", idle);
    add("no helpers", "busy", busy_without);
    return results;
}

TEST(HelpersClaim, VerdictsOnBothSidesOfTheRatio) {
    EXPECT_EQ(helpers_keep_cached_fast(disk(1000, 1200, 50000)).verdict, Verdict::reproduced);
    // Helpers help (50 ms vs 10 ms) but the cached p99 still rose 10x over idle.
    EXPECT_EQ(helpers_keep_cached_fast(disk(1000, 10000, 50000)).verdict,
              Verdict::reproduced_with_caveat);
    // 1.4x: below the 1.5x threshold.
    EXPECT_EQ(helpers_keep_cached_fast(disk(1000, 1000, 1400)).verdict, Verdict::not_reproduced);
    EXPECT_EQ(helpers_keep_cached_fast(Results{}).verdict, Verdict::not_measured);
}

Results caching(double on_low, double off_low, double on_high, double off_high) {
    Results results;
    results.plan.experiment = Experiment::caching;
    auto add = [&](const std::string& v, std::uint32_t n, double cpu) {
        CellResult r;
        r.cell = {variant("epoll", v), 128,       n,   LoadMode::open_loop,
                  Experiment::caching, "caching", 2000};
        r.held = true;
        r.cpu_us_per_request = cpu;
        results.cells.push_back(r);
    };
    add("", 100, on_low);
    add("", 10000, on_high);
    add("no cache, no sendfile", 100, off_low);
    add("no cache, no sendfile", 10000, off_high);
    return results;
}

TEST(CachingClaim, LowConcurrencyBenefitAgainstHigh) {
    // 2x at low, 1.1x at high.
    EXPECT_EQ(caching_matters_at_low_concurrency(caching(10, 20, 20, 22)).verdict,
              Verdict::reproduced);
    // The same benefit at both.
    EXPECT_EQ(caching_matters_at_low_concurrency(caching(10, 15, 20, 30)).verdict,
              Verdict::not_reproduced);
    // More at low (1.15x vs 0.9x) but below 1.2x there too.
    EXPECT_EQ(caching_matters_at_low_concurrency(caching(10, 11.5, 20, 18)).verdict,
              Verdict::reproduced_with_caveat);
    EXPECT_EQ(caching_matters_at_low_concurrency(Results{}).verdict, Verdict::not_measured);
}

TEST(ExperimentResults, JsonKeepsTheExperimentFields) {
    Results results = ramp({500, 1000, 300}, {500, 990, 950});
    results.plan.settings.load_factors = {0.5, 1, 2};
    Results back = parse_results_json(format_results_json(results));
    EXPECT_EQ(back.plan.experiment, Experiment::overload);
    EXPECT_EQ(back.plan.settings.load_factors, (std::vector<double>{0.5, 1, 2}));
    ASSERT_EQ(back.cells.size(), results.cells.size());
    EXPECT_EQ(back.cells[4].cell.server.label(), "epoll (overload 20ms)");
    EXPECT_EQ(back.cells[4].cell.phase, "ramp");
    EXPECT_EQ(back.cells[4].good_rps, 990);
    EXPECT_EQ(drop_early_goodput(back).verdict, Verdict::reproduced);
    EXPECT_THROW(parse_experiment("latency"), std::invalid_argument);
}

TEST(MatrixPlan, StagedIsMeasuredWithItsOwnArchitecture) {
    EXPECT_EQ(architecture_of("staged", ServerKind::engine), "staged");
    PlanOptions options;
    options.quick = true;
    options.anchors = {"none"};
    Plan plan = make_plan(options, {"epoll", "poll", "staged"}, {"epoll", "poll", "staged"},
                          nullptr);
    ASSERT_EQ(plan.servers.size(), 3u);
    EXPECT_EQ(plan.servers[2].name, "staged");
    EXPECT_FALSE(plan.cells().empty());
}

TEST(ExperimentPlan, VariantsPerExperimentAndAnchorsAsNotes) {
    auto installed = [](const std::string&) { return true; };
    PlanOptions options;
    options.experiment = Experiment::overload;
    Plan overload = make_plan(options, {"epoll", "staged"}, {"epoll", "staged"}, installed);
    ASSERT_EQ(overload.servers.size(), 6u);
    EXPECT_EQ(overload.servers[1].label(), "epoll (overload 20ms)");
    // The anchors burn the cost in their scripting modules; lighttpd has none configured.
    EXPECT_EQ(overload.servers[4].label(), "nginx (perl)");
    EXPECT_EQ(overload.servers[5].label(), "h2o (mruby)");
    EXPECT_TRUE(overload.cells().empty());  // decided while running
    ASSERT_EQ(overload.notes.size(), 1u);
    EXPECT_NE(overload.notes[0].find("lighttpd"), std::string::npos);
    options.experiment = Experiment::disk;
    Plan disk = make_plan(options, {"epoll"}, {"epoll"}, installed);
    ASSERT_EQ(disk.servers.size(), 4u);
    EXPECT_EQ(disk.servers[3].label(), "nginx (aio threads)");
    options.experiment = Experiment::caching;
    options.anchors = {"none"};
    Plan caching = make_plan(options, {"epoll"}, {"epoll"}, installed);
    EXPECT_EQ(caching.servers.size(), 4u);
    EXPECT_EQ(caching.connections, (std::vector<std::uint32_t>{100, 10000}));
}

}  // namespace
}  // namespace c10k::compare
