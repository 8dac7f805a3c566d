// The sections of the overload, disk and caching experiments in summary.txt and index.html,
// and their charts: goodput and the p99 of admitted requests against the offered load, and
// p99 or CPU bars per server variant.

#include <fmt/core.h>

#include "compare/experiments.hpp"
#include "compare/report.hpp"

namespace c10k::compare {

namespace {

std::string ms(double us) {
    return fmt::format("{:.2f}", us / 1000.0);
}

std::string overload_text(const Results& results) {
    const auto& s = results.plan.settings;
    std::string out = fmt::format(
        "\noverload: GET {}/{} burns {} us of CPU; goodput = 200s within {} ms of their intended "
        "send, per second; p99 of the 200s (admitted) in ms\n",
        kCostPrefix, s.cost_us, s.cost_us, s.deadline_ms);
    for (const auto& r : results.cells) {
        if (r.cell.phase == "capacity") {
            out +=
                fmt::format("  capacity of {}: {}\n", r.cell.server.label(),
                            r.held ? fmt::format("{:.0f} req/s (closed loop, {} conns)",
                                                 r.duration_s > 0 ? r.requests / r.duration_s : 0,
                                                 r.cell.connections)
                                   : "FAILED: " + r.failure);
        }
    }
    out += fmt::format("  {:<28} {:>6} {:>10} {:>10} {:>10} {:>8}\n", "server", "load", "offered/s",
                       "goodput/s", "p99 200s", "503s");
    for (const auto& label : cell_labels(results)) {
        for (const auto& r : results.cells) {
            if (r.cell.phase != "ramp" || r.cell.server.label() != label) continue;
            auto refused = r.status.count("503") ? r.status.at("503") : 0;
            out += r.held ? fmt::format("  {:<28} {:>5g}x {:>10.0f} {:>10.0f} {:>10} {:>8}\n",
                                        label, r.cell.load_factor, r.cell.rate, r.good_rps,
                                        ms(r.ok_p99_us), refused)
                          : fmt::format("  {:<28} {:>5g}x FAILED: {}\n", label, r.cell.load_factor,
                                        r.failure);
        }
    }
    return out;
}

std::string disk_text(const Results& results) {
    const auto& s = results.plan.settings;
    std::string out = fmt::format(
        "\ndisk: p99 (ms) of cached {}-byte requests at {:g}/s, idle and while {} readers fetch "
        "a cold data set of {} x {} bytes ({}; evicted every 200 ms)\n",
        results.plan.sizes.empty() ? 128 : results.plan.sizes.front(), results.plan.rate,
        s.cold_connections, s.disk_files, s.disk_file_size,
        s.cold_rate > 0 ? fmt::format("{:g} files/s in all", s.cold_rate) : "as fast as they can");
    out += fmt::format("  {:<28} {:>10} {:>10} {:>14}\n", "server", "idle p99", "busy p99",
                       "cold reads/s");
    for (const auto& label : cell_labels(results)) {
        auto text = [&](const char* phase, bool p99) {
            const CellResult* r = find_experiment_cell(results, label, phase);
            if (r == nullptr) return std::string("-");
            if (!r->held) return std::string("FAIL");
            return p99 ? ms(r->p99_us) : fmt::format("{:.1f}", r->rps);
        };
        out += fmt::format("  {:<28} {:>10} {:>10} {:>14}\n", label, text("idle", true),
                           text("busy", true), text("cold", false));
    }
    return out;
}

std::string caching_text(const Results& results) {
    std::string out = "\ncaching: server CPU us per request / p99 ms, open loop at " +
                      fmt::format("{:g}", results.plan.rate) + " req/s\n";
    out += fmt::format("  {:<34}", "server");
    for (auto n : results.plan.connections)
        out += fmt::format(" {:>14}", fmt::format("{} conns", n));
    out += "\n";
    for (const auto& label : cell_labels(results)) {
        out += fmt::format("  {:<34}", label);
        for (auto n : results.plan.connections) {
            const CellResult* r = find_experiment_cell(results, label, "caching", 0, n);
            out += fmt::format(" {:>14}",
                               r == nullptr ? "-"
                               : r->held
                                   ? fmt::format("{:.1f}/{}", r->cpu_us_per_request, ms(r->p99_us))
                                   : "FAIL");
        }
        out += "\n";
    }
    return out;
}

}  // namespace

std::string experiment_summary(const Results& results) {
    switch (results.plan.experiment) {
        case Experiment::overload:
            return overload_text(results);
        case Experiment::disk:
            return disk_text(results);
        case Experiment::caching:
            return caching_text(results);
        default:
            return {};
    }
}

std::vector<ChartFile> experiment_charts(const Results& results) {
    std::vector<ChartFile> files;
    const auto labels = cell_labels(results);
    if (results.plan.experiment == Experiment::overload) {
        LineChart goodput{"Goodput against offered load (200s within the deadline per second)",
                          "offered load (requests/s)",
                          "goodput (requests/s)",
                          false,
                          {}};
        LineChart p99{"p99 latency of admitted requests (200s) against offered load",
                      "offered load (requests/s)",
                      "p99 of 200s (ms)",
                      true,
                      {}};
        for (const auto& label : labels) {
            Series g{label, {}, {}, label.find("overload") == std::string::npos};
            Series l = g;
            for (const auto& r : results.cells) {
                if (r.cell.phase != "ramp" || r.cell.server.label() != label || r.cell.rate <= 0) {
                    continue;
                }
                if (!r.held) {
                    g.failed_x.push_back(r.cell.rate);
                    continue;
                }
                g.points.emplace_back(r.cell.rate, r.good_rps);
                if (r.ok_p99_us > 0) l.points.emplace_back(r.cell.rate, r.ok_p99_us / 1000.0);
            }
            if (g.points.empty() && g.failed_x.empty()) continue;
            goodput.series.push_back(std::move(g));
            p99.series.push_back(std::move(l));
        }
        files.push_back({"overload_goodput.svg", goodput.title, render_line_chart(goodput)});
        files.push_back({"overload_p99.svg", p99.title, render_line_chart(p99)});
    } else if (results.plan.experiment == Experiment::disk) {
        BarChart bars{"p99 of cached requests, idle and while cold reads are in flight",
                      "p99 (ms)",
                      {"idle", "cold reads in flight"},
                      {},
                      {}};
        for (const auto& label : labels) {
            std::vector<double> row;
            for (const char* phase : {"idle", "busy"}) {
                const CellResult* r = find_experiment_cell(results, label, phase);
                row.push_back(r != nullptr && r->held ? r->p99_us / 1000.0 : 0);
            }
            bars.categories.push_back(label);
            bars.values.push_back(std::move(row));
        }
        files.push_back({"disk_p99.svg", bars.title, render_bar_chart(bars)});
    } else if (results.plan.experiment == Experiment::caching) {
        BarChart bars{"Server CPU per request with the cache and sendfile switched off",
                      "CPU per request (us)",
                      {},
                      {},
                      {}};
        for (auto n : results.plan.connections)
            bars.series_names.push_back(fmt::format("{} conns", n));
        for (const auto& label : labels) {
            std::vector<double> row;
            for (auto n : results.plan.connections) {
                const CellResult* r = find_experiment_cell(results, label, "caching", 0, n);
                row.push_back(r != nullptr && r->held ? r->cpu_us_per_request : 0);
            }
            bars.categories.push_back(label);
            bars.values.push_back(std::move(row));
        }
        files.push_back({"caching_cpu.svg", bars.title, render_bar_chart(bars)});
    }
    return files;
}

}  // namespace c10k::compare
