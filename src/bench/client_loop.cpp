#include "bench/client_loop.hpp"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <stdexcept>

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

ClientLoop::ClientLoop(const BenchOptions& options, const std::vector<Target>& targets,
                       std::vector<ConnectionSpec> connections, std::uint32_t sending_total,
                       RunControl& control, LiveCounters& live)
    : options_(options),
      targets_(targets),
      control_(control),
      live_(live),
      sending_total_(sending_total),
      depth_(options.new_connection_per_request ? 1 : std::max<std::uint32_t>(1, options.pipeline)),
      conns_(connections.size()),
      deadlines_(connections.size()),
      read_buffer_(64 * 1024) {
    for (std::uint32_t i = 0; i < connections.size(); ++i) {
        Connection& conn = conns_[i];
        conn.loop = this;
        conn.index = i;
        conn.target = connections[i].target;
        conn.source = connections[i].source;
        conn.idle = connections[i].idle;
        // The schedule is rebuilt at the common start; the index is kept in it meanwhile.
        conn.schedule = ConnectionSchedule(options.arrival, options.rate > 0 ? options.rate : 1,
                                           connections[i].global_index,
                                           std::max<std::uint32_t>(sending_total, 1), 0,
                                           options.seed);
        conn.generation = connections[i].global_index;  // any start value will do
        stats_.connections_target++;
        if (conn.idle) stats_.connections_idle++;
    }
    global_index_.reserve(connections.size());
    for (const auto& spec : connections) global_index_.push_back(spec.global_index);
}

RunStats ClientLoop::run() {
    // Timer slack decides how late a timed wakeup may be; the default 50 us would delay sends.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) {
        // Nothing can be measured without a poller; report every connection as failed.
        stats_.connections_failed = conns_.size();
        stats_.connect_failures[errno] += conns_.size();
        control_.ready.fetch_add(1);
        control_.finished.fetch_add(1);
        return std::move(stats_);
    }
    now_ns_ = core::monotonic_ns();
    open_initial_connections();
    wait_for_start();
    run_schedule();
    drain();
    for (auto& conn : conns_) {
        // At the end, close abortively (RST): a normal close leaves the client side of every
        // connection in TIME_WAIT for a minute, holding ports that the next run would need.
        if (conn.fd >= 0) {
            linger abort{1, 0};
            setsockopt(conn.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        }
        close_socket(conn);
    }
    phase_ = Phase::done;
    publish_live();
    control_.finished.fetch_add(1);
    return std::move(stats_);
}

void ClientLoop::open_initial_connections() {
    phase_ = Phase::connecting;
    std::vector<std::uint32_t> order;
    for (auto& conn : conns_) {
        // One-request-per-connection mode connects when a request is due, idle ones always.
        if (conn.idle || !options_.new_connection_per_request) order.push_back(conn.index);
    }
    std::size_t next = 0;
    while (next < order.size() || connecting_ > 0) {
        if (control_.stop_ns.load() != 0) break;
        while (connecting_ < std::max<std::uint32_t>(1, options_.connect_batch) &&
               next < order.size()) {
            Connection& conn = conns_[order[next++]];
            start_connect(conn);
            store_deadline(conn);
        }
        wait_for_events(now_ns_ + 10'000'000);
        housekeeping();
    }
}

void ClientLoop::wait_for_start() {
    phase_ = Phase::waiting;
    store_all_deadlines();
    control_.ready.fetch_add(1);
    publish_live();
    // Connections stay serviced while waiting (a server may close some); 2 ms steps are plenty.
    while (control_.start_ns.load() == 0 && control_.stop_ns.load() == 0) {
        wait_for_events(now_ns_ + 2'000'000);
        housekeeping();
    }
}

void ClientLoop::run_schedule() {
    std::int64_t start = control_.start_ns.load();
    if (start == 0) start = now_ns_;
    measure_start_ns_ = start + options_.warmup_ns;
    measure_end_ns_ = measure_start_ns_ + options_.duration_ns;
    for (auto& conn : conns_) {
        if (conn.idle) continue;
        if (!closed_loop()) {
            conn.schedule = ConnectionSchedule(options_.arrival, options_.rate,
                                               global_index_[conn.index], sending_total_, start,
                                               options_.seed);
            heap_.emplace_back(conn.schedule.next_ns(), conn.index);
        } else {
            heap_.emplace_back(start, conn.index);  // closed loop: a first kick at the start
        }
    }
    std::make_heap(heap_.begin(), heap_.end(), later);
    phase_ = Phase::running;
    store_all_deadlines();
    while (true) {
        now_ns_ = core::monotonic_ns();
        std::int64_t stop = control_.stop_ns.load();
        if (stop != 0 && stop < measure_end_ns_) {
            measure_end_ns_ = stop;
        }
        if (now_ns_ >= measure_end_ns_) break;
        fire_due_sends();
        if (now_ns_ >= next_housekeeping_ns_) housekeeping();
        std::int64_t until = std::min(measure_end_ns_, next_housekeeping_ns_);
        if (!heap_.empty()) until = std::min(until, heap_.front().first);
        wait_for_events(until);
    }
    stats_.connections_open = open_;
    heap_.clear();
}

void ClientLoop::fire_due_sends() {
    while (!heap_.empty() && heap_.front().first <= now_ns_) {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        auto [due, index] = heap_.back();
        heap_.pop_back();
        Connection& conn = conns_[index];
        if (!closed_loop()) {
            if (due >= measure_end_ns_) continue;
            conn.push(PendingRequest{due, 0});
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

void ClientLoop::drain() {
    phase_ = Phase::draining;
    store_all_deadlines();
    // Requests intended before the end are still owed an answer: wait for them, but never
    // longer than the read timeout (shorter when the run was interrupted).
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
            fail_request(conn.front(), ErrorKind::read_timeout);
            conn.pop_front();
        }
        conn.in_flight = 0;
    }
}

bool ClientLoop::wants_connection(const Connection& conn) const {
    switch (phase_) {
        case Phase::connecting: return false;  // the batching loop decides
        case Phase::waiting:
        case Phase::running:
            return conn.idle || !options_.new_connection_per_request || conn.queued() > 0 ||
                   (closed_loop() && phase_ == Phase::running);
        case Phase::draining: return conn.queued() > 0;
        case Phase::done: return false;
    }
    return false;
}

void ClientLoop::housekeeping() {
    next_housekeeping_ns_ = now_ns_ + housekeeping_interval_ns;
    // Only the connections whose deadline has come, not every connection each time (a cache
    // miss per connection, 20,000 per loop): the checks are those made before, for the due ones.
    deadlines_.sweep(now_ns_, [&](std::uint32_t index) {
        Connection& conn = conns_[index];
        if (conn.state == ConnectionState::connecting) {
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

std::int64_t ClientLoop::deadline_of(const Connection& conn) const {
    // The first time at which housekeeping() would act on `conn` as it is now. The front
    // request is the oldest one written; answers only move it later.
    if (conn.state == ConnectionState::connecting) {
        return DeadlineTable::past(conn.connect_started_ns, options_.connect_timeout_ns);
    }
    if (conn.state == ConnectionState::open) {
        if (conn.in_flight == 0) return DeadlineTable::never;
        return DeadlineTable::past(conn.queue[conn.head].sent_ns, options_.timeout_ns);
    }
    // Closed: wanted again after a phase change (store_all_deadlines) or a queued request
    // (fire_due_sends stores the deadline after queueing).
    return wants_connection(conn) ? conn.retry_at_ns : DeadlineTable::never;
}

void ClientLoop::publish_live() {
    live_.requests.store(stats_.requests, std::memory_order_relaxed);
    live_.errors.store(stats_.total_errors(), std::memory_order_relaxed);
    live_.open.store(open_, std::memory_order_relaxed);
    if (now_ns_ >= next_p99_ns_) {
        next_p99_ns_ = now_ns_ + 1'000'000'000;
        live_.p99_us.store(static_cast<std::uint64_t>(stats_.corrected.percentile(99)),
                           std::memory_order_relaxed);
    }
}

void ClientLoop::wait_for_events(std::int64_t until_ns) {
    epoll_event events[max_events];
    std::int64_t wait_ns = std::max<std::int64_t>(0, until_ns - now_ns_);
    int ready = -1;
    if (pwait2_works_) {
        // epoll_pwait2 takes a timespec: sends are timed to the microsecond, where epoll_wait's
        // milliseconds would make each send up to 1 ms late and inflate corrected latency.
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
    if (ready > 0) now_ns_ = core::monotonic_ns();
}

}  // namespace c10k::bench
