#include "bench/ws_report.hpp"

#include <fmt/core.h>

#include "core/json.hpp"

namespace c10k::bench {
namespace {

std::string human_us(std::int64_t us) {
    if (us < 1000) return fmt::format("{}us", us);
    if (us < 1'000'000) return fmt::format("{:.2f}ms", us / 1e3);
    return fmt::format("{:.2f}s", us / 1e6);
}

std::string code_map_json(const std::map<int, std::uint64_t>& map) {
    std::string out = "{";
    bool first = true;
    for (auto [code, count] : map) {
        out += fmt::format("{}\"{}\": {}", first ? "" : ", ", code, count);
        first = false;
    }
    return out + "}";
}

std::string code_map_text(const std::map<int, std::uint64_t>& map) {
    std::string out;
    for (auto [code, count] : map) out += fmt::format(" [{}: {}]", code, count);
    return out;
}

}  // namespace

std::string ws_json_member(const BenchReport& report) {
    if (!report.websocket) return "  \"websocket\": null,\n";
    const WsCounters& w = *report.websocket;
    const BenchOptions& o = report.options;
    bool echo = o.ws.echo;
    std::string out = "  \"websocket\": {";
    out += fmt::format(
        "\"mode\": \"{}\", \"deflate_offered\": {}, \"handshakes\": {}, \"deflate_agreed\": {}, "
        "\"bad_handshakes\": {}, \"refused_by_status\": {}, \"close_codes\": {}",
        echo ? "echo" : "subscribe", o.ws.deflate ? "true" : "false", w.handshakes,
        w.deflate_agreed, w.bad_handshakes, code_map_json(w.refused), code_map_json(w.close_codes));
    if (echo) {
        out += fmt::format(
            ", \"message_type\": \"{}\", \"message_size\": {}, \"messages_sent\": {}, "
            "\"messages\": {}, \"messages_per_s\": {:.3f}, \"bad_echoes\": {}",
            o.ws.text ? "text" : "binary", o.ws.message_size, w.messages_sent,
            report.stats.requests, report.rps(), w.bad_echoes);
    } else {
        out +=
            ", \"message_type\": null, \"message_size\": null, \"messages_sent\": null, "
            "\"messages\": null, \"messages_per_s\": null, \"bad_echoes\": null";
    }
    out += "},\n";
    return out;
}

std::string format_ws_counters_line(const BenchReport& report) {
    if (!report.websocket) return {};
    const WsCounters& w = *report.websocket;
    std::string out = fmt::format("  websocket: {} handshakes", w.handshakes);
    if (report.options.ws.deflate) {
        out += fmt::format(", permessage-deflate agreed by {}", w.deflate_agreed);
    } else {
        out += ", no compression offered";
    }
    if (w.bad_handshakes) out += fmt::format(", {} bad handshakes", w.bad_handshakes);
    if (!w.refused.empty()) out += ", refused" + code_map_text(w.refused);
    if (!w.close_codes.empty()) out += ", closed by code" + code_map_text(w.close_codes);
    return out + "\n";
}

std::string format_ws_echo_summary(const BenchReport& report) {
    const BenchOptions& o = report.options;
    const RunStats& s = report.stats;
    const WsCounters& w = *report.websocket;
    std::string out;
    out += fmt::format("Running {:.1f}s WebSocket echo test @ {}", report.duration_s,
                       o.urls.empty() ? "" : o.urls[0]);
    if (o.urls.size() > 1) out += fmt::format(" (+{} more URLs)", o.urls.size() - 1);
    out += "\n";
    if (o.rate > 0) {
        out += fmt::format("  open loop: {} messages/s over {} connections", o.rate, o.connections);
    } else {
        out += fmt::format("  closed loop over {} connections", o.connections);
    }
    out += fmt::format(", {} messages of {} bytes, {} thread(s) in {} process(es)\n",
                       o.ws.text ? "text" : "binary", o.ws.message_size, report.layout.threads,
                       report.layout.processes);
    out +=
        fmt::format("  connections: {} targeted, {} open, {} failed to connect, {} reconnects",
                    s.connections_target, s.connections_open, s.connections_failed, s.reconnects);
    for (auto [code, count] : s.connect_failures) {
        out += fmt::format(" [{}: {}]", errno_name(code), count);
    }
    out += "\n";
    out += format_ws_counters_line(report);
    out += "  Round trip   corrected    uncorrected\n";
    for (auto [label, percent] : {std::pair{"50%", 50.0}, std::pair{"90%", 90.0},
                                  std::pair{"99%", 99.0}, std::pair{"99.9%", 99.9}}) {
        out += fmt::format("    {:<8} {:>12} {:>14}\n", label,
                           human_us(s.corrected.percentile(percent)),
                           human_us(s.uncorrected.percentile(percent)));
    }
    out += fmt::format("    {:<8} {:>12} {:>14}\n", "max", human_us(s.corrected.max()),
                       human_us(s.uncorrected.max()));
    out += fmt::format("  {} messages echoed of {} sent in {:.2f}s\n", s.requests, w.messages_sent,
                       report.duration_s);
    out += fmt::format("Messages/sec: {:10.2f}\n", report.rps());
    out += fmt::format("Errors: {}", s.total_errors());
    for (std::size_t k = 0; k < error_kind_count; ++k) {
        if (s.errors[k] != 0) {
            out += fmt::format("  {} {}", error_kind_name(static_cast<ErrorKind>(k)), s.errors[k]);
        }
    }
    if (w.bad_echoes) out += fmt::format("  (bad echoes {})", w.bad_echoes);
    out += "\n";
    if (report.server) {
        const auto& v = *report.server;
        out += fmt::format("Server: {} process(es), CPU {:.3f}s = {:.1f}us/message, RSS {} KB\n",
                           v.processes, v.cpu_s, v.cpu_us_per_request, v.rss_kb);
    }
    for (const auto& warning : report.warnings) out += fmt::format("warning: {}\n", warning);
    return out;
}

}  // namespace c10k::bench
