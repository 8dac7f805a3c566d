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

#include "core/net.hpp"
#include "engine/listeners.hpp"
#include "engine/stop.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"
#include "http/metrics.hpp"

namespace c10k::engine {

/// Everything an engine needs to serve, independent of how it waits.
struct ServerConfig {
    int threads = 1;                    ///< event loops (or worker processes for prefork)
    std::uint64_t max_connections = 0;  ///< across the process; 0 = bounded only by descriptors
    http::Limits limits;
    http::Timeouts timeouts;
    std::string access_log_path;              ///< empty: no access log
    std::int64_t shutdown_grace_ms = 10'000;  ///< how long in-flight responses may take at stop
    /// Adaptive wake-up batching: when a wait returns only a few events, sleep this long before
    /// the next one so that later events are handled together. 0 turns it off.
    std::int64_t batch_us = 0;
    std::uint32_t thread_stack_kb = 64;  ///< thread-per-connection engines
    /// Where every loop counts for /metrics (made before any fork, so children count into it
    /// too); null: nothing is counted. Not owned.
    http::MetricsBoard* metrics = nullptr;
};

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
