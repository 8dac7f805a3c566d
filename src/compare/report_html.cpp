// index.html: one self-contained page (the SVG charts are inline, and also in their own files)
// with the machine, kernel and commit, the claims and their verdicts, and every cell.

#include <fmt/core.h>

#include "compare/report.hpp"

namespace c10k::compare {

namespace {

const char* const kStyle =
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
    "td.l,th.l{text-align:left}tr.fail{background:#fdecea}"
    ".reproduced{color:#1a7f37;font-weight:bold}.not{color:#b42318;font-weight:bold}"
    ".caveat{color:#9a6700;font-weight:bold}figure{margin:1.5em 0}"
    "figcaption{font-size:13px;color:#555}";

std::string verdict_class(Verdict v) {
    switch (v) {
        case Verdict::reproduced: return "reproduced";
        case Verdict::reproduced_with_caveat: return "caveat";
        case Verdict::not_reproduced: return "not";
        default: return "";
    }
}

std::string claims_html(const std::vector<Claim>& claims) {
    std::string out = "<h2>Claims</h2>\n<table>\n<tr><th class=\"l\">claim (source)</th>"
                      "<th class=\"l\">measured</th><th class=\"l\">verdict</th></tr>\n";
    for (const auto& c : claims) {
        std::string evidence;
        for (const auto& line : c.evidence) evidence += xml_escape(line) + "<br>";
        out += fmt::format("<tr><td class=\"l\">{}<br><small>{}</small></td>"
                           "<td class=\"l\"><small>{}</small></td>"
                           "<td class=\"l\"><span class=\"{}\">{}</span><br><small>{}</small></td>"
                           "</tr>\n",
                           xml_escape(c.statement), xml_escape(c.source), evidence,
                           verdict_class(c.verdict), verdict_name(c.verdict), xml_escape(c.reason));
    }
    return out + "</table>\n";
}

std::string cells_html(const Results& results) {
    std::string out =
        "<h2>Every cell</h2>\n<table>\n<tr><th class=\"l\">server</th><th class=\"l\">"
        "architecture</th><th>size</th><th>connections</th><th>held</th><th>requests</th>"
        "<th>errors</th><th>req/s</th><th>CPU us/req</th><th>CPU %</th><th>p50 ms</th>"
        "<th>p99 ms</th><th>p99.9 ms</th><th>RSS KiB</th><th>RSS B/conn</th>"
        "<th class=\"l\">failure / warnings</th></tr>\n";
    for (const auto& r : results.cells) {
        std::string notes = r.failure;
        for (const auto& w : r.warnings) notes += (notes.empty() ? "" : "; ") + w;
        std::string connections = r.cell.mode == LoadMode::open_loop
                                      ? std::to_string(r.cell.connections)
                                      : fmt::format("{} closed loop", r.cell.connections);
        out += fmt::format(
            "<tr{}><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td>{:.0f}</td><td>{:.1f}</td><td>{:.1f}</td>"
            "<td>{:.2f}</td><td>{:.2f}</td><td>{:.2f}</td><td>{:.0f}</td><td>{:.0f}</td>"
            "<td class=\"l\"><small>{}</small></td></tr>\n",
            r.held ? "" : " class=\"fail\"",
            xml_escape(r.cell.server.label() + (r.cell.phase.empty() ? "" : " " + r.cell.phase) +
                       (r.cell.load_factor > 0 ? fmt::format(" {:g}x", r.cell.load_factor) : "")),
            xml_escape(r.cell.server.architecture), r.cell.size, connections,
            r.held ? "yes" : "no", r.requests, r.errors, r.rps, r.cpu_us_per_request,
            r.cpu_utilisation() * 100, r.p50_us / 1000.0, r.p99_us / 1000.0, r.p999_us / 1000.0,
            r.rss_kb, r.rss_bytes_per_connection, xml_escape(notes));
    }
    return out + "</table>\n";
}

}  // namespace

std::string format_html(const Results& results, const std::vector<Claim>& claims,
                        const std::vector<ChartFile>& charts) {
    const auto& info = results.info;
    const auto& plan = results.plan;
    std::string servers;
    for (const auto& s : plan.servers) servers += (servers.empty() ? "" : ", ") + s.name;
    std::string versions;
    for (const auto& [name, version] : info.versions) {
        versions += fmt::format("{}{}", versions.empty() ? "" : "; ", version.empty() ? name : version);
    }
    std::string out = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>c10k compare</title><style>{}</style></head><body>\n"
        "<h1>c10k compare: server architectures at 100 to 15,000 connections</h1>\n"
        "<p>The micro-benchmark of the seeds (HTTP requests for {}-byte files, {:g} requests/s "
        "open loop, one thread or process per connection for the per-connection engines), "
        "measured with <code>c10k bench</code> against c10k's own engines and the anchors.</p>\n"
        "<table><tr><th class=\"l\">machine</th><td class=\"l\">{}</td></tr>"
        "<tr><th class=\"l\">kernel</th><td class=\"l\">{}</td></tr>"
        "<tr><th class=\"l\">commit</th><td class=\"l\"><code>{}</code></td></tr>"
        "<tr><th class=\"l\">started</th><td class=\"l\">{} (whole run {:.0f} s)</td></tr>"
        "<tr><th class=\"l\">servers</th><td class=\"l\">{}</td></tr>"
        "<tr><th class=\"l\">anchors</th><td class=\"l\">{}</td></tr>"
        "<tr><th class=\"l\">method</th><td class=\"l\">{}each cell: a fresh server, {} ms "
        "warm-up after connecting, {} ms measured; latency corrected for coordinated "
        "omission; CPU is utime+stime of the server's processes and threads from /proc</td></tr>"
        "</table>\n",
        kStyle,
        [&] {
            std::string sizes;
            for (auto s : plan.sizes) sizes += (sizes.empty() ? "" : " and ") + std::to_string(s);
            return sizes;
        }(),
        plan.rate, xml_escape(info.machine), xml_escape(info.kernel), xml_escape(info.commit),
        xml_escape(info.started), info.wall_s, xml_escape(servers),
        xml_escape(versions.empty() ? "none" : versions),
        info.pinned ? "server pinned to CPU 0, load generator to CPU 1; " : "not pinned; ",
        plan.warmup_ms, plan.duration_ms);
    out += "<p><b>This machine is shared and noisy</b>: absolute requests/s move by up to 2x "
           "between runs; CPU per request is the figure that holds still (about 10%). RSS is "
           "summed over processes, so pages shared between processes (fork, prefork, nginx's "
           "master and worker) count once per process, and prefork's workers exist before the "
           "connections, so their memory is not in its per-connection figure. CPU time is read from "
           "/proc/PID/stat, which counts each process in whole 10 ms ticks: a process per "
           "connection (fork, prefork) serves a few requests and stays under a tick, so its CPU "
           "figures are lower bounds and the claims do not compare them.</p>\n";
    for (const auto& note : plan.notes) out += "<p>Note: " + xml_escape(note) + "</p>\n";
    if (plan.experiment != Experiment::matrix) {
        // The page's opening describes the matrix; say at once which experiment this is.
        const std::string matrix_title =
            "<h1>c10k compare: server architectures at 100 to 15,000 connections</h1>";
        out.replace(out.find(matrix_title), matrix_title.size(),
                    fmt::format("<h1>c10k compare: the {} experiment</h1>\n<p>See the "
                                "Experiment section for what each row measures "
                                "(docs/COMPARE.md).</p>",
                                experiment_name(plan.experiment)));
        out += fmt::format("<h2>Experiment: {}</h2>\n<pre>{}</pre>\n",
                           experiment_name(plan.experiment),
                           xml_escape(experiment_summary(results)));
    }
    out += claims_html(claims);
    out += "<h2>Charts</h2>\n<p>Solid lines: c10k's engines; dashed: anchors. A cross on the x "
           "axis marks a cell that failed (the reason is in the table below).</p>\n";
    for (const auto& chart : charts) {
        out += fmt::format("<figure>{}<figcaption><a href=\"{}\">{}</a></figcaption></figure>\n",
                           chart.svg, chart.file, xml_escape(chart.caption));
    }
    out += cells_html(results);
    out += "<p>Raw data: <a href=\"results.json\">results.json</a>, "
           "<a href=\"results.csv\">results.csv</a>, <a href=\"summary.txt\">summary.txt</a>.</p>\n";
    return out + "</body></html>\n";
}

}  // namespace c10k::compare
