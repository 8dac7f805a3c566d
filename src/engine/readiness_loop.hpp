#pragma once
// The event loop shared by every readiness engine (epoll ET/LT, poll, select, realtime
// signals). It owns its listeners, connections, timer wheel and one receive buffer; what
// differs between engines is only the Poller it waits with.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/log.hpp"
#include "core/timer_wheel.hpp"
#include "core/unique_fd.hpp"
#include "engine/admission.hpp"
#include "engine/disk_helpers.hpp"
#include "engine/engine.hpp"
#include "engine/output.hpp"
#include "engine/poller.hpp"
#include "http/access_log.hpp"
#include "http/session.hpp"

namespace c10k::engine {

/// What the loop shares with the other loops of its process.
struct LoopShared {
    const ServerConfig& config;
    ConnectionBudget& budget;
    StopSource& stop;
    int access_log_fd = -1;
    std::size_t loop_index = 0;  ///< this loop's number within the process
};

/// Counters a loop keeps; read after run() returns (tests, diagnostics).
struct LoopStats {
    std::uint64_t accepted = 0;
    std::uint64_t rejected_over_cap = 0;    ///< answered 503: --max-connections reached
    std::uint64_t refused_fd_too_high = 0;  ///< descriptor beyond the poller's reach (select)
    std::uint64_t shed_out_of_fds = 0;      ///< closed at once: EMFILE/ENFILE
    std::uint64_t timed_out = 0;
    std::uint64_t shed_overloaded = 0;  ///< new connections refused: severely overloaded
};

class ReadinessLoop final : private http::DescriptorWatcher {
public:
    ReadinessLoop(std::unique_ptr<Poller> poller, std::vector<core::unique_fd> listeners,
                  std::unique_ptr<http::Handler> handler, LoopShared shared);
    ~ReadinessLoop();
    ReadinessLoop(const ReadinessLoop&) = delete;
    ReadinessLoop& operator=(const ReadinessLoop&) = delete;

    /// Serves until stop is requested and the connections have finished (or the grace period
    /// ran out). Returns 0, or 1 after a fatal poller error.
    int run();

    const LoopStats& stats() const { return stats_; }

private:
    struct Watched;
    struct Connection;
    struct Listener;
    struct External;

    // http::DescriptorWatcher: a handler's own descriptors share the poller.
    bool watch(int fd, std::uint32_t events, http::DescriptorTask& task) override;
    void unwatch(int fd) override;
    void run_ready();

    void on_listener(Listener& listener);
    void on_connection(Connection& conn, std::uint32_t events);
    void drive(Connection& conn);
    bool flush(Connection& conn);
    /// Hands a file range that is not in memory to a helper; the connection sends nothing
    /// until the helper is done (on_disk_read). False when no helper could take it.
    bool read_on_helper(Connection& conn, const http::FileRange& range);
    void on_disk_read(Connection& conn, std::uint64_t wanted, DiskReadResult result);
    void update_interest(Connection& conn);
    void update_timer(Connection& conn);
    void on_timer(core::TimerNode& node);
    void start_lingering(Connection& conn);
    void close(Connection& conn);
    void begin_shutdown();
    void pause_accepting(std::int64_t for_ms);
    void resume_accepting();
    int wait_timeout_ms() const;
    Heartbeat heartbeat_;  ///< loop 0's copy of the server's; the others' never beat
    void reap();
    // Overload control (--overload-target); all no-ops without it.
    core::Result<int> wait_measuring_lag(Poller::Event* events, int max);
    bool refuse_when_overloaded(core::unique_fd& owned);
    void close_idle_when_overloaded();

    std::unique_ptr<Poller> poller_;
    std::unique_ptr<http::Handler> handler_;
    LoopShared shared_;
    http::MetricsSlot metrics_;  ///< before context_: sessions count into it until they go
    http::LoopContext context_;
    std::unique_ptr<http::AccessLog> access_log_;
    core::TimerWheel timers_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    /// Listeners a stop closed during the current batch of events (see begin_shutdown).
    std::vector<std::unique_ptr<Listener>> closed_listeners_;
    Connection* connections_ = nullptr;   ///< intrusive list of open connections
    std::vector<Connection*> graveyard_;  ///< closed in this batch; freed after it, since a
                                          ///< later event of the batch may still name them
    std::vector<std::unique_ptr<External>> externals_;  ///< indexed by descriptor
    std::vector<std::unique_ptr<External>> external_graveyard_;
    std::uint64_t connection_count_ = 0;
    FileOutput file_output_;
    /// Null with --no-helpers. After context_, whose mailbox its completions are posted to.
    std::unique_ptr<DiskHelpers> helpers_;
    std::uint64_t disk_reads_in_flight_ = 0;  ///< a stop waits for these too
    /// Closed while a helper read for them: freed when the read comes back (its completion
    /// names them), or at destruction once the helpers are joined.
    std::vector<Connection*> disk_orphans_;
    std::vector<char> receive_buffer_;  ///< one per loop: idle connections hold none
    std::unique_ptr<http::OverloadGate> overload_;  ///< with --overload-target only
    std::int64_t batch_started_us_ = 0;             ///< when the last wait returned
    std::int64_t previous_batch_us_ = 0;            ///< how long the last batch's handling took
    std::int64_t idle_closed_ms_ = 0;               ///< the last sweep of idle connections (severe)
    SpareDescriptor spare_;
    core::RateLimitedLog fd_log_;
    LoopStats stats_;
    std::int64_t accept_paused_until_ms_ = 0;
    std::int64_t shutdown_deadline_ms_ = 0;
    std::int64_t last_flush_s_ = 0;
    bool accepting_ = true;
    bool stopping_ = false;
    char stop_tag_ = 0;
    char mailbox_tag_ = 0;
};

}  // namespace c10k::engine
