#include "bench/report.hpp"

#include "bench/push_report.hpp"
#include "bench/ws_report.hpp"
#include "core/json.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

namespace c10k::bench {
namespace {

struct Quantile {
    const char* key;
    const char* label;
    double percent;
};

constexpr Quantile quantiles[] = {
    {"p50", "50%", 50.0},     {"p90", "90%", 90.0},       {"p99", "99%", 99.0},
    {"p999", "99.9%", 99.9},  {"p9999", "99.99%", 99.99},
};

std::string human_us(std::int64_t us) {
    if (us < 1000) return fmt::format("{}us", us);
    if (us < 1'000'000) return fmt::format("{:.2f}ms", us / 1e3);
    return fmt::format("{:.2f}s", us / 1e6);
}

std::string human_bytes(double bytes) {
    if (bytes < 1024) return fmt::format("{:.0f}B", bytes);
    if (bytes < 1024 * 1024) return fmt::format("{:.1f}KB", bytes / 1024);
    if (bytes < 1024.0 * 1024 * 1024) return fmt::format("{:.1f}MB", bytes / 1024 / 1024);
    return fmt::format("{:.2f}GB", bytes / 1024 / 1024 / 1024);
}

std::string latency_json(const core::Histogram& h) {
    std::string out = "{";
    for (const auto& q : quantiles) out += fmt::format("\"{}\": {}, ", q.key, h.percentile(q.percent));
    out += fmt::format("\"min\": {}, \"max\": {}, \"mean\": {:.1f}, \"count\": {}}}", h.min(),
                       h.max(), h.mean(), h.count());
    return out;
}

const char* mode_name(const BenchOptions& options) {
    if (options.push.transport != PushTransport::none) return "push";
    return options.rate > 0 ? "open" : "closed";
}

const char* arrival_name(const BenchOptions& options) {
    if (options.rate <= 0) return "none";
    return options.arrival == Arrival::poisson ? "poisson" : "uniform";
}

}  // namespace

std::string json_string(const std::string& text) { return core::json_quote(text); }

std::string format_summary(const BenchReport& report) {
    if (report.push) return format_push_summary(report);
    if (report.websocket) return format_ws_echo_summary(report);
    const auto& o = report.options;
    const auto& s = report.stats;
    std::string out;
    out += fmt::format("Running {:.1f}s test @ {}", report.duration_s, o.urls.empty() ? "" : o.urls[0]);
    if (o.urls.size() > 1) out += fmt::format(" (+{} more URLs)", o.urls.size() - 1);
    out += "\n";
    if (o.rate > 0) {
        out += fmt::format("  open loop: {} requests/s ({}) over {} connections", o.rate,
                           arrival_name(o), o.connections);
    } else {
        out += fmt::format("  closed loop over {} connections", o.connections);
    }
    out += fmt::format(", {} idle, pipeline {}, {} thread(s) in {} process(es){}\n", o.idle,
                       o.pipeline, report.layout.threads, report.layout.processes,
                       o.new_connection_per_request ? ", new connection per request" : "");
    out += fmt::format("  connections: {} targeted, {} open, {} failed to connect", s.connections_target,
                       s.connections_open, s.connections_failed);
    for (auto [code, count] : s.connect_failures) out += fmt::format(" [{}: {}]", errno_name(code), count);
    if (report.layout.source_addresses > 1) {
        out += fmt::format(" (source addresses 127.0.0.1-127.0.0.{})", report.layout.source_addresses);
    }
    out += "\n";
    out += "  Latency      corrected    uncorrected\n";
    for (const auto& q : quantiles) {
        out += fmt::format("    {:<8} {:>12} {:>14}\n", q.label, human_us(s.corrected.percentile(q.percent)),
                           human_us(s.uncorrected.percentile(q.percent)));
    }
    out += fmt::format("    {:<8} {:>12} {:>14}\n", "max", human_us(s.corrected.max()),
                       human_us(s.uncorrected.max()));
    out += fmt::format("    {:<8} {:>12} {:>14}\n", "mean",
                       human_us(static_cast<std::int64_t>(s.corrected.mean())),
                       human_us(static_cast<std::int64_t>(s.uncorrected.mean())));
    out += fmt::format("  {} requests in {:.2f}s, {} read\n", s.requests, report.duration_s,
                       human_bytes(static_cast<double>(s.bytes_read)));
    out += fmt::format("Requests/sec: {:10.2f}\n", report.rps());
    out += fmt::format("Errors: {}", s.total_errors());
    for (std::size_t k = 0; k < error_kind_count; ++k) {
        if (s.errors[k] != 0) {
            out += fmt::format("  {} {}", error_kind_name(static_cast<ErrorKind>(k)), s.errors[k]);
        }
    }
    out += "\nStatus:";
    for (auto [code, count] : s.status) out += fmt::format("  {}: {}", code, count);
    if (s.status.empty()) out += " (no responses)";
    if (report.options.deadline_ns > 0) {
        out += fmt::format("\nGoodput: {} responses 200 within {} ({:.2f}/s); p99 of the 200s {}",
                           s.good, human_us(report.options.deadline_ns / 1000),
                           report.duration_s > 0 ? static_cast<double>(s.good) / report.duration_s : 0.0,
                           human_us(s.ok_corrected.percentile(99)));
    }
    out += "\n";
    if (report.server) {
        const auto& v = *report.server;
        out += fmt::format("Server: {} process(es), CPU {:.3f}s = {:.1f}us/request, RSS {} ({} before",
                           v.processes, v.cpu_s, v.cpu_us_per_request,
                           human_bytes(v.rss_kb * 1024.0), human_bytes(v.rss_kb_before * 1024.0));
        if (s.connections_open > 0) {
            out += fmt::format(", {} per open connection", human_bytes(v.rss_bytes_per_connection));
        }
        out += ")\n";
    }
    for (const auto& warning : report.warnings) out += fmt::format("warning: {}\n", warning);
    return out;
}

std::string format_json(const BenchReport& report) {
    const auto& o = report.options;
    const auto& s = report.stats;
    std::string out = "{\n";
    out += fmt::format("  \"schema\": \"{}\",\n", json_schema_name);
    out += "  \"urls\": [";
    for (std::size_t i = 0; i < o.urls.size(); ++i) out += (i ? ", " : "") + json_string(o.urls[i]);
    out += "],\n";
    out += fmt::format(
        "  \"config\": {{\"mode\": \"{}\", \"arrival\": \"{}\", \"rate\": {}, \"connections\": {}, "
        "\"idle\": {}, \"pipeline\": {}, \"threads\": {}, \"processes\": {}, "
        "\"source_addresses\": {}, \"keep_alive\": {}, \"method\": {}, \"warmup_s\": {:.3f}, "
        "\"timeout_s\": {:.3f}}},\n",
        mode_name(o), arrival_name(o), o.rate, o.connections, o.idle, o.pipeline,
        report.layout.threads, report.layout.processes, report.layout.source_addresses,
        o.new_connection_per_request ? "false" : "true", json_string(o.request.method),
        o.warmup_ns / 1e9, o.timeout_ns / 1e9);
    out += fmt::format("  \"requests\": {},\n", s.requests);
    out += fmt::format("  \"rps\": {:.3f},\n", report.rps());
    out += fmt::format("  \"duration_s\": {:.3f},\n", report.duration_s);
    out += fmt::format("  \"bytes_read\": {},\n", s.bytes_read);
    out += fmt::format("  \"connections\": {{\"target\": {}, \"idle\": {}, \"open\": {}, \"failed\": {}, "
                       "\"reconnects\": {}, \"failed_by_errno\": {{",
                       s.connections_target, s.connections_idle, s.connections_open,
                       s.connections_failed, s.reconnects);
    bool first = true;
    for (auto [code, count] : s.connect_failures) {
        out += fmt::format("{}{}: {}", first ? "" : ", ", json_string(errno_name(code)), count);
        first = false;
    }
    out += "}},\n";
    out += fmt::format("  \"errors\": {{\"total\": {}, \"by_kind\": {{", s.total_errors());
    for (std::size_t k = 0; k < error_kind_count; ++k) {
        out += fmt::format("{}\"{}\": {}", k ? ", " : "", error_kind_name(static_cast<ErrorKind>(k)),
                           s.errors[k]);
    }
    out += "}},\n";
    out += "  \"status\": {";
    first = true;
    for (auto [code, count] : s.status) {
        out += fmt::format("{}\"{}\": {}", first ? "" : ", ", code, count);
        first = false;
    }
    out += "},\n";
    out += fmt::format("  \"latency_us\": {{\n    \"corrected\": {},\n    \"uncorrected\": {}\n  }},\n",
                       latency_json(s.corrected), latency_json(s.uncorrected));
    if (o.deadline_ns > 0) {
        out += fmt::format("  \"deadline\": {{\"deadline_s\": {:.6g}, \"good\": {}, \"good_rps\": {:.3f}, "
                           "\"ok_latency_us\": {}}},\n",
                           o.deadline_ns / 1e9, s.good,
                           report.duration_s > 0 ? static_cast<double>(s.good) / report.duration_s : 0.0,
                           latency_json(s.ok_corrected));
    } else {
        out += "  \"deadline\": null,\n";
    }
    if (report.server) {
        const auto& v = *report.server;
        out += "  \"server\": {\"pids\": [";
        for (std::size_t i = 0; i < v.pids.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", v.pids[i]);
        out += fmt::format("], \"processes\": {}, \"cpu_s\": {:.4f}, \"cpu_us_per_req\": {:.3f}, "
                           "\"rss_kb\": {}, \"rss_kb_before\": {}, \"rss_bytes_per_conn\": {:.1f}}},\n",
                           v.processes, v.cpu_s, v.cpu_us_per_request, v.rss_kb, v.rss_kb_before,
                           v.rss_bytes_per_connection);
    } else {
        out += "  \"server\": null,\n";
    }
    out += push_json_member(report);
    out += ws_json_member(report);
    out += "  \"warnings\": [";
    for (std::size_t i = 0; i < report.warnings.size(); ++i) {
        out += (i ? ", " : "") + json_string(report.warnings[i]);
    }
    out += "]\n}\n";
    return out;
}

std::string csv_header() {
    return "url,mode,arrival,rate,connections,idle,pipeline,threads,processes,duration_s,requests,"
           "rps,connections_open,connections_failed,errors,"
           "corrected_p50_us,corrected_p90_us,corrected_p99_us,corrected_p999_us,corrected_max_us,"
           "uncorrected_p50_us,uncorrected_p90_us,uncorrected_p99_us,uncorrected_p999_us,"
           "uncorrected_max_us,server_cpu_s,server_cpu_us_per_req,server_rss_kb";
}

std::string format_csv_row(const BenchReport& report) {
    const auto& o = report.options;
    const auto& s = report.stats;
    std::string url = o.urls.empty() ? "" : o.urls[0];
    if (url.find_first_of(",\"") != std::string::npos) {
        std::string quoted = "\"";
        for (char c : url) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        url = quoted + "\"";
    }
    std::string row = fmt::format("{},{},{},{},{},{},{},{},{},{:.3f},{},{:.2f},{},{},{}", url,
                                  mode_name(o), arrival_name(o), o.rate, o.connections, o.idle,
                                  o.pipeline, report.layout.threads, report.layout.processes,
                                  report.duration_s, s.requests, report.rps(), s.connections_open,
                                  s.connections_failed, s.total_errors());
    for (const auto* h : {&s.corrected, &s.uncorrected}) {
        row += fmt::format(",{},{},{},{},{}", h->percentile(50), h->percentile(90),
                           h->percentile(99), h->percentile(99.9), h->max());
    }
    if (report.server) {
        row += fmt::format(",{:.4f},{:.3f},{}", report.server->cpu_s,
                           report.server->cpu_us_per_request, report.server->rss_kb);
    } else {
        row += ",,,";
    }
    return row;
}

bool append_csv(const std::string& path, const BenchReport& report, std::string& error) {
    struct stat info {};
    bool needs_header = ::stat(path.c_str(), &info) != 0 || info.st_size == 0;
    std::FILE* file = std::fopen(path.c_str(), "a");
    if (file == nullptr) {
        error = fmt::format("cannot open {} for appending: {}", path, std::strerror(errno));
        return false;
    }
    // A push run has columns of its own: keep push and request rows in separate files.
    std::string header = report.push ? push_csv_header() : csv_header();
    std::string row = report.push ? format_push_csv_row(report) : format_csv_row(report);
    std::string text = (needs_header ? header + "\n" : std::string()) + row + "\n";
    bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    ok = std::fclose(file) == 0 && ok;
    if (!ok) error = fmt::format("cannot write {}: {}", path, std::strerror(errno));
    return ok;
}

}  // namespace c10k::bench
