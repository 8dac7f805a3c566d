#pragma once
// The active checks of one pool, run by one loop of the process: every interval each server
// gets a connect (tcp) or a GET (http) on a connection of its own, watched through the loop's
// DescriptorWatcher like the proxy's backend connections, so every engine drives it. Results
// go through the rise/fall rule onto the HealthBoard, which every loop reads, and are counted
// into the checking loop's slot of the pool's counters for /metrics (proxy/board.hpp).

#include <memory>
#include <vector>

#include "http/context.hpp"
#include "proxy/board.hpp"
#include "proxy/health.hpp"
#include "proxy/pool.hpp"

namespace c10k::proxy {

class HealthChecker {
public:
    /// Starts checking at once: a server stopped before the proxy started is DOWN after
    /// `fall` intervals rather than `fall` + 1. `context` and `counters` (the loop's slot, one
    /// per server; null for none) must outlive the checker; it marks the servers unchecked
    /// there when it goes.
    HealthChecker(http::LoopContext& context, const PoolSpec& pool, const HealthCheck& check,
                  HealthBoard& board, ServerCounters* counters);
    ~HealthChecker();
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;

private:
    class Probe;
    std::vector<std::unique_ptr<Probe>> probes_;
};

}  // namespace c10k::proxy
