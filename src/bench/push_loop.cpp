// The phases of a push loop: open the subscribers (paced by --connect-rate and --connect-batch),
// wait for the common start, run through warm-up and the measured interval, then drain until
// every subscriber has seen the last message the server acknowledged (bounded by --timeout).

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "bench/push_loop.hpp"
#include "core/clock.hpp"

namespace c10k::bench {
namespace {

constexpr std::int64_t housekeeping_interval_ns = 100'000'000;
constexpr int max_events = 512;

}  // namespace

PushLoop::PushLoop(const BenchOptions& options, const std::vector<Target>& targets,
                   const std::vector<bool>& expected, std::vector<ConnectionSpec> subscribers,
                   std::uint32_t loops_total, std::int64_t realtime_offset_ns, RunControl& control,
                   LiveCounters& live, const PushControl& push)
    : options_(options),
      targets_(targets),
      control_(control),
      live_(live),
      push_(push),
      loops_total_(std::max<std::uint32_t>(loops_total, 1)),
      realtime_offset_ns_(realtime_offset_ns),
      subs_(subscribers.size()),
      deadlines_(subscribers.size()),
      read_buffer_(64 * 1024) {
    for (const auto& target : targets_) {
        // A GET without a body ends in the blank line; the per-request headers go before it.
        std::string head = target.request;
        if (head.size() >= 2) head.resize(head.size() - 2);
        request_heads_.push_back(std::move(head));
        if (options.push.transport == PushTransport::websocket) {
            // The URL parsed when the target was made: it cannot fail here.
            Url url;
            std::string error;
            parse_url(target.url, url, error);
            ws_requests_.push_back(make_ws_request(url, options.request, options.ws.deflate));
        }
    }
    ws_options_ = ws_client_options();
    for (std::uint32_t i = 0; i < subscribers.size(); ++i) {
        Subscriber& sub = subs_[i];
        sub.index = i;
        sub.target = subscribers[i].target;
        sub.source = subscribers[i].source;
        sub.expected = sub.target < expected.size() && expected[sub.target];
        sub.generation = subscribers[i].global_index;  // any start value will do
    }
    stats_.subscribers = subs_.size();
    if (targets_.size() > 1) {
        stats_.targets.resize(targets_.size());
        for (const auto& sub : subs_) stats_.targets[sub.target].subscribers++;
    }
    callbacks_.on_head = &PushLoop::head_thunk;
    callbacks_.on_body = &PushLoop::body_thunk;
    callbacks_.on_complete = &PushLoop::complete_thunk;
}

PushStats PushLoop::run() {
    // Timer slack decides how late a timed wakeup may be; the default 50 us would blur pacing.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) {
        stats_.failed = subs_.size();
        stats_.connect_failures[errno] += subs_.size();
        control_.ready.fetch_add(1);
        control_.finished.fetch_add(1);
        return std::move(stats_);
    }
    now_ns_ = core::monotonic_ns();
    open_initial();
    wait_for_start();
    run_measured();
    drain();
    phase_ = Phase::done;
    for (auto& sub : subs_) {
        // Close abortively (RST) so that 100,000 client sockets do not sit in TIME_WAIT.
        if (sub.fd >= 0) {
            linger abort{1, 0};
            setsockopt(sub.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        }
        close_socket(sub);
    }
    final_counts();
    publish_live();
    control_.finished.fetch_add(1);
    return std::move(stats_);
}

void PushLoop::open_initial() {
    phase_ = Phase::connecting;
    // --connect-rate is for the whole run; each loop opens its share at its share of the rate.
    double rate = options_.push.connect_rate / loops_total_;
    std::int64_t begin = now_ns_;
    auto due = [&](std::size_t k) {
        return begin + static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / rate);
    };
    std::uint32_t batch = std::max<std::uint32_t>(1, options_.connect_batch);
    std::size_t next = 0;
    while (next < subs_.size() || in_progress_ > 0) {
        if (control_.stop_ns.load() != 0) break;
        while (in_progress_ < batch && next < subs_.size() && (rate <= 0 || due(next) <= now_ns_)) {
            Subscriber& sub = subs_[next++];
            start_connect(sub);
            store_deadline(sub);
        }
        std::int64_t until = now_ns_ + 10'000'000;
        if (rate > 0 && next < subs_.size() && in_progress_ < batch) {
            until = std::min(until, due(next));
        }
        wait_for_events(until);
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
    }
}

void PushLoop::wait_for_start() {
    phase_ = Phase::waiting;
    // Closed subscribers may connect again from now on: their retry times become deadlines.
    for (const auto& sub : subs_) store_deadline(sub);
    stats_.connected = open_;
    stats_.failed = subs_.size() - open_;
    control_.ready.fetch_add(1);
    publish_live();
    while (control_.start_ns.load() == 0 && control_.stop_ns.load() == 0) {
        wait_for_events(now_ns_ + 2'000'000);
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
    }
}

void PushLoop::run_measured() {
    std::int64_t start = control_.start_ns.load();
    if (start == 0) start = now_ns_;
    measure_start_ns_ = start + options_.warmup_ns;
    measure_end_ns_ = measure_start_ns_ + options_.duration_ns;
    phase_ = Phase::running;
    while (true) {
        now_ns_ = core::monotonic_ns();
        std::int64_t stop = control_.stop_ns.load();
        if (stop != 0 && stop < measure_end_ns_)
            measure_end_ns_ = std::max(stop, measure_start_ns_);
        if (now_ns_ >= measure_end_ns_) break;
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
        wait_for_events(std::min(measure_end_ns_, next_housekeeping_ns_));
    }
    stats_.open = open_;
}

bool PushLoop::caught_up() {
    std::uint64_t final_id = push_.final_id.load();
    if (final_id == 0) return true;
    auto done = [&](const Subscriber& sub) {
        return !sub.expected || !sub.ever_subscribed || (sub.have_id && sub.last_id >= final_id);
    };
    // Asked every 10 ms while draining: resume where the last look stopped instead of starting
    // over from the first subscriber. A subscriber once caught up can fall back (a resync, a
    // later final id), so "all caught up" is only said after one whole pass confirms it.
    while (caught_up_before_ < subs_.size() && done(subs_[caught_up_before_])) caught_up_before_++;
    if (caught_up_before_ < subs_.size()) return false;
    auto behind = std::find_if_not(subs_.begin(), subs_.end(), done);
    caught_up_before_ = static_cast<std::size_t>(behind - subs_.begin());
    return behind == subs_.end();
}

void PushLoop::drain() {
    phase_ = Phase::draining;
    // Messages published just before the end are still on their way: wait until every
    // subscriber has the last one the server acknowledged, never longer than --timeout (shorter
    // after an interrupt). Without a publisher there is nothing to wait for.
    if (options_.push.publish_url.empty()) return;
    std::int64_t budget = options_.timeout_ns;
    if (control_.stop_ns.load() != 0) budget = std::min<std::int64_t>(budget, 500'000'000);
    std::int64_t deadline = now_ns_ + budget;
    while (now_ns_ < deadline) {
        if (push_.publisher_done.load() != 0 && caught_up()) break;
        wait_for_events(std::min(deadline, now_ns_ + 10'000'000));
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
    }
}

void PushLoop::final_counts() {
    for (const auto& sub : subs_) {
        stats_.heartbeats += sub.sse.comments();
        if (!sub.expected) continue;
        count(sub, [&](PushStats& s) {
            if (sub.have_id) {
                s.first_ids[sub.first_id]++;
                s.last_ids[sub.last_id]++;
            } else {
                s.saw_nothing++;
            }
        });
    }
}

void PushLoop::housekeeping() {
    next_housekeeping_ns_ = now_ns_ + housekeeping_interval_ns;
    // Only the subscribers whose deadline has come: almost all are open and idle, and looking
    // at each of them every 100 ms cost a cache miss per subscriber (the largest user-space
    // cost of a 100,000-subscriber run). The checks are those made before, for the due ones.
    deadlines_.sweep(now_ns_, [&](std::uint32_t index) {
        Subscriber& sub = subs_[index];
        if (sub.state == ConnectionState::connecting ||
            (sub.state == ConnectionState::open && sub.settling)) {
            // The connect and, for SSE, the answer to the subscribe share --connect-timeout.
            if (now_ns_ - sub.connect_started_ns > options_.connect_timeout_ns) {
                connect_failed(sub, ETIMEDOUT);
            }
        } else if (sub.state == ConnectionState::open) {
            if (sub.poll_due_ns() != 0 && now_ns_ >= sub.poll_due_ns()) send_request(sub);
        } else {
            maybe_reconnect(sub);
        }
        store_deadline(sub);
    });
    publish_live();
}

std::int64_t PushLoop::deadline_of(const Subscriber& sub) const {
    // The first time at which housekeeping() would act on `sub` as it is now.
    if (sub.state == ConnectionState::connecting ||
        (sub.state == ConnectionState::open && sub.settling)) {
        return DeadlineTable::past(sub.connect_started_ns, options_.connect_timeout_ns);
    }
    if (sub.state == ConnectionState::open) {
        return sub.poll_due_ns() != 0 ? sub.poll_due_ns() : DeadlineTable::never;
    }
    // Closed: wait_for_start() stores every deadline again when reconnects become wanted.
    return reconnects_wanted() ? sub.retry_at_ns : DeadlineTable::never;
}

void PushLoop::publish_live() {
    live_.requests.store(stats_.deliveries, std::memory_order_relaxed);
    live_.errors.store(stats_.gap_lost + stats_.duplicates + stats_.protocol_errors,
                       std::memory_order_relaxed);
    live_.open.store(open_, std::memory_order_relaxed);
    if (now_ns_ >= next_p99_ns_) {
        next_p99_ns_ = now_ns_ + 1'000'000'000;
        live_.p99_us.store(static_cast<std::uint64_t>(stats_.latency.percentile(99)),
                           std::memory_order_relaxed);
    }
}

void PushLoop::wait_for_events(std::int64_t until_ns) {
    epoll_event events[max_events];
    std::int64_t wait_ns = std::max<std::int64_t>(0, until_ns - now_ns_);
    int ready = -1;
    if (pwait2_works_) {
        timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                         static_cast<long>(wait_ns % 1'000'000'000)};
        ready = epoll_pwait2(epoll_.get(), events, max_events, &timeout, nullptr);
        if (ready < 0 && errno == ENOSYS) pwait2_works_ = false;
    }
    if (!pwait2_works_) {
        ready = epoll_wait(epoll_.get(), events, max_events,
                           static_cast<int>((wait_ns + 999'999) / 1'000'000));
    }
    now_ns_ = core::monotonic_ns();
    for (int i = 0; i < ready; ++i) {
        handle_event(events[i].data.u64, events[i].events);
        // An event changes only its own subscriber: store its deadline again (see
        // DeadlineTable), even for a stale event, where it is unchanged.
        auto index = static_cast<std::uint32_t>(events[i].data.u64 & 0xffffffffu);
        if (index < subs_.size()) store_deadline(subs_[index]);
    }
    // Resubscribe those whose stream ended; a refused one waits for its retry time.
    reconnect_batch_.clear();
    reconnect_batch_.swap(reconnect_now_);
    for (std::uint32_t index : reconnect_batch_) {
        maybe_reconnect(subs_[index]);
        store_deadline(subs_[index]);
    }
}

}  // namespace c10k::bench
