// The phases of an echo loop, as in ClientLoop: open the connections (handshakes included) in
// batches, wait for the common start, send on each connection's schedule through warm-up and
// the measured interval, then wait (bounded by --timeout) for the echoes still owed.

#include "bench/ws_echo_loop.hpp"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "core/clock.hpp"

namespace c10k::bench {
namespace {

constexpr std::int64_t housekeeping_interval_ns = 100'000'000;
constexpr int max_events = 512;

// std::push_heap builds a max-heap; this order turns it into a min-heap on due time.
constexpr auto later = [](const std::pair<std::int64_t, std::uint32_t>& a,
                          const std::pair<std::int64_t, std::uint32_t>& b) {
    return a.first > b.first;
};

}  // namespace

WsEchoLoop::WsEchoLoop(const BenchOptions& options, const std::vector<Target>& targets,
                       std::vector<ConnectionSpec> connections, std::uint32_t sending_total,
                       std::uint32_t loops_total, RunControl& control, LiveCounters& live)
    : options_(options),
      targets_(targets),
      control_(control),
      live_(live),
      sending_total_(std::max<std::uint32_t>(sending_total, 1)),
      loops_total_(std::max<std::uint32_t>(loops_total, 1)),
      ws_options_(ws_client_options()),
      conns_(connections.size()),
      deadlines_(connections.size()),
      read_buffer_(64 * 1024) {
    for (const auto& target : targets_) {
        Url url;
        std::string error;
        parse_url(target.url, url, error);  // parsed once already when the target was made
        requests_.push_back(make_ws_request(url, options.request, options.ws.deflate));
    }
    for (std::uint32_t i = 0; i < connections.size(); ++i) {
        EchoConnection& conn = conns_[i];
        conn.loop = this;
        conn.index = i;
        conn.target = connections[i].target;
        conn.source = connections[i].source;
        conn.generation = connections[i].global_index;  // any start value will do
        global_index_.push_back(connections[i].global_index);
        stats_.run.connections_target++;
    }
    callbacks_.on_head = &WsEchoLoop::head_thunk;
    callbacks_.on_body = &WsEchoLoop::body_thunk;
    callbacks_.on_complete = &WsEchoLoop::complete_thunk;
}

WsEchoStats WsEchoLoop::run() {
    // Timer slack decides how late a timed wakeup may be; the default 50 us would delay sends.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) {
        stats_.run.connections_failed = conns_.size();
        stats_.run.connect_failures[errno] += conns_.size();
        control_.ready.fetch_add(1);
        control_.finished.fetch_add(1);
        return std::move(stats_);
    }
    now_ns_ = core::monotonic_ns();
    open_initial();
    wait_for_start();
    run_schedule();
    drain();
    phase_ = Phase::done;
    for (auto& conn : conns_) {
        // Close abortively (RST) so that the client sockets do not sit in TIME_WAIT.
        if (conn.fd >= 0) {
            linger abort{1, 0};
            setsockopt(conn.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        }
        close_socket(conn);
    }
    publish_live();
    control_.finished.fetch_add(1);
    return std::move(stats_);
}

void WsEchoLoop::open_initial() {
    phase_ = Phase::connecting;
    std::uint32_t batch = std::max<std::uint32_t>(1, options_.connect_batch);
    std::size_t next = 0;
    while (next < conns_.size() || in_progress_ > 0) {
        if (control_.stop_ns.load() != 0) break;
        while (in_progress_ < batch && next < conns_.size()) {
            EchoConnection& conn = conns_[next++];
            start_connect(conn);
            store_deadline(conn);
        }
        wait_for_events(now_ns_ + 10'000'000);
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
    }
}

void WsEchoLoop::wait_for_start() {
    phase_ = Phase::waiting;
    // Closed connections may connect again from now on: their retry times become deadlines.
    store_all_deadlines();
    stats_.run.connections_failed = conns_.size() - open_;
    control_.ready.fetch_add(1);
    publish_live();
    while (control_.start_ns.load() == 0 && control_.stop_ns.load() == 0) {
        wait_for_events(now_ns_ + 2'000'000);
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
    }
}

void WsEchoLoop::run_schedule() {
    std::int64_t start = control_.start_ns.load();
    if (start == 0) start = now_ns_;
    measure_start_ns_ = start + options_.warmup_ns;
    measure_end_ns_ = measure_start_ns_ + options_.duration_ns;
    for (auto& conn : conns_) {
        if (!closed_loop()) {
            conn.schedule =
                ConnectionSchedule(options_.arrival, options_.rate, global_index_[conn.index],
                                   sending_total_, start, options_.seed);
            heap_.emplace_back(conn.schedule.next_ns(), conn.index);
        } else {
            heap_.emplace_back(start, conn.index);  // closed loop: a first kick at the start
        }
    }
    std::make_heap(heap_.begin(), heap_.end(), later);
    phase_ = Phase::running;
    while (true) {
        now_ns_ = core::monotonic_ns();
        std::int64_t stop = control_.stop_ns.load();
        if (stop != 0 && stop < measure_end_ns_)
            measure_end_ns_ = std::max(stop, measure_start_ns_);
        if (now_ns_ >= measure_end_ns_) break;
        fire_due_sends();
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
        std::int64_t until = std::min(measure_end_ns_, next_housekeeping_ns_);
        if (!heap_.empty()) until = std::min(until, heap_.front().first);
        wait_for_events(until);
    }
    stats_.run.connections_open = open_;
    heap_.clear();
}

void WsEchoLoop::fire_due_sends() {
    while (!heap_.empty() && heap_.front().first <= now_ns_) {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        auto [due, index] = heap_.back();
        heap_.pop_back();
        EchoConnection& conn = conns_[index];
        if (!closed_loop()) {
            if (due >= measure_end_ns_) continue;
            conn.queue.push_back(PendingRequest{due, 0});
            if (in_window(due)) stats_.ws.messages_sent++;
            conn.schedule.advance();
            if (conn.schedule.next_ns() < measure_end_ns_) {
                heap_.emplace_back(conn.schedule.next_ns(), index);
                std::push_heap(heap_.begin(), heap_.end(), later);
            }
        }
        pump(conn);
        store_deadline(conn);
    }
}

void WsEchoLoop::drain() {
    phase_ = Phase::draining;
    // Only connections that owe echoes are wanted now: closed ones that owe none have no
    // deadline any more.
    store_all_deadlines();
    // Messages intended before the end are owed an echo: wait for them, never longer than
    // --timeout (shorter after an interrupt).
    std::int64_t budget = options_.timeout_ns;
    if (control_.stop_ns.load() != 0) budget = std::min<std::int64_t>(budget, 500'000'000);
    std::int64_t deadline = now_ns_ + budget;
    while (now_ns_ < deadline) {
        // Nothing is queued while draining (no sends fire, closed loop adds none), so a
        // connection that owed nothing owes nothing later: look on from where the last look
        // stopped instead of over every connection each 10 ms.
        while (drained_before_ < conns_.size() && conns_[drained_before_].queued() == 0) {
            drained_before_++;
        }
        if (drained_before_ == conns_.size()) break;
        wait_for_events(std::min(deadline, now_ns_ + 10'000'000));
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
    }
    for (auto& conn : conns_) {
        while (conn.queued() > 0) {
            if (in_window(conn.front().intended_ns)) {
                stats_.run.count_error(ErrorKind::read_timeout);
            }
            conn.pop_front();
        }
        conn.in_flight = 0;
    }
}

bool WsEchoLoop::wants_connection(const EchoConnection& conn) const {
    switch (phase_) {
        case Phase::waiting:
        case Phase::running:
            return true;
        case Phase::draining:
            return conn.queued() > 0;
        case Phase::connecting:  // the batching loop decides
        case Phase::done:
            return false;
    }
    return false;
}

void WsEchoLoop::housekeeping() {
    next_housekeeping_ns_ = now_ns_ + housekeeping_interval_ns;
    // Only the connections whose deadline has come, as in ClientLoop and PushLoop: almost all
    // are open and waiting, and looking at each every 100 ms costs a cache miss per connection.
    deadlines_.sweep(now_ns_, [&](std::uint32_t index) {
        EchoConnection& conn = conns_[index];
        if (conn.state == ConnectionState::connecting ||
            (conn.state == ConnectionState::open && !conn.ws)) {
            // The connect and the handshake share --connect-timeout.
            if (now_ns_ - conn.connect_started_ns > options_.connect_timeout_ns) {
                connect_failed(conn, ETIMEDOUT);
            }
        } else if (conn.state == ConnectionState::open) {
            if (conn.in_flight > 0 && now_ns_ - conn.front().sent_ns > options_.timeout_ns) {
                fail_connection(conn, ErrorKind::read_timeout);
            }
        } else if (now_ns_ >= conn.retry_at_ns && wants_connection(conn)) {
            start_connect(conn);
        }
        store_deadline(conn);
    });
    publish_live();
}

std::int64_t WsEchoLoop::deadline_of(const EchoConnection& conn) const {
    // The first time at which housekeeping() would act on `conn` as it is now. The front
    // message is the oldest one sent; echoes only move it later.
    if (conn.state == ConnectionState::connecting ||
        (conn.state == ConnectionState::open && !conn.ws)) {
        return DeadlineTable::past(conn.connect_started_ns, options_.connect_timeout_ns);
    }
    if (conn.state == ConnectionState::open) {
        if (conn.in_flight == 0) return DeadlineTable::never;
        return DeadlineTable::past(conn.queue[conn.head].sent_ns, options_.timeout_ns);
    }
    // Closed: wanted again after a phase change (store_all_deadlines) or a queued message
    // (fire_due_sends stores the deadline after queueing).
    return wants_connection(conn) ? conn.retry_at_ns : DeadlineTable::never;
}

void WsEchoLoop::publish_live() {
    live_.requests.store(stats_.run.requests, std::memory_order_relaxed);
    live_.errors.store(stats_.run.total_errors(), std::memory_order_relaxed);
    live_.open.store(open_, std::memory_order_relaxed);
    if (now_ns_ >= next_p99_ns_) {
        next_p99_ns_ = now_ns_ + 1'000'000'000;
        live_.p99_us.store(static_cast<std::uint64_t>(stats_.run.corrected.percentile(99)),
                           std::memory_order_relaxed);
    }
}

void WsEchoLoop::wait_for_events(std::int64_t until_ns) {
    epoll_event events[max_events];
    std::int64_t wait_ns = std::max<std::int64_t>(0, until_ns - now_ns_);
    int ready = -1;
    if (pwait2_works_) {
        // Microsecond timeouts: epoll_wait's milliseconds would make sends up to 1 ms late.
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
        // An event changes only its own connection: store its deadline again (see
        // DeadlineTable), even for a stale event, where it is unchanged.
        auto index = static_cast<std::uint32_t>(events[i].data.u64 & 0xffffffffu);
        if (index < conns_.size()) store_deadline(conns_[index]);
    }
    reconnect_batch_.clear();
    reconnect_batch_.swap(reconnect_now_);
    for (std::uint32_t index : reconnect_batch_) {
        EchoConnection& conn = conns_[index];
        if (conn.state == ConnectionState::closed && now_ns_ >= conn.retry_at_ns &&
            wants_connection(conn)) {
            start_connect(conn);
        }
        store_deadline(conn);
    }
}

}  // namespace c10k::bench
