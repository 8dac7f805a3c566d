#pragma once
// The proxy's counters, per pool and per server, for /metrics and /status.json: each loop's
// ProxyHandler claims a slot of its pool's board and counts into it with plain relaxed adds (as
// http::MetricsBoard does for the server's own counters); a scrape sums the slots. The board is
// mapped before any fork, so the processes of --processes and the blocking engines' workers all
// count into one sum. Gauges are kept as two counters that only grow (requests started and
// finished, connections opened and closed): their difference is the gauge, and a slot given up
// by one writer and taken by the next stays consistent. The active checks' view of a server is
// the exception, a state rather than a count: the checking loop writes it into its own slot and
// resets it when it stops, so a slot passed on never carries a stale view.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/shared_slots.hpp"
#include "http/metrics.hpp"

namespace c10k::proxy {

/// What ServerCounters::health holds (zero-filled memory is kUnchecked).
enum HealthView : std::uint32_t { kUnchecked = 0, kCheckedUp = 1, kCheckedDown = 2 };

/// One server's counters in one slot.
struct ServerCounters {
    http::Counter requests;   ///< attempts sent (or about to be) to the server
    http::Counter finished;   ///< attempts ended, however
    http::Counter responses;  ///< complete responses relayed
    http::Counter failures;   ///< attempts that failed (connect, reset, timeout, bad response)
    http::Counter retries;    ///< requests sent elsewhere after failing here
    http::Counter ejections;  ///< times taken out of the pool for failing
    http::Counter connects;   ///< connections opened (each a reconnect cost)
    http::Counter closes;     ///< connections closed
    http::Counter response_5xx;
    /// Active checks, counted by the one loop per process that runs them (HealthChecker).
    http::Counter checks_passed;
    http::Counter checks_failed;
    http::Counter went_down;  ///< UP to DOWN by the rise/fall rule
    http::Counter came_up;    ///< DOWN to UP
    /// The checking loop's view now, a HealthView; kUnchecked in every other loop's slot.
    std::atomic<std::uint32_t> health{kUnchecked};
    /// Passive ejection: this loop has the server out until then (monotonic ms), so that a
    /// scrape can tell how many loops have it out now without asking them.
    std::atomic<std::int64_t> ejected_until_ms{0};
};

/// One pool's own counters in one slot.
struct PoolCounters {
    http::Counter queued;          ///< requests that waited for a connection
    http::Counter queue_full;      ///< refused with 503: the queue was full
    http::Counter queue_timeouts;  ///< refused with 503: no connection came free in time
    http::Counter unavailable;     ///< no server could take the request (502/503)
    http::Counter total_timeouts;  ///< ended by --total-timeout (504, or a cut stream)
};

struct ServerTotals {
    std::string name;
    std::uint64_t requests = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t responses = 0;
    std::uint64_t failures = 0;
    std::uint64_t retries = 0;
    std::uint64_t ejections = 0;
    std::uint64_t connects = 0;
    std::uint64_t connections = 0;  ///< open now
    std::uint64_t response_5xx = 0;
    bool draining = false;
    /// DOWN as soon as one process's checks have it DOWN (with --processes each process checks
    /// on its own; they agree within an interval or so), else UP when some process checks it.
    enum class Health : std::uint8_t { unchecked, up, down };
    Health health = Health::unchecked;
    std::uint64_t checks_passed = 0;  ///< summed over processes: the checks the server got
    std::uint64_t checks_failed = 0;
    std::uint64_t went_down = 0;
    std::uint64_t came_up = 0;
    std::uint64_t ejected = 0;  ///< loops (of every process) that have it ejected now
};

struct PoolTotals {
    std::string name;
    std::uint64_t queued = 0;
    std::uint64_t queue_full = 0;
    std::uint64_t queue_timeouts = 0;
    std::uint64_t unavailable = 0;
    std::uint64_t total_timeouts = 0;
    std::vector<ServerTotals> servers;
};

class PoolBoard {
public:
    /// Slots beyond which writers share one (see core::SharedSlots).
    static constexpr std::size_t kDefaultSlots = 1024;

    PoolBoard(std::string name, std::vector<std::string> servers,
              std::size_t slots = kDefaultSlots);

    const std::string& name() const { return name_; }
    std::size_t servers() const { return server_names_.size(); }

    /// One loop's counters, until release().
    struct Slot {
        PoolCounters* pool = nullptr;
        ServerCounters* servers = nullptr;  ///< servers() of them
    };
    Slot claim();
    void release(const Slot& slot);

    /// Sums every slot; `now_ms` (monotonic) tells which ejections are in force. Safe from any
    /// thread or process sharing the board.
    PoolTotals totals(std::int64_t now_ms = core::monotonic_ms()) const;

    /// The servers an operator is draining (a bit each): they take no new request, and those
    /// in flight finish. Shared by every loop and process, set from the admin listener.
    std::uint64_t draining() const { return shared_->draining.load(std::memory_order_relaxed); }
    /// Drains server `index` (or makes it take requests again). False for no such server.
    bool set_draining(std::size_t index, bool drain);
    /// The server named so (as written in --backend), or -1.
    int find(std::string_view server) const;

private:
    struct Shared {
        std::atomic<std::uint64_t> draining{0};
    };
    std::string name_;
    std::vector<std::string> server_names_;
    core::SharedSlots slots_;
    core::SharedSlots shared_slots_;  ///< one slot: the pool's Shared state
    Shared* shared_;
};

}  // namespace c10k::proxy
