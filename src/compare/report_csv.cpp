// results.csv: one row per cell, for spreadsheets and gnuplot. Failed cells are rows too, with
// held=0 and the reason in the last column, so that a failure is never lost by a filter.

#include <fmt/core.h>

#include "compare/results.hpp"

namespace c10k::compare {

namespace {

/// RFC 4180 quoting for the free-text column.
std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        out += c;
        if (c == '"') out += '"';
    }
    return out + "\"";
}

}  // namespace

std::string format_results_csv(const Results& results) {
    std::string out =
        "server,kind,architecture,mode,size,connections,held,requests,errors,rps,"
        "connections_open,connections_failed,p50_us,p99_us,p999_us,server_cpu_s,"
        "cpu_us_per_request,cpu_utilisation,rss_kb,rss_kb_before,rss_bytes_per_connection,"
        "server_processes,experiment,variant,phase,offered_rps,load_factor,good_rps,ok_p99_us,"
        "failure\n";
    for (const auto& r : results.cells) {
        out += fmt::format(
            "{},{},{},{},{},{},{},{},{},{:.1f},{},{},{:.0f},{:.0f},{:.0f},{:.4f},{:.3f},{:.5f},"
            "{:.0f},{:.0f},{:.1f},{},{},{},{},{:.1f},{:.3f},{:.1f},{:.0f},{}\n",
            r.cell.server.name, r.cell.server.kind == ServerKind::engine ? "engine" : "anchor",
            csv_field(r.cell.server.architecture),
            r.cell.mode == LoadMode::open_loop ? "open_loop" : "max_throughput", r.cell.size,
            r.cell.connections, r.held ? 1 : 0, r.requests, r.errors, r.rps, r.connections_open,
            r.connections_failed, r.p50_us, r.p99_us, r.p999_us, r.cpu_s, r.cpu_us_per_request,
            r.cpu_utilisation(), r.rss_kb, r.rss_kb_before, r.rss_bytes_per_connection,
            r.server_processes, experiment_name(r.cell.experiment), csv_field(r.cell.server.variant),
            r.cell.phase, r.cell.rate, r.cell.load_factor, r.good_rps, r.ok_p99_us,
            csv_field(r.failure));
    }
    return out;
}

}  // namespace c10k::compare
