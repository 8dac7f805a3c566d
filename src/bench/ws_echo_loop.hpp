#pragma once
// One bench thread of a WebSocket echo run (`c10k bench --ws N URL --echo`): an epoll loop over
// its share of the connections, each a handshake and then a websocket::Connection in the client
// role. Messages are sent on each connection's open-loop schedule (--rate, the same
// ConnectionSchedule as requests) or one at a time on each echo (closed loop); each carries its
// intended and actual send time, so the echo alone gives the corrected and uncorrected round
// trip. Shared-nothing like ClientLoop: counters are merged at the end.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/client_loop.hpp"
#include "bench/connection.hpp"
#include "bench/deadline_table.hpp"
#include "bench/options.hpp"
#include "bench/push_http.hpp"
#include "bench/run_control.hpp"
#include "bench/schedule.hpp"
#include "bench/target.hpp"
#include "bench/ws_client.hpp"
#include "bench/ws_stats.hpp"
#include "core/unique_fd.hpp"

namespace c10k::bench {

class WsEchoLoop;

/// One echo connection. Like bench::Connection, no buffer is held while nothing is owed.
struct EchoConnection {
    PushResponseParser http;     ///< the handshake's answer
    std::unique_ptr<WsLink> ws;  ///< once the 101 arrived
    ConnectionSchedule schedule;
    /// Messages in order: the first `in_flight` are sent and await their echo, the rest are due
    /// and wait for the socket (open loop) or for the connection to be up again.
    std::vector<PendingRequest> queue;
    std::string unsent;  ///< framed bytes the socket did not take yet
    WsEchoLoop* loop = nullptr;
    std::uint32_t head = 0;
    std::uint32_t in_flight = 0;
    std::uint64_t next_sequence = 0;  ///< of the next message sent on this socket
    std::uint64_t next_echo = 0;      ///< the sequence the next echo must carry
    std::int64_t connect_started_ns = 0;
    std::int64_t retry_at_ns = 0;  ///< while closed: do not connect before this
    int fd = -1;
    std::uint32_t generation = 0;  ///< bumped per socket, so stale epoll events are ignored
    std::uint32_t index = 0;
    std::uint32_t target = 0;
    std::uint32_t source = 0;  ///< IPv4 source address (host order), 0 for any
    ConnectionState state = ConnectionState::closed;
    bool settling = false;  ///< connect or handshake under way (counts against the batch)
    bool ever_opened = false;
    /// Set inside callbacks (parser, Connection), acted on once they have returned.
    bool close_pending = false;
    bool refused = false;  ///< the handshake was refused: back off before connecting again
    ErrorKind close_kind = ErrorKind::closed_early;
    std::uint8_t failures = 0;  ///< consecutive failed attempts, for the retry backoff
    std::array<char, 24> key{};

    std::uint32_t queued() const { return static_cast<std::uint32_t>(queue.size()) - head; }
    PendingRequest& front() { return queue[head]; }
    void pop_front() {
        if (++head == queue.size()) {
            std::vector<PendingRequest>().swap(queue);
            head = 0;
        }
    }
};

class WsEchoLoop {
public:
    /// `sending_total` is the number of connections in the whole run, which sets each
    /// connection's period (sending_total / rate).
    WsEchoLoop(const BenchOptions& options, const std::vector<Target>& targets,
               std::vector<ConnectionSpec> connections, std::uint32_t sending_total,
               std::uint32_t loops_total, RunControl& control, LiveCounters& live);
    WsEchoLoop(const WsEchoLoop&) = delete;
    WsEchoLoop& operator=(const WsEchoLoop&) = delete;

    /// Runs the whole life of the loop and returns what it measured.
    WsEchoStats run();

private:
    enum class Phase { connecting, waiting, running, draining, done };

    // ws_echo_loop.cpp: phases, schedule, timeouts.
    void open_initial();
    void wait_for_start();
    void run_schedule();
    void drain();
    void fire_due_sends();
    void housekeeping();
    /// When housekeeping next has something to do for `conn` (see DeadlineTable).
    std::int64_t deadline_of(const EchoConnection& conn) const;
    void store_deadline(const EchoConnection& conn) {
        deadlines_.set(conn.index, deadline_of(conn));
    }
    void store_all_deadlines() {
        for (const auto& conn : conns_) store_deadline(conn);
    }
    void wait_for_events(std::int64_t until_ns);
    void publish_live();
    bool wants_connection(const EchoConnection& conn) const;
    bool in_window(std::int64_t intended_ns) const {
        return intended_ns >= measure_start_ns_ && intended_ns < measure_end_ns_;
    }
    bool closed_loop() const { return options_.rate <= 0; }

    // ws_echo_io.cpp: sockets, handshake, messages.
    void start_connect(EchoConnection& conn);
    void on_connected(EchoConnection& conn);
    void connect_failed(EchoConnection& conn, int error);
    void handle_event(std::uint64_t data, std::uint32_t events);
    void on_readable(EchoConnection& conn, bool until_eof);
    bool feed_ws(EchoConnection& conn, const char* data, std::size_t size);
    void pump(EchoConnection& conn);
    void flush(EchoConnection& conn);
    void fail_connection(EchoConnection& conn, ErrorKind kind);
    void close_socket(EchoConnection& conn);
    void settle(EchoConnection& conn);
    static bool head_thunk(void* context, const PushResponseParser::Head& head);
    static bool body_thunk(void* context, const char* data, std::size_t size);
    static bool complete_thunk(void* context, bool keep_alive);
    static void message_thunk(void* context, websocket::MessageType type, std::string_view payload);
    static void close_thunk(void* context, std::uint16_t code);
    static void output_thunk(void* context, std::string frames);
    bool on_head(EchoConnection& conn, const PushResponseParser::Head& head);
    void on_echo(EchoConnection& conn, std::string_view payload);
    void on_close(EchoConnection& conn, std::uint16_t code);

    const BenchOptions& options_;
    const std::vector<Target>& targets_;
    RunControl& control_;
    LiveCounters& live_;
    std::uint32_t sending_total_;
    std::uint32_t loops_total_;
    std::vector<WsRequest> requests_;
    websocket::Options ws_options_;
    std::vector<EchoConnection> conns_;
    /// Each connection's next deadline, so that housekeeping visits only those due.
    DeadlineTable deadlines_;
    /// drain(): connections before this one owed nothing when last looked at.
    std::size_t drained_before_ = 0;
    std::vector<std::uint32_t> global_index_;
    core::unique_fd epoll_;
    std::vector<char> read_buffer_;
    std::string payload_;  ///< the message being built
    std::string scratch_;  ///< the handshake being built
    /// Min-heap of (due time, connection): the next send of each connection (open loop).
    std::vector<std::pair<std::int64_t, std::uint32_t>> heap_;
    /// Connections closed inside event handling that may connect again now.
    std::vector<std::uint32_t> reconnect_now_;
    std::vector<std::uint32_t> reconnect_batch_;  ///< reconnect_now_'s taken contents, reused
    WsEchoStats stats_;
    PushResponseParser::Callbacks callbacks_;
    Phase phase_ = Phase::connecting;
    std::int64_t now_ns_ = 0;
    std::int64_t measure_start_ns_ = INT64_MAX;
    std::int64_t measure_end_ns_ = INT64_MAX;
    std::int64_t next_housekeeping_ns_ = 0;
    std::int64_t next_p99_ns_ = 0;
    std::uint32_t in_progress_ = 0;  ///< connects and handshakes not yet settled
    std::uint32_t open_ = 0;         ///< upgraded connections
    bool pwait2_works_ = true;
};

}  // namespace c10k::bench
