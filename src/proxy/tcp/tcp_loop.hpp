#pragma once
// One event loop of the layer-4 relay: its own SO_REUSEPORT listeners, its own Pool (servers
// chosen, failures counted, open relays counted for least connections), its own pipes and
// timers. Loops share nothing, as the HTTP proxy's do; the kernel spreads clients over them.
//
// A client is accepted, a server picked and connected without blocking (a refused, failed or
// timed-out connect marks the server failed and tries the next one; when none is left the
// client is closed), then both sockets are watched edge-triggered and each event pumps both
// directions (relay.hpp). A FIN from one side is passed on with shutdown(SHUT_WR); the relay
// ends once both directions are done, on an error, or after --tcp-idle-timeout without a byte.
//
// A client is closed at once, and counted, when --max-connections relays are open in the
// process already, or when no server can take it (the active checks hold every one DOWN, or
// every connect failed). A server that wants a PROXY header gets it before the client's bytes.

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "core/timer_wheel.hpp"
#include "core/unique_fd.hpp"
#include "engine/admission.hpp"
#include "engine/engine.hpp"
#include "proxy/health.hpp"
#include "proxy/pool.hpp"
#include "proxy/tcp/check_host.hpp"
#include "proxy/tcp/options.hpp"
#include "proxy/tcp/pipe_pool.hpp"
#include "proxy/tcp/relay.hpp"
#include "proxy/tcp/tcp_board.hpp"

namespace c10k::proxy::tcp {

/// What the loops of one process share.
struct TcpShared {
    /// The active checks' results; null when they are off.
    HealthBoard* health = nullptr;
    /// --max-connections, counted in relays (a client being connected counts).
    engine::ConnectionBudget* budget = nullptr;
    TcpBoard* board = nullptr;
};

class TcpLoop {
public:
    /// `listeners`: this loop's non-blocking listening sockets. `stop_fd` becomes readable at
    /// the stop. `heartbeat`: the server's beat and stop notice, for the one loop that gives
    /// them (null for the others). `runs_checks`: this loop runs the process's active checks.
    TcpLoop(const TcpProxyOptions& options, std::vector<core::unique_fd> listeners, int stop_fd,
            std::int64_t grace_ms, engine::Heartbeat* heartbeat, const TcpShared& shared,
            bool runs_checks);
    ~TcpLoop();
    TcpLoop(const TcpLoop&) = delete;
    TcpLoop& operator=(const TcpLoop&) = delete;

    /// Relays until the stop, then lets open relays finish for the grace period and closes
    /// what is left. Returns a process exit status.
    int run();

private:
    struct Relay;
    struct Watch;

    void accept_from(int listener);
    void pause_accepting();
    void watch_listeners(bool on);
    bool connect_next(Relay& relay);
    void connect_finished(Relay& relay);
    void connect_failed(Relay& relay);
    void pump(Relay& relay);
    /// Writes what is left of the PROXY header; false while some is (or on an error, which
    /// closed the relay).
    bool send_proxy_header(Relay& relay);
    /// Puts the checks' UP bits on the board for /metrics when they changed.
    void publish_health();
    void close(Relay& relay);
    void on_timer(core::TimerNode& node);
    void begin_stop();

    TcpProxyOptions options_;
    Pool pool_;
    TcpShared shared_;
    TcpBoard::Slot counters_;  ///< this loop's slot of the board
    /// The process's active checks, on the loop that runs them (null on the others).
    std::unique_ptr<CheckHost> checks_;
    std::uint64_t published_up_ = ~std::uint64_t{0};  ///< the UP bits last put on the board
    std::vector<core::unique_fd> listeners_;
    std::vector<std::unique_ptr<Watch>> listener_watches_;
    int stop_fd_;
    std::int64_t grace_ms_;
    engine::Heartbeat* heartbeat_;
    core::unique_fd epoll_;
    PipePool pipes_;
    core::TimerWheel timers_;
    std::list<std::unique_ptr<Relay>> relays_;
    std::vector<std::unique_ptr<Relay>> closed_;  ///< freed after the batch of events
    std::int64_t now_ms_ = 0;
    bool accepting_ = false;
    std::int64_t resume_accepting_ms_ = 0;  ///< after EMFILE; 0: not paused
    bool stopping_ = false;
    std::int64_t stop_deadline_ms_ = 0;
};

}  // namespace c10k::proxy::tcp
