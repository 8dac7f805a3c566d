#pragma once
// An engine decides how connections are waited on and driven (a readiness loop, io_uring, a
// thread or process per client...); http::Session decides what is said on them. Engines are
// all compiled in and chosen at run time by name.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/address_set.hpp"
#include "core/net.hpp"
#include "engine/listeners.hpp"
#include "engine/stop.hpp"
#include "http/access_log.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"
#include "http/metrics.hpp"

namespace c10k::http {
class Session;
}

namespace c10k::engine {

/// What the server's own turning proves to a supervisor (systemd's watchdog and stop notice):
/// `beat` is called about every interval_ms, and `stopping` once when a stop is first seen, by
/// the one place of each engine whose turning shows the whole server alive (loop 0 of an event
/// engine, the acceptor of thread and fork, the supervising process of prefork and of a
/// --processes group). Never from a thread of its own: a stuck server must stop beating.
struct Heartbeat {
    std::function<void()> beat;
    std::int64_t interval_ms = 0;  ///< 0: no beat
    std::function<void()> stopping;

    bool beats() const { return beat && interval_ms > 0; }
    /// Beats when `now_ms` reached the next beat (the first call beats at once).
    void tick(std::int64_t now_ms) {
        if (!beats() || now_ms < next_ms_) return;
        beat();
        next_ms_ = now_ms + interval_ms;
    }
    /// How long the caller may wait before the next beat is due; -1 without a beat.
    std::int64_t until_next(std::int64_t now_ms) const {
        if (!beats()) return -1;
        return next_ms_ > now_ms ? next_ms_ - now_ms : 0;
    }
    void stop_seen() {
        if (stopping && !stop_told_) stopping();
        stop_told_ = true;
    }

private:
    std::int64_t next_ms_ = 0;
    bool stop_told_ = false;
};

/// How many threads one stage of the staged engine may run (docs/STAGED.md).
struct StageBounds {
    std::uint32_t min_threads = 1;
    std::uint32_t max_threads = 8;
};

/// The staged engine's pools (--stage-threads STAGE=MIN..MAX).
struct StagedConfig {
    StageBounds handler{1, 8};  ///< runs handlers off the loops
    StageBounds file{1, 4};     ///< reads files the page cache lacks before the loop sends them
};

/// Parses one --stage-threads value ("handler=2..16", "file=1..4", or "handler=4" for a fixed
/// pool) into `config`. False with a sentence in `error` saying what is wrong and how to fix it.
bool parse_stage_threads(std::string_view spec, StagedConfig& config, std::string& error);

/// Everything an engine needs to serve, independent of how it waits.
struct ServerConfig {
    int threads = 1;                    ///< event loops (or worker processes for prefork)
    std::uint64_t max_connections = 0;  ///< across the process; 0 = bounded only by descriptors
    http::Limits limits;
    http::Timeouts timeouts;
    std::string access_log_path;  ///< empty: no access log
    http::AccessLogFormat access_log_format = http::AccessLogFormat::combined;
    std::int64_t shutdown_grace_ms = 10'000;  ///< how long in-flight responses may take at stop
    /// Adaptive wake-up batching: when a wait returns only a few events, sleep this long before
    /// the next one so that later events are handled together. 0 turns it off.
    std::int64_t batch_us = 0;
    std::uint32_t thread_stack_kb = 64;  ///< thread-per-connection engines
    /// File bodies go out with sendfile(2); false reads them into a buffer and sends that
    /// (--no-sendfile, for the zero-copy experiment).
    bool use_sendfile = true;
    /// Disk helper threads per readiness loop (docs/AMPED.md): a file range that is not in the
    /// page cache is read by one of them while the loop serves others. 0 (--no-helpers): the
    /// loop reads from disk itself and blocks. The thread engines block their own thread anyway.
    int disk_helpers = 2;
    StagedConfig staged;                 ///< the staged engine's pools
    /// Overload control (--overload-target): the queue delay above which, held for an
    /// interval, new requests are shed (core/overload.hpp, docs/OVERLOAD.md). 0 turns it off.
    std::int64_t overload_target_us = 0;
    /// Where every loop counts for /metrics (made before any fork, so children count into it
    /// too); null: nothing is counted. Not owned.
    http::MetricsBoard* metrics = nullptr;
    /// Copied by the place that beats (each copy keeps its own clock).
    Heartbeat heartbeat;
    /// Peers that must begin their connections with a PROXY protocol header (a balancer in
    /// front: --proxy-protocol-from); null or empty: none.
    std::shared_ptr<const core::AddressSet> proxy_protocol_from;
};

/// At accept: gives the Session its peer's address when `wants_text` (an access log, or a
/// handler that asks), and tells it to expect a PROXY header when the peer is trusted to send
/// one. One getpeername(2) when either applies; nothing otherwise.
void note_peer(http::Session& session, int fd, const ServerConfig& config, bool wants_text);

/// Makes one Handler per loop (loops share nothing, so each gets its own).
using HandlerFactory = std::function<std::unique_ptr<http::Handler>()>;

class Engine {
public:
    virtual ~Engine() = default;
    virtual std::string_view name() const = 0;
    /// Serves on the listeners until `stop` is requested, then finishes responses in flight
    /// (for at most config.shutdown_grace_ms) and returns. Returns a process exit status.
    virtual int run(const ServerConfig& config, const HandlerFactory& handlers,
                    ListenerSet& listeners, StopSource& stop) = 0;
    /// True when each loop accepts on its own sockets (ListenerSet::for_loop); false when
    /// every worker shares the first set's queues (ListenerSet::shared()).
    virtual bool listens_per_loop() const { return true; }
};

struct EngineInfo {
    std::string name;
    std::string description;
    bool available = false;
    std::string unavailable_reason;  ///< why not, when !available
};

/// Every engine c10k knows, and whether it works on this kernel.
std::vector<EngineInfo> all_engines();
/// Names of the engines that work here, in the order of all_engines().
std::vector<std::string> available();
/// A new engine by name; nullptr for an unknown name.
std::unique_ptr<Engine> create(std::string_view name);

}  // namespace c10k::engine
