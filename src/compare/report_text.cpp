// summary.txt and the writing of the whole report folder.

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/core.h>

#include "compare/report.hpp"

namespace c10k::compare {

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string cell_text(const CellResult* r) {
    if (r == nullptr) return "-";
    if (!r->held) return "FAIL";
    return fmt::format("{:.1f}/{:.1f}", r->cpu_us_per_request, r->p99_us / 1000.0);
}

}  // namespace

std::string format_summary(const Results& results, const std::vector<Claim>& claims) {
    const auto& plan = results.plan;
    if (plan.experiment != Experiment::matrix) {
        std::string out = fmt::format(
            "c10k compare --experiment {}: {} server variants (warm-up {} ms, measured {} ms per "
            "cell){}\n",
            experiment_name(plan.experiment), plan.servers.size(), plan.warmup_ms,
            plan.duration_ms, plan.quick ? ", --quick" : "");
        out += fmt::format("machine: {}\nkernel:  {}\ncommit:  {}\nstarted: {} ({:.0f} s)\n",
                           results.info.machine, results.info.kernel, results.info.commit,
                           results.info.started, results.info.wall_s);
        for (const auto& note : plan.notes) out += "note: " + note + "\n";
        out += experiment_summary(results);
        out += "\nclaims:\n";
        for (const auto& claim : claims) {
            // Another experiment's claim with stray evidence is left out; this experiment's
            // own claim is always shown, whatever its verdict.
            if (claim.verdict == Verdict::not_measured && !claim.evidence.empty() &&
                claim.id != experiment_claim_id(plan.experiment)) {
                continue;
            }
            out += fmt::format("  [{}] {}\n    {}\n", verdict_name(claim.verdict),
                               claim.statement, claim.reason);
        }
        return out;
    }
    std::string out = fmt::format(
        "c10k compare: {} servers x {} sizes x {} connection counts at {:g} req/s open loop "
        "(warm-up {} ms, measured {} ms per cell){}\n",
        plan.servers.size(), plan.sizes.size(), plan.connections.size(), plan.rate,
        plan.warmup_ms, plan.duration_ms, plan.quick ? ", --quick" : "");
    out += fmt::format("machine: {}\nkernel:  {}\ncommit:  {}\nstarted: {} ({:.0f} s){}\n",
                       results.info.machine, results.info.kernel, results.info.commit,
                       results.info.started, results.info.wall_s,
                       results.info.pinned ? "; server on CPU 0, load generator on CPU 1" : "");
    for (const auto& note : plan.notes) out += "note: " + note + "\n";
    for (auto size : plan.sizes) {
        out += fmt::format("\n{}-byte responses: server CPU us per request / p99 ms "
                           "(FAIL: see below)\n",
                           size);
        out += fmt::format("{:<10}", "server");
        for (auto n : plan.connections) out += fmt::format(" {:>14}", fmt::format("{} conns", n));
        if (plan.max_throughput) out += fmt::format(" {:>12}", "max req/s");
        out += "\n";
        for (const auto& server : plan.servers) {
            out += fmt::format("{:<10}", server.name);
            for (auto n : plan.connections) {
                out += fmt::format(" {:>14}", cell_text(results.find(server.name, size, n)));
            }
            if (plan.max_throughput) {
                const CellResult* m = results.find_max(server.name, size);
                out += fmt::format(" {:>12}", m == nullptr ? "-"
                                              : m->held    ? fmt::format("{:.0f}", m->rps)
                                                           : "FAIL");
            }
            out += "\n";
        }
    }
    bool any_failed = false;
    for (const auto& r : results.cells) {
        if (r.held) continue;
        if (!any_failed) out += "\nfailed cells:\n";
        any_failed = true;
        out += fmt::format("  {} {} B {}: {}\n", r.cell.server.name, r.cell.size,
                           r.cell.mode == LoadMode::open_loop
                               ? fmt::format("x {} conns", r.cell.connections)
                               : std::string("max throughput"),
                           r.failure);
    }
    out += "\nclaims:\n";
    for (const auto& claim : claims) {
        out += fmt::format("  [{}] {}\n    {}\n", verdict_name(claim.verdict), claim.statement,
                           claim.reason);
    }
    return out;
}

std::string write_report(const std::string& dir, const Results& results) {
    std::filesystem::path base(dir);
    std::filesystem::create_directories(base);
    auto claims = evaluate_claims(results);
    auto charts = results.plan.experiment == Experiment::matrix ? build_charts(results)
                                                                : experiment_charts(results);
    write_text(base / "results.json", format_results_json(results));
    write_text(base / "results.csv", format_results_csv(results));
    for (const auto& chart : charts) write_text(base / chart.file, chart.svg);
    write_text(base / "index.html", format_html(results, claims, charts));
    std::string summary = format_summary(results, claims);
    write_text(base / "summary.txt", summary);
    return summary;
}

}  // namespace c10k::compare
