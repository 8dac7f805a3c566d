#pragma once
// `c10k proxy --mode tcp`: a layer-4 relay. The engines' Session speaks HTTP, so the relay has
// loops of its own (tcp_loop.hpp); what they share with the HTTP proxy is the pool of servers
// and its balancers (proxy/pool.hpp).

#include <cstdint>

#include "proxy/pool.hpp"

namespace c10k::proxy::tcp {

struct TcpProxyOptions {
    /// round_robin, least_outstanding (counted in open relays: least connections) or
    /// source_hash (the client's address, without its port, is the key).
    PoolSpec pool;
    /// A connect that has not completed by then counts as failed: the next server is tried.
    std::int64_t connect_timeout_ms = 5'000;
    /// A relay that moved no byte either way for this long is closed.
    std::int64_t idle_timeout_ms = 600'000;
};

/// What one loop counted for one server, for later metrics. Per loop, like the pool.
struct ServerCounters {
    std::uint64_t connections = 0;      ///< relays established
    std::uint64_t failed_connects = 0;  ///< refused, failed or timed out
    std::uint64_t bytes_to_server = 0;
    std::uint64_t bytes_to_client = 0;
};

}  // namespace c10k::proxy::tcp
