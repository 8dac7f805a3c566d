#include "bench/push_runner.hpp"

#include <strings.h>

#include <cstring>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "bench/coordinator.hpp"
#include "bench/layout.hpp"
#include "bench/publisher.hpp"
#include "bench/push_control.hpp"
#include "bench/push_loop.hpp"
#include "bench/push_message.hpp"
#include "core/clock.hpp"

namespace c10k::bench {
namespace {

bool has_header(const std::vector<std::string>& headers, const char* name) {
    std::size_t length = std::strlen(name);
    return std::any_of(headers.begin(), headers.end(), [&](const std::string& header) {
        return header.size() > length && header[length] == ':' &&
               ::strncasecmp(header.c_str(), name, length) == 0;
    });
}

/// The options a push run actually uses: its subscribers are the connections of the layout.
BenchOptions push_layout_options(const BenchOptions& options) {
    BenchOptions out = options;
    out.connections = options.push.subscribers;
    out.idle = 0;
    out.rate = 0;
    out.pipeline = 1;
    out.new_connection_per_request = false;
    return out;
}

/// Runs `count` loops from `first` in threads of this process and merges their counters.
PushStats run_push_loops(const BenchOptions& options, const std::vector<Target>& targets,
                         const std::vector<bool>& expected, const LoopPlan& plan,
                         std::uint32_t first, std::uint32_t count, std::int64_t realtime_offset,
                         SharedControl& shared, const PushControl& push) {
    std::vector<PushStats> results(count);
    std::vector<std::thread> threads;
    for (std::uint32_t i = 0; i < count; ++i) {
        threads.emplace_back([&, i] {
            PushLoop loop(options, targets, expected, plan.loops[first + i], plan.layout.threads,
                          realtime_offset, shared.control(), shared.live(first + i), push);
            results[i] = loop.run();
        });
    }
    for (auto& thread : threads) thread.join();
    PushStats merged;
    for (const auto& result : results) merged.merge(result);
    return merged;
}

std::vector<std::uint64_t> sorted_ids(std::vector<std::uint64_t> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

/// One URL's figures from its counters (`t`: the URL's own, or the run's with one URL).
PushTargetReport target_report(const std::string& url, const PushStats& t,
                               const std::vector<std::uint64_t>& acked,
                               const std::vector<std::uint64_t>& window) {
    PushTargetReport out;
    out.url = url;
    out.subscribers = t.subscribers;
    out.expected = t.saw_nothing;
    for (auto [id, count] : t.first_ids) out.expected += count;
    out.reconnects = t.reconnects;
    out.deliveries = t.deliveries;
    out.latency = t.latency;
    out.spans = span_histogram(t);
    out.gaps = t.gap_lost + skipped_messages(t, acked);
    out.unseen = unseen_messages(t, window);
    out.duplicates = t.duplicates;
    out.history_lost = t.history_lost;
    return out;
}

void fill_report(BenchReport& report, PushReport& push, std::int64_t measure_start,
                 std::int64_t measure_end) {
    PushStats& s = push.subscribers;
    // Every acknowledged id for jumps (a jump seen while counting skipped them, whenever they
    // were published); those of the interval for what subscribers never saw.
    std::vector<std::uint64_t> acked;
    std::vector<std::uint64_t> window;
    if (push.has_publisher) {
        for (auto [id, intended] : push.publisher.acked) {
            acked.push_back(id);
            if (intended >= measure_start && intended < measure_end) window.push_back(id);
        }
        acked = sorted_ids(std::move(acked));
        window = sorted_ids(std::move(window));
        push.window_ids = window.size();
        push.unseen = unseen_messages(s, window);
        push.skipped = skipped_messages(s, acked);
        push.publisher.acked.clear();
        push.publisher.acked.shrink_to_fit();
    }
    push.expected_subscribers = s.saw_nothing;
    for (auto [id, count] : s.first_ids) push.expected_subscribers += count;
    const auto& urls = report.options.urls;
    if (s.targets.empty()) {
        push.targets.push_back(target_report(urls.empty() ? "" : urls[0], s, acked, window));
    }
    for (std::size_t t = 0; t < s.targets.size(); ++t) {
        push.targets.push_back(
            target_report(t < urls.size() ? urls[t] : "", s.targets[t], acked, window));
        s.targets[t].spans.clear();
    }
    s.targets.clear();
    push.spans = span_histogram(s);
    if (s.spans.size() <= max_reported_messages) {
        for (const auto& [id, span] : s.spans) {
            push.messages.push_back(
                MessageReceipts{id, span.sent_ns, span.first_ns, span.last_ns, span.receipts,
                                std::binary_search(acked.begin(), acked.end(), id)});
        }
        std::sort(push.messages.begin(), push.messages.end(),
                  [](const MessageReceipts& a, const MessageReceipts& b) { return a.id < b.id; });
    } else {
        push.messages_omitted = true;
    }
    s.spans.clear();
    push.deliveries_per_s = report.duration_s > 0 ? s.deliveries / report.duration_s : 0;
    // The request-run counters that still mean something for subscribers.
    RunStats& r = report.stats;
    r.connections_target = s.subscribers;
    r.connections_open = s.open;
    r.connections_failed = s.failed;
    r.reconnects = s.reconnects;
    r.bytes_read = s.bytes_read;
    r.connect_failures = s.connect_failures;
}

}  // namespace

std::vector<Target> prepare_push_targets(const BenchOptions& options) {
    const PushOptions& push = options.push;
    if (push.transport == PushTransport::none) throw std::invalid_argument("not a push run");
    if (options.urls.empty()) throw std::invalid_argument("no URL to subscribe to");
    if (push.subscribers == 0)
        throw std::invalid_argument("--sse / --long-poll / --ws need at least 1 subscriber");
    if (options.duration_ns <= 0) throw std::invalid_argument("--duration must be positive");
    if (options.timeout_ns <= 0 || options.connect_timeout_ns <= 0) {
        throw std::invalid_argument("timeouts must be positive");
    }
    if (options.threads == 0) throw std::invalid_argument("--threads must be at least 1");
    if (push.connect_rate < 0 || !std::isfinite(push.connect_rate)) {
        throw std::invalid_argument(
            "--connect-rate must be a positive number of connections per second");
    }
    if (push.publish_url.empty()) {
        if (push.publish_rate != 0)
            throw std::invalid_argument("--publish-rate needs --publish URL");
    } else if (!(push.publish_rate > 0) || !std::isfinite(push.publish_rate) ||
               push.publish_rate > 1e6) {
        throw std::invalid_argument(
            "--publish needs --publish-rate R, from more than 0 to 1,000,000 messages/s");
    }
    if (push.message_size > (1u << 20)) {
        throw std::invalid_argument("--message-size above 1 MiB is not supported");
    }
    RequestSpec spec = options.request;
    spec.method = "GET";  // a subscription is a GET, whatever --method says
    spec.body.clear();
    spec.close_after = false;
    if (push.transport == PushTransport::sse && !has_header(spec.headers, "accept")) {
        spec.headers.push_back("Accept: text/event-stream");
    }
    std::vector<Target> targets;
    for (const auto& url : options.urls) {
        Target target;
        std::string error;
        if (!make_target(url, spec, target, error)) throw std::invalid_argument(error);
        targets.push_back(std::move(target));
    }
    return targets;
}

BenchReport run_push(const BenchOptions& given) {
    std::vector<Target> targets = prepare_push_targets(given);
    BenchOptions options = push_layout_options(given);
    const PushOptions& push_options = options.push;
    bool publishing = !push_options.publish_url.empty();
    PublishTarget publish_target;
    if (publishing) {
        std::string error;
        if (!make_publish_target(push_options, publish_target, error)) {
            throw std::invalid_argument(error);
        }
    }
    std::vector<bool> expected;
    std::string channel = publishing ? channel_of(push_options.publish_url) : std::string();
    for (const auto& target : targets) {
        expected.push_back(publishing && channel_of(target.url) == channel);
    }

    BenchReport report;
    report.options = options;
    LoopPlan plan = plan_loops(options, targets, raise_descriptor_limit(), ephemeral_port_budget());
    report.layout = plan.layout;
    report.warnings = plan.warnings;
    if (publishing && std::none_of(expected.begin(), expected.end(), [](bool e) { return e; })) {
        report.warnings.push_back(fmt::format(
            "no subscribe URL names the publisher's channel '{}': messages never seen are not "
            "counted",
            channel));
    }
    std::vector<pid_t> server_pids(options.server_pids.begin(), options.server_pids.end());
    ProcSample before = server_pids.empty() ? ProcSample{} : sample_processes(server_pids);

    // One offset for every clock conversion of the run: the publisher stamps `t=` with it and
    // the loops bound the measured interval with it, in this process and in forked ones.
    std::int64_t realtime_offset = realtime_ns() - core::monotonic_ns();
    SharedControl shared(plan.layout.threads);
    SharedPushControl push_shared;
    PushControl& push_control = push_shared.get();
    if (!publishing) push_control.publisher_done.store(1);
    RunControl& control = shared.control();

    std::vector<Worker> workers;
    std::thread local;
    PushStats local_stats;
    if (plan.layout.processes == 1) {
        local = std::thread([&] {
            local_stats = run_push_loops(options, targets, expected, plan, 0, plan.layout.threads,
                                         realtime_offset, shared, push_control);
        });
    } else {
        for (std::uint32_t p = 0; p < plan.layout.processes; ++p) {
            workers.push_back(fork_worker(
                [&, p] {
                    return run_push_loops(options, targets, expected, plan,
                                          p * plan.loops_per_process, plan.loops_per_process,
                                          realtime_offset, shared, push_control)
                        .serialize();
                },
                workers));
        }
    }
    // The publisher thread starts after the forks: a child gets only the thread that forked.
    PublisherStats publisher_stats;
    std::thread publisher_thread;
    if (publishing) {
        publisher_thread = std::thread([&] {
            Publisher publisher(options, publish_target, realtime_offset, control, push_control);
            publisher_stats = publisher.run();
        });
    }

    Progress progress(options.progress, shared, "deliveries/s");
    MeasuredInterval interval =
        run_interval(options, plan.layout.threads, control, progress, server_pids, before);

    if (publisher_thread.joinable()) publisher_thread.join();
    PushReport push;
    if (local.joinable()) {
        local.join();
        push.subscribers = std::move(local_stats);
    } else {
        collect_workers(workers, core::monotonic_ns() + options.timeout_ns + 60'000'000'000LL);
        for (std::size_t p = 0; p < workers.size(); ++p) {
            PushStats stats;
            if (!stats.deserialize(workers[p].bytes)) {
                report.warnings.push_back(fmt::format(
                    "worker process {} of {} sent no results (it died or timed out); its "
                    "subscribers are missing from the figures",
                    p + 1, workers.size()));
                continue;
            }
            push.subscribers.merge(stats);
        }
    }
    push.has_publisher = publishing;
    push.publisher = std::move(publisher_stats);
    report.duration_s =
        static_cast<double>(interval.measure_end_ns - interval.measure_start_ns) / 1e9;
    fill_report(report, push, interval.measure_start_ns, interval.measure_end_ns);

    if (!server_pids.empty()) {
        ServerStats server;
        server.pids.assign(server_pids.begin(), server_pids.end());
        server.processes = interval.at_end.processes;
        server.cpu_s = std::max(0.0, interval.at_end.cpu_s - interval.at_start.cpu_s);
        server.rss_kb = interval.at_end.rss_kb;
        server.rss_kb_before = before.rss_kb;
        double held =
            (static_cast<double>(interval.at_end.rss_kb) - static_cast<double>(before.rss_kb)) *
            1024.0;
        std::uint64_t deliveries = push.subscribers.deliveries;
        push.cpu_us_per_delivery = deliveries ? server.cpu_s * 1e6 / deliveries : 0;
        push.rss_bytes_per_subscriber = held / push_options.subscribers;
        server.rss_bytes_per_connection = push.rss_bytes_per_subscriber;
        if (interval.at_end.processes == 0) {
            report.warnings.push_back("no server process found for --server-pid");
        }
        report.server = server;
    }
    const PushStats& s = push.subscribers;
    if (s.failed > 0) {
        report.warnings.push_back(
            fmt::format("{} of {} subscribers were not subscribed when the "
                        "run started",
                        s.failed, s.subscribers));
    }
    if (s.open < s.subscribers) {
        report.warnings.push_back(
            fmt::format("only {} of {} subscribers were subscribed at the "
                        "end",
                        s.open, s.subscribers));
    }
    if (publishing && push.publisher.errors() > 0) {
        report.warnings.push_back(fmt::format("{} publishes failed", push.publisher.errors()));
    }
    if (s.deliveries > 0 && s.latency.count() == 0) {
        report.warnings.push_back("no delivered message began with t=<ns>: no latency measured");
    }
    if (options.push.transport == PushTransport::websocket) report.websocket = push.subscribers.ws;
    report.push = std::move(push);
    return report;
}

}  // namespace c10k::bench
