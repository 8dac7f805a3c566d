#pragma once
// One bench thread: an epoll loop over its share of the client connections (shared-nothing; the
// histograms are merged at the end). It opens its connections in batches, waits for the common
// start, sends on each connection's schedule (open loop) or on each response (closed loop),
// measures every response, then drains what is still outstanding, within bounded time.

#include <cstdint>
#include <utility>
#include <vector>

#include "bench/connection.hpp"
#include "bench/deadline_table.hpp"
#include "bench/options.hpp"
#include "bench/run_control.hpp"
#include "bench/stats.hpp"
#include "bench/target.hpp"
#include "core/unique_fd.hpp"

namespace c10k::bench {

/// One connection as the runner assigns it to a loop.
struct ConnectionSpec {
    std::uint32_t global_index = 0;  ///< among the sending connections of the whole run
    std::uint32_t target = 0;        ///< index into the targets
    std::uint32_t source = 0;        ///< IPv4 source address (host order) to bind, 0 for any
    bool idle = false;
};

class ClientLoop {
public:
    /// `sending_total` is the number of sending connections in the whole run, which sets each
    /// connection's period (sending_total / rate).
    ClientLoop(const BenchOptions& options, const std::vector<Target>& targets,
               std::vector<ConnectionSpec> connections, std::uint32_t sending_total,
               RunControl& control, LiveCounters& live);
    ClientLoop(const ClientLoop&) = delete;
    ClientLoop& operator=(const ClientLoop&) = delete;

    /// Runs the whole life of the loop and returns what it measured.
    RunStats run();

private:
    enum class Phase { connecting, waiting, running, draining, done };

    // client_loop.cpp: phases, schedule, timeouts.
    void open_initial_connections();
    void wait_for_start();
    void run_schedule();
    void drain();
    void fire_due_sends();
    void housekeeping();
    /// When housekeeping next has something to do for `conn` (see DeadlineTable).
    std::int64_t deadline_of(const Connection& conn) const;
    void store_deadline(const Connection& conn) { deadlines_.set(conn.index, deadline_of(conn)); }
    /// After a phase change, which decides whether a closed connection is wanted.
    void store_all_deadlines() {
        for (const auto& conn : conns_) store_deadline(conn);
    }
    void wait_for_events(std::int64_t until_ns);
    void publish_live();
    bool wants_connection(const Connection& conn) const;
    bool in_window(std::int64_t intended_ns) const {
        return intended_ns >= measure_start_ns_ && intended_ns < measure_end_ns_;
    }
    bool closed_loop() const { return options_.rate <= 0; }

    // client_io.cpp: sockets.
    void start_connect(Connection& conn);
    void on_connected(Connection& conn);
    void connect_failed(Connection& conn, int error);
    void handle_event(std::uint64_t data, std::uint32_t events);
    void on_readable(Connection& conn, bool until_eof);
    void pump(Connection& conn);
    void write_requests(Connection& conn);
    bool on_response(Connection& conn, int status, bool keep_alive);
    static bool response_thunk(void* context, int status, bool keep_alive);
    void fail_request(const PendingRequest& request, ErrorKind kind);
    void fail_connection(Connection& conn, ErrorKind kind);
    void close_gracefully(Connection& conn);
    void close_socket(Connection& conn);
    void after_close(Connection& conn);

    const BenchOptions& options_;
    const std::vector<Target>& targets_;
    RunControl& control_;
    LiveCounters& live_;
    std::uint32_t sending_total_;
    std::uint32_t depth_;
    std::vector<Connection> conns_;
    /// Each connection's next deadline, so that housekeeping visits only those due.
    DeadlineTable deadlines_;
    /// drain(): connections before this one owed nothing when last looked at.
    std::size_t drained_before_ = 0;
    std::vector<std::uint32_t> global_index_;
    core::unique_fd epoll_;
    std::vector<char> read_buffer_;
    /// Min-heap of (due time, connection): the next send of each connection.
    std::vector<std::pair<std::int64_t, std::uint32_t>> heap_;
    RunStats stats_;
    Phase phase_ = Phase::connecting;
    std::int64_t now_ns_ = 0;
    std::int64_t measure_start_ns_ = INT64_MAX;
    std::int64_t measure_end_ns_ = INT64_MAX;
    std::int64_t next_housekeeping_ns_ = 0;
    std::int64_t next_p99_ns_ = 0;
    std::uint32_t connecting_ = 0;
    std::uint32_t open_ = 0;
    bool pwait2_works_ = true;
};

}  // namespace c10k::bench
