#pragma once
// The layer-4 relay's counters, for /metrics: each TcpLoop claims a slot and counts into it with
// plain relaxed adds, a scrape sums the slots (as proxy/board.hpp does for the HTTP proxy). The
// board is mapped before any fork, so every process of --processes counts into one sum. Open
// relays are kept as two counters that only grow (established and ended): their difference is
// the gauge.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/shared_slots.hpp"
#include "http/metrics.hpp"

namespace c10k::proxy::tcp {

/// One server's counters in one slot.
struct TcpServerCounters {
    http::Counter connects;          ///< relays established to the server
    http::Counter closes;            ///< of those, ended
    http::Counter connect_failures;  ///< connects refused, failed or timed out
    http::Counter bytes_to_server;
    http::Counter bytes_to_client;
};

/// The pool's own counters in one slot: clients closed at once, by reason.
struct TcpPoolCounters {
    http::Counter over_capacity;  ///< --max-connections relays were open already
    http::Counter unavailable;    ///< no server could take the client (all DOWN or failing)
};

struct TcpServerTotals {
    std::string name;
    std::uint64_t connects = 0;
    std::uint64_t connections = 0;  ///< open now
    std::uint64_t connect_failures = 0;
    std::uint64_t bytes_to_server = 0;
    std::uint64_t bytes_to_client = 0;
    bool up = true;  ///< by the active checks (always true without them)
};

struct TcpPoolTotals {
    std::string name;
    bool checked = false;  ///< active checks are on
    std::uint64_t over_capacity = 0;
    std::uint64_t unavailable = 0;
    std::vector<TcpServerTotals> servers;
};

class TcpBoard {
public:
    /// `slots`: writers (loops of every process) that get a slot of their own; more share one.
    TcpBoard(std::string pool, std::vector<std::string> servers, std::size_t slots = 1024);

    std::size_t servers() const { return server_names_.size(); }

    struct Slot {
        TcpPoolCounters* pool = nullptr;
        TcpServerCounters* servers = nullptr;  ///< servers() of them
    };
    Slot claim();
    void release(const Slot& slot);

    /// The checking loop publishes which servers its checks hold UP (a bit each), so that the
    /// process serving /metrics shows them whichever process checked.
    void set_health(std::uint64_t up_bits) {
        shared_->checked.store(true, std::memory_order_relaxed);
        shared_->up_bits.store(up_bits, std::memory_order_relaxed);
    }

    /// Sums every slot. Safe from any thread or process sharing the board.
    TcpPoolTotals totals() const;

private:
    struct Shared {
        std::atomic<bool> checked{false};
        std::atomic<std::uint64_t> up_bits{0};
    };
    std::string pool_name_;
    std::vector<std::string> server_names_;
    core::SharedSlots slots_;
    core::SharedSlots shared_slots_;  ///< one slot: Shared
    Shared* shared_;
};

}  // namespace c10k::proxy::tcp
