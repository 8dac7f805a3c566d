#pragma once
// Runs one ReadinessLoop per thread (shared-nothing: each with its own SO_REUSEPORT listeners,
// poller, handler and timers). Every readiness engine is this runner plus a Poller factory.

#include <functional>
#include <memory>

#include "engine/engine.hpp"
#include "engine/poller.hpp"

namespace c10k::engine {

using PollerFactory = std::function<std::unique_ptr<Poller>()>;

int run_readiness_loops(const ServerConfig& config, const HandlerFactory& handlers,
                        ListenerSet& listeners, StopSource& stop, const PollerFactory& pollers);

/// Opens the access log for appending (shared by all loops of a process); -1 when none is
/// configured. Throws std::runtime_error with the reason when it cannot be opened.
core::unique_fd open_access_log(const ServerConfig& config);

}  // namespace c10k::engine
