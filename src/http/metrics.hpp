#pragma once
// Counters for /metrics that cost the hot path nothing but a plain add: each event loop (or
// thread or process serving connections) writes its own slot of a MetricsBoard, with relaxed
// atomic loads and stores that compile to ordinary moves, and a scrape sums the slots. The board
// lives in shared memory made before any fork, so the slots of prefork workers, fork-per-client
// children and the processes of a --processes group are all in the one sum.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/shared_slots.hpp"

namespace c10k::http {

/// Why the engine closed a connection for lack of progress (the Session's phase at the time).
enum class TimeoutKind : std::uint8_t { idle, header, body, send, count };

/// Upper bounds (milliseconds) of the response latency histogram's buckets; the last bucket
/// (+Inf) takes the rest. Latency runs from a request's first byte to its response head being
/// queued, on the loop's clock (1 ms resolution).
inline constexpr std::int64_t kLatencyBucketsMs[] = {1,   2,   5,    10,   25,   50,   100,
                                                     250, 500, 1000, 2500, 5000, 10000};
inline constexpr std::size_t kLatencyBuckets = std::size(kLatencyBucketsMs) + 1;

/// The staged engine's stages (engine/staged_engine.cpp), as /metrics labels them.
inline constexpr const char* kStageNames[] = {"handler", "file"};
inline constexpr std::size_t kStages = std::size(kStageNames);

/// A counter with one writer at a time. add() is a relaxed load and store (no lock prefix);
/// readers in other threads or processes see a recent value, never a torn one.
class Counter {
public:
    void add(std::uint64_t n = 1) {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// One writer's counters. Only ever grow: a slot released by one writer and claimed by the
/// next keeps counting from where it was, so the board's sums never go back.
struct LoopMetrics {
    static constexpr int kFirstStatus = 100;
    static constexpr int kStatuses = 500;  ///< 100..599

    void count_status(int status) {
        if (status >= kFirstStatus && status < kFirstStatus + kStatuses)
            responses[status - kFirstStatus].add();
    }
    void count_latency(std::int64_t ms) {
        std::size_t i = 0;
        while (i + 1 < kLatencyBuckets && ms > kLatencyBucketsMs[i]) ++i;
        latency[i].add();
        latency_sum_ms.add(static_cast<std::uint64_t>(ms < 0 ? 0 : ms));
    }

    Counter responses[kStatuses];
    Counter latency[kLatencyBuckets];  ///< per bucket, not cumulative
    Counter latency_sum_ms;
    Counter bytes_received;
    Counter bytes_sent;
    Counter connections_opened;
    Counter connections_closed;
    Counter deferred_started;  ///< responses deferred (long-poll, streams, upgrades)
    Counter deferred_ended;
    Counter timeouts[static_cast<std::size_t>(TimeoutKind::count)];
    Counter protocol_errors;  ///< requests refused as malformed or too large (4xx from the parser)
    Counter push_subscribed;
    Counter push_unsubscribed;
    Counter push_delivered;
    Counter push_closed_slow;
    /// File ranges a disk helper read into the page cache for an event loop (docs/AMPED.md).
    Counter disk_helper_reads;
    /// Helper reads that came back short or failed: the connection was closed.
    Counter disk_helper_failures;
    /// The staged engine's stages; written by its controller thread, which holds a slot of
    /// its own (so a staged server counts one more writer in c10k_loops).
    Counter stage_enqueued[kStages];
    Counter stage_dequeued[kStages];
    Counter stage_wait_us[kStages];  ///< summed queueing delay of what was dequeued
    Counter stage_threads_started[kStages];
    Counter stage_threads_stopped[kStages];
    Counter overload_shed_requests;     ///< answered 503 by overload control (--overload-target)
    Counter overload_shed_connections;  ///< new connections refused while severely overloaded
    Counter overload_closed_idle;       ///< idle keep-alive connections closed the same way
};

/// The sums of every slot: what a scrape reports.
struct MetricsTotals {
    std::uint64_t responses[LoopMetrics::kStatuses] = {};
    std::uint64_t latency[kLatencyBuckets] = {};
    std::uint64_t latency_sum_ms = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t deferred_started = 0;
    std::uint64_t deferred_ended = 0;
    std::uint64_t timeouts[static_cast<std::size_t>(TimeoutKind::count)] = {};
    std::uint64_t protocol_errors = 0;
    std::uint64_t push_subscribed = 0;
    std::uint64_t push_unsubscribed = 0;
    std::uint64_t push_delivered = 0;
    std::uint64_t push_closed_slow = 0;
    std::uint64_t disk_helper_reads = 0;
    std::uint64_t disk_helper_failures = 0;
    std::uint64_t stage_enqueued[kStages] = {};
    std::uint64_t stage_dequeued[kStages] = {};
    std::uint64_t stage_wait_us[kStages] = {};
    std::uint64_t stage_threads_started[kStages] = {};
    std::uint64_t stage_threads_stopped[kStages] = {};
    std::uint64_t overload_shed_requests = 0;
    std::uint64_t overload_shed_connections = 0;
    std::uint64_t overload_closed_idle = 0;
    std::uint32_t writers = 0;  ///< slots held now
};

class MetricsBoard {
public:
    /// Slots beyond which writers share one overflow slot. A thread-per-client server past this
    /// many threads loses exactness there (two writers on one counter), not safety.
    static constexpr std::size_t kDefaultSlots = 16384;

    /// Maps the board (shared, anonymous, reserved lazily: untouched slots cost no memory).
    /// Throws std::runtime_error when mmap fails.
    explicit MetricsBoard(std::size_t slots = kDefaultSlots);
    ~MetricsBoard();
    MetricsBoard(const MetricsBoard&) = delete;
    MetricsBoard& operator=(const MetricsBoard&) = delete;

    /// A slot for one writer until release(). Never null: when every slot is held, the last
    /// one, shared.
    LoopMetrics* claim();
    void release(LoopMetrics* slot);

    /// Sums every slot ever used. Safe from any thread or process sharing the board.
    MetricsTotals totals() const;

private:
    core::SharedSlots slots_;
};

/// A loop's hold on one slot, for the loop's lifetime; with no board, none (null).
class MetricsSlot {
public:
    explicit MetricsSlot(MetricsBoard* board)
        : board_(board), slot_(board != nullptr ? board->claim() : nullptr) {}
    ~MetricsSlot() {
        if (board_ != nullptr) board_->release(slot_);
    }
    MetricsSlot(const MetricsSlot&) = delete;
    MetricsSlot& operator=(const MetricsSlot&) = delete;
    LoopMetrics* get() const { return slot_; }

private:
    MetricsBoard* board_;
    LoopMetrics* slot_;
};

}  // namespace c10k::http
