#include "bench/push_report.hpp"

#include <fmt/core.h>

#include "bench/stats.hpp"
#include "bench/ws_report.hpp"
#include "core/json.hpp"

namespace c10k::bench {
namespace {

std::string human_us(std::int64_t us) {
    if (us < 1000) return fmt::format("{}us", us);
    if (us < 1'000'000) return fmt::format("{:.2f}ms", us / 1e3);
    return fmt::format("{:.2f}s", us / 1e6);
}

std::string human_bytes(double bytes) {
    if (bytes < 1024 && bytes > -1024) return fmt::format("{:.0f}B", bytes);
    if (bytes < 1024 * 1024) return fmt::format("{:.1f}KB", bytes / 1024);
    return fmt::format("{:.1f}MB", bytes / 1024 / 1024);
}

std::string int_map_json(const std::map<int, std::uint64_t>& map, bool errno_keys) {
    std::string out = "{";
    bool first = true;
    for (auto [key, count] : map) {
        std::string name = errno_keys ? errno_name(key) : std::to_string(key);
        out += fmt::format("{}{}: {}", first ? "" : ", ", core::json_quote(name), count);
        first = false;
    }
    return out + "}";
}

std::string histogram_json(const core::Histogram& h) {
    return fmt::format(
        "{{\"p50\": {}, \"p90\": {}, \"p99\": {}, \"p999\": {}, \"min\": {}, \"max\": {}, "
        "\"mean\": {:.1f}, \"count\": {}}}",
        h.percentile(50), h.percentile(90), h.percentile(99), h.percentile(99.9), h.min(), h.max(),
        h.mean(), h.count());
}

std::string targets_json(const PushReport& p) {
    std::string out = "    \"targets\": [";
    bool first = true;
    for (const auto& t : p.targets) {
        out += fmt::format(
            "{}\n      {{\"url\": {}, \"subscribers\": {}, \"expected\": {}, "
            "\"reconnects\": {}, \"deliveries\": {},\n       \"latency_us\": {},\n       "
            "\"fanout_span_us\": {},\n       \"lost\": {{\"total\": {}, \"gaps\": {}, "
            "\"never_seen\": {}}}, \"duplicated\": {}, \"history_lost\": {}}}",
            first ? "" : ",", core::json_quote(t.url), t.subscribers, t.expected, t.reconnects,
            t.deliveries, histogram_json(t.latency), histogram_json(t.spans), t.lost(), t.gaps,
            t.unseen, t.duplicates, t.history_lost);
        first = false;
    }
    return out + "],\n";
}

/// Times as Unix microseconds; ids as strings, as JSON readers keep only 53 bits of a number
/// and Redis stream ids need 61.
std::string messages_json(const PushReport& p) {
    if (p.messages_omitted) return "    \"messages\": null,\n";
    std::string out = "    \"messages\": [";
    bool first = true;
    for (const auto& m : p.messages) {
        out += fmt::format("{}\n      [\"{}\", {}, {}, {}, {}, {}]", first ? "" : ",", m.id,
                           m.sent_ns / 1000, m.first_ns / 1000, m.last_ns / 1000, m.receipts,
                           m.acknowledged ? "true" : "false");
        first = false;
    }
    return out + "],\n";
}

}  // namespace

const char* transport_name(PushTransport transport) {
    switch (transport) {
        case PushTransport::sse:
            return "sse";
        case PushTransport::long_poll:
            return "long-poll";
        case PushTransport::websocket:
            return "websocket";
        case PushTransport::none:
            break;
    }
    return "none";
}

std::string format_push_summary(const BenchReport& report) {
    const auto& o = report.options;
    const PushReport& p = *report.push;
    const PushStats& s = p.subscribers;
    std::string out;
    out += fmt::format("Running {:.1f}s push test @ {}", report.duration_s,
                       o.urls.empty() ? "" : o.urls[0]);
    if (o.urls.size() > 1) out += fmt::format(" (+{} more URLs)", o.urls.size() - 1);
    out += "\n";
    out += fmt::format("  {} {} subscribers, {} thread(s) in {} process(es)", o.push.subscribers,
                       transport_name(o.push.transport), report.layout.threads,
                       report.layout.processes);
    if (report.layout.source_addresses > 1) {
        out +=
            fmt::format(", source addresses 127.0.0.1-127.0.0.{}", report.layout.source_addresses);
    }
    out += "\n";
    if (p.has_publisher) {
        out += fmt::format("  publishing {} messages/s of {} bytes to {}\n", o.push.publish_rate,
                           o.push.message_size, o.push.publish_url);
    }
    out += fmt::format(
        "  subscribers: {} connected, {} failed, {} open at the end, {} reconnects, "
        "{} disconnects",
        s.connected, s.failed, s.open, s.reconnects, s.disconnects);
    for (auto [code, count] : s.connect_failures) {
        out += fmt::format(" [{}: {}]", errno_name(code), count);
    }
    for (auto [status, count] : s.bad_status) out += fmt::format(" [status {}: {}]", status, count);
    out += "\n";
    out += format_ws_counters_line(report);
    out += "  Delivery latency (receipt - t=)\n";
    const core::Histogram& h = s.latency;
    for (auto [label, percent] : {std::pair{"50%", 50.0}, std::pair{"90%", 90.0},
                                  std::pair{"99%", 99.0}, std::pair{"99.9%", 99.9}}) {
        out += fmt::format("    {:<8} {:>12}\n", label, human_us(h.percentile(percent)));
    }
    out += fmt::format("    {:<8} {:>12}\n", "max", human_us(h.max()));
    out += fmt::format(
        "  Fan-out span (first to last receipt of one message): p99 {}, max {} "
        "over {} messages\n",
        human_us(p.spans.percentile(99)), human_us(p.spans.max()), p.spans.count());
    out += fmt::format("  {} deliveries in {:.2f}s\n", s.deliveries, report.duration_s);
    out += fmt::format("Deliveries/sec: {:10.2f}\n", p.deliveries_per_s);
    out += fmt::format(
        "Lost: {} ({} in gaps, {} never seen of {} messages acknowledged)  "
        "Duplicated: {}  History lost: {}\n",
        p.lost(), p.gaps(), p.unseen, p.window_ids, s.duplicates, s.history_lost);
    if (p.targets.size() > 1) {
        for (const auto& t : p.targets) {
            out += fmt::format(
                "  @ {}: {} subscribers, {} deliveries, latency p50 {} p99 {} max {}, lost {}, "
                "duplicated {}\n",
                t.url, t.subscribers, t.deliveries, human_us(t.latency.percentile(50)),
                human_us(t.latency.percentile(99)), human_us(t.latency.max()), t.lost(),
                t.duplicates);
        }
    }
    if (s.poll_timeouts > 0 || s.without_id > 0 || s.protocol_errors > 0) {
        out += fmt::format("  long-poll 304s: {}, without id: {}, protocol errors: {}\n",
                           s.poll_timeouts, s.without_id, s.protocol_errors);
    }
    if (p.has_publisher) {
        const PublisherStats& pub = p.publisher;
        out += fmt::format("Published: {} acknowledged of {} sent, {} errors", pub.published,
                           pub.sent, pub.errors());
        for (auto [status, count] : pub.error_status) {
            out += fmt::format(" [status {}: {}]", status, count);
        }
        if (pub.unanswered) out += fmt::format(" [unanswered: {}]", pub.unanswered);
        out += fmt::format(", acknowledged p99 {} after its intended time\n",
                           human_us(pub.ack_latency.percentile(99)));
    }
    if (report.server) {
        const auto& v = *report.server;
        out += fmt::format(
            "Server: {} process(es), CPU {:.3f}s = {:.2f}us/delivery, RSS {} ({} "
            "before, {} per subscriber)\n",
            v.processes, v.cpu_s, p.cpu_us_per_delivery, human_bytes(v.rss_kb * 1024.0),
            human_bytes(v.rss_kb_before * 1024.0), human_bytes(p.rss_bytes_per_subscriber));
    }
    for (const auto& warning : report.warnings) out += fmt::format("warning: {}\n", warning);
    return out;
}

std::string push_json_member(const BenchReport& report) {
    if (!report.push) return "  \"push\": null,\n";
    const auto& o = report.options;
    const PushReport& p = *report.push;
    const PushStats& s = p.subscribers;
    std::string out = "  \"push\": {\n";
    out += fmt::format("    \"transport\": \"{}\",\n", transport_name(o.push.transport));
    out += fmt::format(
        "    \"subscribers\": {{\"target\": {}, \"connected\": {}, \"failed\": {}, \"open\": {}, "
        "\"expected\": {}, \"reconnects\": {}, \"disconnects\": {}, \"failed_by_errno\": {}, "
        "\"refused_by_status\": {}, \"connect_rate\": {}}},\n",
        s.subscribers, s.connected, s.failed, s.open, p.expected_subscribers, s.reconnects,
        s.disconnects, int_map_json(s.connect_failures, true), int_map_json(s.bad_status, false),
        o.push.connect_rate);
    if (p.has_publisher) {
        const PublisherStats& pub = p.publisher;
        out += fmt::format(
            "    \"publish\": {{\"url\": {}, \"rate\": {}, \"message_size\": {}, \"sent\": {}, "
            "\"acknowledged\": {}, \"errors\": {}, \"error_status\": {}, \"unanswered\": {}, "
            "\"connect_failures\": {}, \"acks_without_id\": {}, \"ack_latency_us\": {}}},\n",
            core::json_quote(o.push.publish_url), o.push.publish_rate, o.push.message_size,
            pub.sent, pub.published, pub.errors(), int_map_json(pub.error_status, false),
            pub.unanswered, pub.connect_failures, pub.acks_without_id,
            histogram_json(pub.ack_latency));
    } else {
        out += "    \"publish\": null,\n";
    }
    out += fmt::format("    \"deliveries\": {},\n", s.deliveries);
    out += fmt::format("    \"deliveries_per_s\": {:.3f},\n", p.deliveries_per_s);
    out += fmt::format("    \"latency_us\": {},\n", histogram_json(s.latency));
    out += fmt::format("    \"fanout_span_us\": {},\n", histogram_json(p.spans));
    out += fmt::format(
        "    \"lost\": {{\"total\": {}, \"gaps\": {}, \"never_seen\": {}, "
        "\"acknowledged_messages\": {}, \"skipped_acknowledged\": {}, \"gaps_counted\": {}}},\n",
        p.lost(), p.gaps(), p.unseen, p.window_ids, p.skipped, s.gap_lost);
    out += fmt::format("    \"duplicated\": {},\n", s.duplicates);
    out += fmt::format("    \"history_lost\": {},\n", s.history_lost);
    out += fmt::format("    \"without_id\": {},\n", s.without_id);
    out += fmt::format("    \"heartbeats\": {},\n", s.heartbeats);
    out += fmt::format("    \"long_poll_timeouts\": {},\n", s.poll_timeouts);
    out += fmt::format("    \"protocol_errors\": {},\n", s.protocol_errors);
    out += targets_json(p);
    out += messages_json(p);
    if (report.server) {
        out += fmt::format("    \"server_cpu_us_per_delivery\": {:.3f},\n", p.cpu_us_per_delivery);
        out += fmt::format("    \"server_rss_bytes_per_subscriber\": {:.1f}\n",
                           p.rss_bytes_per_subscriber);
    } else {
        out += "    \"server_cpu_us_per_delivery\": null,\n";
        out += "    \"server_rss_bytes_per_subscriber\": null\n";
    }
    out += "  },\n";
    return out;
}

std::string push_csv_header() {
    return "url,transport,subscribers,threads,processes,duration_s,publish_rate,message_size,"
           "connected,failed,open,reconnects,deliveries,deliveries_per_s,latency_p50_us,"
           "latency_p90_us,latency_p99_us,latency_p999_us,latency_max_us,span_p99_us,"
           "span_max_us,lost,duplicated,history_lost,published,publish_errors,server_cpu_s,"
           "server_cpu_us_per_delivery,server_rss_bytes_per_subscriber";
}

std::string format_push_csv_row(const BenchReport& report) {
    const auto& o = report.options;
    const PushReport& p = *report.push;
    const PushStats& s = p.subscribers;
    std::string url = o.urls.empty() ? "" : o.urls[0];
    if (url.find_first_of(",\"") != std::string::npos) {
        std::string quoted = "\"";
        for (char c : url) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        url = quoted + "\"";
    }
    const core::Histogram& h = s.latency;
    std::string row = fmt::format(
        "{},{},{},{},{},{:.3f},{},{},{},{},{},{},{},{:.2f},{},{},{},{},{},{},{},{},{},{},{},{}",
        url, transport_name(o.push.transport), o.push.subscribers, report.layout.threads,
        report.layout.processes, report.duration_s, o.push.publish_rate, o.push.message_size,
        s.connected, s.failed, s.open, s.reconnects, s.deliveries, p.deliveries_per_s,
        h.percentile(50), h.percentile(90), h.percentile(99), h.percentile(99.9), h.max(),
        p.spans.percentile(99), p.spans.max(), p.lost(), s.duplicates, s.history_lost,
        p.publisher.published, p.publisher.errors());
    if (report.server) {
        row += fmt::format(",{:.4f},{:.3f},{:.1f}", report.server->cpu_s, p.cpu_us_per_delivery,
                           p.rss_bytes_per_subscriber);
    } else {
        row += ",,,";
    }
    return row;
}

}  // namespace c10k::bench
