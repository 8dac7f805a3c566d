#pragma once
// `c10k proxy --mode tcp`: a layer-4 relay. The engines' Session speaks HTTP, so the relay has
// loops of its own (tcp_loop.hpp); what they share with the HTTP proxy is the pool of servers
// and its balancers (proxy/pool.hpp).

#include <cstdint>
#include <memory>

#include "proxy/pool.hpp"
#include "proxy/tcp/tcp_board.hpp"

namespace c10k::proxy::tcp {

struct TcpProxyOptions {
    /// round_robin, least_outstanding (counted in open relays: least connections) or
    /// source_hash (the client's address, without its port, is the key). pool.health: the
    /// active checks (run by loop 0 of each process); a server they hold DOWN is never picked.
    /// A server's proxy_protocol: the PROXY header written to it before the client's bytes.
    PoolSpec pool;
    /// A connect that has not completed by then counts as failed: the next server is tried.
    std::int64_t connect_timeout_ms = 5'000;
    /// A relay that moved no byte either way for this long is closed.
    std::int64_t idle_timeout_ms = 600'000;
    /// Where the loops count, for /metrics: made before any fork (--processes) so that every
    /// process counts into it; null: each process makes one of its own that nobody reads.
    std::shared_ptr<TcpBoard> board;
};

}  // namespace c10k::proxy::tcp
