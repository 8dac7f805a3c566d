// The plan (defaults, --quick, unknown names, anchors missing), judging a cell from a bench
// report, and results.json read back as written (and as committed under docs/results/).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compare/json.hpp"
#include "compare/matrix.hpp"
#include "compare/results.hpp"
#include "compare/runner.hpp"

namespace c10k::compare {
namespace {

const std::vector<std::string> kKnown{"epoll", "epoll-lt", "poll", "select", "thread", "uring"};
const std::vector<std::string> kAvailable{"epoll", "epoll-lt", "poll", "select", "thread"};

bool none_installed(const std::string&) { return false; }
bool all_installed(const std::string&) { return true; }

TEST(Plan, DefaultIsEveryAvailableEngineAndTheSlideGrid) {
    Plan plan = make_plan({}, kAvailable, kKnown, &all_installed);
    EXPECT_EQ(plan.servers.size(), kAvailable.size() + 3);
    EXPECT_EQ(plan.connections, kDefaultConnections);
    EXPECT_EQ(plan.sizes, kDefaultSizes);
    EXPECT_EQ(plan.rate, 2000);
    // Per size and server: the open-loop cells, then one maximum-throughput cell.
    EXPECT_EQ(plan.cells().size(), 2 * (kAvailable.size() + 3) * (5 + 1));
    EXPECT_EQ(plan.cells()[5].mode, LoadMode::max_throughput);
    EXPECT_LT(plan.estimated_seconds(), 45 * 60);
}

TEST(Plan, QuickIsSmallAndFitsFiveMinutes) {
    PlanOptions options;
    options.quick = true;
    Plan plan = make_plan(options, kAvailable, kKnown, &all_installed);
    std::vector<std::string> names;
    for (const auto& s : plan.servers) names.push_back(s.name);
    EXPECT_EQ(names, (std::vector<std::string>{"epoll", "poll", "select", "thread", "nginx",
                                               "h2o", "lighttpd"}));
    EXPECT_EQ(plan.connections, (std::vector<std::uint32_t>{100, 1000}));
    EXPECT_EQ(plan.sizes, (std::vector<std::uint64_t>{128}));
    EXPECT_LT(plan.estimated_seconds(), 5 * 60);
}

TEST(Plan, MissingAnchorsAndUnavailableEnginesBecomeNotes) {
    PlanOptions options;
    options.engines = {"epoll", "uring"};
    Plan plan = make_plan(options, kAvailable, kKnown, &none_installed);
    ASSERT_EQ(plan.servers.size(), 1u);
    EXPECT_EQ(plan.servers[0].name, "epoll");
    ASSERT_EQ(plan.notes.size(), 4u);
    EXPECT_NE(plan.notes[0].find("uring"), std::string::npos);
    EXPECT_NE(plan.notes[1].find("nginx skipped: not installed"), std::string::npos);
}

TEST(Plan, RejectsUnknownNamesAndBadLists) {
    PlanOptions options;
    options.engines = {"kqueue"};
    EXPECT_THROW(make_plan(options, kAvailable, kKnown, &all_installed), std::invalid_argument);
    options.engines = {};
    options.anchors = {"apache"};
    EXPECT_THROW(make_plan(options, kAvailable, kKnown, &all_installed), std::invalid_argument);
    EXPECT_THROW(parse_number_list("--sizes", "128,abc"), std::invalid_argument);
    EXPECT_THROW(parse_number_list("--sizes", "0"), std::invalid_argument);
    EXPECT_EQ(parse_number_list("--connections", "1000, 100,1000"),
              (std::vector<std::uint64_t>{100, 1000}));
}

TEST(Plan, ArchitecturesGroupTheEngines) {
    EXPECT_EQ(architecture_of("epoll", ServerKind::engine), "event-driven");
    EXPECT_EQ(architecture_of("select", ServerKind::engine), "polling");
    EXPECT_EQ(architecture_of("thread", ServerKind::engine), "thread per connection");
    EXPECT_EQ(architecture_of("prefork", ServerKind::engine), "process per connection");
    EXPECT_EQ(architecture_of("nginx", ServerKind::anchor), "event-driven");
}

std::string bench_report(int open, int failed, int ok, int refused, int status503) {
    return "{\"schema\": \"c10k-bench/1\", \"requests\": " + std::to_string(ok + status503) +
           ", \"rps\": 2000.0, \"duration_s\": 8.0, \"connections\": {\"open\": " +
           std::to_string(open) + ", \"failed\": " + std::to_string(failed) +
           "}, \"errors\": {\"total\": " + std::to_string(refused) +
           ", \"by_kind\": {\"connect_refused\": " + std::to_string(refused) +
           ", \"reset\": 0}}, \"status\": {\"200\": " + std::to_string(ok) +
           (status503 ? ", \"503\": " + std::to_string(status503) : std::string()) +
           "}, \"latency_us\": {\"corrected\": {\"p50\": 100, \"p99\": 900, \"p999\": 2000}}, "
           "\"server\": {\"cpu_s\": 0.32, \"rss_kb\": 30000, \"rss_kb_before\": 10000, "
           "\"rss_bytes_per_conn\": 2048.0, \"processes\": 1}, \"warnings\": []}";
}

TEST(JudgeCell, HeldWhenAllConnectionsOpenAndNoErrors) {
    Cell cell{{"epoll", ServerKind::engine, "event-driven"}, 128, 1000, LoadMode::open_loop};
    CellResult r = cell_from_bench_json(cell, bench_report(1000, 0, 16000, 0, 0));
    judge_cell(r, "");
    EXPECT_TRUE(r.held);
    EXPECT_EQ(r.requests, 16000u);
    EXPECT_DOUBLE_EQ(r.cpu_us_per_request, 20.0);
    EXPECT_DOUBLE_EQ(r.p99_us, 900);
    EXPECT_DOUBLE_EQ(r.rss_bytes_per_connection, 2048);
    EXPECT_NEAR(r.cpu_utilisation(), 0.04, 1e-9);
}

TEST(JudgeCell, SelectAboveFdSetSizeFailsWithTheReason) {
    Cell cell{{"select", ServerKind::engine, "polling"}, 128, 5000, LoadMode::open_loop};
    CellResult r = cell_from_bench_json(cell, bench_report(1010, 0, 3000, 9000, 0));
    judge_cell(r, "");
    EXPECT_FALSE(r.held);
    EXPECT_EQ(r.failure.rfind("descriptors above FD_SETSIZE refused", 0), 0u) << r.failure;
    EXPECT_NE(r.failure.find("only 1010 of 5000 connections"), std::string::npos);
}

TEST(JudgeCell, CapAnswersCountAsErrorsAndServerDeathFails) {
    Cell cell{{"thread", ServerKind::engine, "thread per connection"}, 128, 1000,
              LoadMode::open_loop};
    CellResult r = cell_from_bench_json(cell, bench_report(1000, 0, 8000, 0, 8000));
    judge_cell(r, "");
    EXPECT_FALSE(r.held);
    EXPECT_EQ(r.requests, 8000u);  // the 503s are not served requests
    EXPECT_NE(r.failure.find("status 503 8000"), std::string::npos) << r.failure;

    CellResult dead = cell_from_bench_json(cell, bench_report(1000, 0, 16000, 0, 0));
    judge_cell(dead, "killed by Aborted");
    EXPECT_FALSE(dead.held);
    EXPECT_NE(dead.failure.find("server exited during the run (killed by Aborted)"),
              std::string::npos);
}

TEST(JudgeCell, AFewErrorsAreAWarningNotAFailure) {
    Cell cell{{"epoll", ServerKind::engine, "event-driven"}, 128, 1000, LoadMode::open_loop};
    CellResult r = cell_from_bench_json(cell, bench_report(1000, 0, 16000, 3, 0));
    judge_cell(r, "");
    EXPECT_TRUE(r.held);
    ASSERT_FALSE(r.warnings.empty());
    EXPECT_NE(r.warnings.back().find("3 errors"), std::string::npos);
}

TEST(ResultsJson, ReadsBackWhatItWrites) {
    Results results;
    results.info.machine = "box \"quoted\"";
    results.info.commit = "abc";
    results.plan.servers = {{"epoll", ServerKind::engine, "event-driven"}};
    results.plan.connections = {100};
    results.plan.sizes = {128};
    Cell cell{results.plan.servers[0], 128, 100, LoadMode::open_loop};
    CellResult r = cell_from_bench_json(cell, bench_report(100, 0, 16000, 0, 0));
    judge_cell(r, "");
    r.warnings.push_back("line\nbreak");
    results.cells.push_back(r);
    CellResult failed;
    failed.cell = {results.plan.servers[0], 128, 50, LoadMode::max_throughput};
    failed.failure = "server did not answer";
    results.cells.push_back(failed);

    Results back = parse_results_json(format_results_json(results));
    EXPECT_EQ(back.info.machine, "box \"quoted\"");
    ASSERT_EQ(back.cells.size(), 2u);
    EXPECT_TRUE(back.cells[0].held);
    EXPECT_EQ(back.cells[0].requests, 16000u);
    EXPECT_NEAR(back.cells[0].cpu_us_per_request, 20.0, 1e-3);
    EXPECT_EQ(back.cells[0].warnings.back(), "line\nbreak");
    EXPECT_EQ(back.cells[1].cell.mode, LoadMode::max_throughput);
    EXPECT_FALSE(back.cells[1].held);
    EXPECT_EQ(back.cells[1].failure, "server did not answer");
    EXPECT_NE(format_results_csv(back).find(",server did not answer\n"), std::string::npos);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(ResultsJson, WritesTheCommittedLayoutOfFigures) {
    Results results;
    results.plan.servers = {{"epoll", ServerKind::engine, "event-driven"}};
    CellResult r;
    r.cell = {results.plan.servers[0], 128, 100, LoadMode::open_loop};
    r.rps = 1999.96;
    r.p99_us = 395.6;
    r.rss_kb = 4836.4;
    r.warnings = {std::string("bad byte \xff in a log tail")};
    results.cells.push_back(r);
    std::string text = format_results_json(results);
    // "key": value with one space, as the compare smoke test and people with grep read it.
    EXPECT_NE(text.find("\"schema\": \"c10k-compare/1\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"rps\": 2000.0"), std::string::npos) << text;
    EXPECT_NE(text.find("\"p99\": 396,"), std::string::npos) << text;
    EXPECT_NE(text.find("\"rss_kb\": 4836,"), std::string::npos) << text;
    EXPECT_NE(text.find("\"rate\": 2000,"), std::string::npos) << text;
    // Members in the order written, not sorted: the cell begins with what it measured.
    EXPECT_LT(text.find("\"server\""), text.find("\"architecture\""));
    // A byte that is not UTF-8 becomes U+FFFD instead of failing the whole report.
    EXPECT_NE(text.find("bad byte \xef\xbf\xbd in"), std::string::npos) << text;
    EXPECT_EQ(parse_results_json(text).cells.at(0).p99_us, 396);
}

TEST(ResultsJson, LoadsTheCommittedResults) {
    for (const char* name :
         {"/docs/results/results.json", "/docs/results/overload/results.json",
          "/docs/results/disk/results.json", "/docs/results/caching/results.json"}) {
        SCOPED_TRACE(name);
        std::string text = slurp(std::string(C10K_SOURCE_DIR) + name);
        ASSERT_FALSE(text.empty());
        Results results = parse_results_json(text);
        EXPECT_EQ(results.info.cpus, 2u);
        EXPECT_TRUE(results.info.pinned);
        EXPECT_FALSE(results.info.commit.empty());
        EXPECT_FALSE(results.plan.connections.empty());
        EXPECT_FALSE(results.plan.sizes.empty());
        EXPECT_FALSE(results.plan.servers.empty());
        ASSERT_FALSE(results.cells.empty());
        std::size_t held = 0;
        for (const auto& cell : results.cells) {
            EXPECT_FALSE(cell.cell.server.name.empty());
            EXPECT_GT(cell.cell.connections, 0u);
            if (cell.held) {
                ++held;
                EXPECT_GT(cell.requests, 0u) << cell.cell.server.name;
                EXPECT_GT(cell.p99_us, 0) << cell.cell.server.name;
            } else {
                EXPECT_FALSE(cell.failure.empty()) << cell.cell.server.name;
            }
        }
        EXPECT_GT(held, 0u);
        // Written again and read back, the committed results keep every cell and figure.
        Results again = parse_results_json(format_results_json(results));
        ASSERT_EQ(again.cells.size(), results.cells.size());
        for (std::size_t i = 0; i < results.cells.size(); ++i) {
            EXPECT_EQ(again.cells[i].requests, results.cells[i].requests);
            EXPECT_EQ(again.cells[i].p99_us, results.cells[i].p99_us);
            EXPECT_EQ(again.cells[i].cpu_us_per_request, results.cells[i].cpu_us_per_request);
            EXPECT_EQ(again.cells[i].failure, results.cells[i].failure);
            EXPECT_EQ(again.cells[i].status, results.cells[i].status);
        }
    }
}

TEST(ResultsJson, BadFilesSayWhatIsWrong) {
    auto message_of = [](const std::string& text) {
        try {
            parse_results_json(text);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message_of("{\"cells\": [").find("JSON: "), std::string::npos);
    EXPECT_NE(message_of(R"({"schema": "c10k-bench/1"})").find("expected \"c10k-compare/1\""),
              std::string::npos);
    EXPECT_NE(message_of(R"({"cells": [{"requests": "many"}]})")
                  .find("\"requests\" is a string, expected a number"),
              std::string::npos)
        << message_of(R"({"cells": [{"requests": "many"}]})");
    // What is missing reads as its default: an older file without a figure still loads.
    Results sparse = parse_results_json(R"({"cells": [{"server": "epoll"}], "server": null})");
    ASSERT_EQ(sparse.cells.size(), 1u);
    EXPECT_EQ(sparse.cells[0].requests, 0u);
    EXPECT_EQ(sparse.plan.max_throughput_connections, 50u);
}

TEST(BenchReport, AServerOfNullReadsAsNotMeasured) {
    Cell cell{{"epoll", ServerKind::engine, "event-driven"}, 128, 10, LoadMode::open_loop};
    CellResult r = cell_from_bench_json(
        cell, R"({"schema": "c10k-bench/1", "requests": 50, "server": null, "warnings": ["w"]})");
    EXPECT_EQ(r.requests, 50u);
    EXPECT_EQ(r.cpu_s, 0);
    EXPECT_EQ(r.warnings, std::vector<std::string>{"w"});
    EXPECT_THROW(cell_from_bench_json(cell, R"({"schema": "c10k-compare/1"})"), std::runtime_error);
}

}  // namespace
}  // namespace c10k::compare
