#pragma once
// A pool of backend servers as one event loop sees it. Loops share nothing (as nginx's workers
// keep their own upstream state), so every loop picks servers, counts failures and keeps idle
// connections on its own; nothing here is locked.

#include <cstdint>
#include <string>
#include <vector>

#include "core/net.hpp"

namespace c10k::proxy {

/// How a pool chooses the server for a request.
enum class Balance : std::uint8_t {
    round_robin,        ///< weighted, smooth (nginx's: no burst to one heavy server)
    least_outstanding,  ///< fewest requests in flight on this loop, ties by weight order
};

/// One backend server, as configured.
struct ServerSpec {
    core::Endpoint address;
    std::uint32_t weight = 1;
    std::string name;  ///< for logs and counters: the address as written
};

struct PoolSpec {
    std::vector<ServerSpec> servers;
    Balance balance = Balance::round_robin;
    /// A server whose connect failed sits out this long (doubling with each failure in a row,
    /// up to max_backoff_ms), so that requests go to the others meanwhile.
    std::int64_t backoff_ms = 1'000;
    std::int64_t max_backoff_ms = 30'000;
};

/// Per-loop state of one server.
struct ServerState {
    std::int64_t current_weight = 0;  ///< smooth weighted round robin
    std::uint32_t outstanding = 0;    ///< requests in flight on this loop
    std::uint32_t failures = 0;       ///< connect failures in a row
    std::int64_t down_until_ms = 0;   ///< passive health: skipped before this
    std::uint64_t requests = 0;
    std::uint64_t failed = 0;
};

class Pool {
public:
    explicit Pool(const PoolSpec& spec);

    std::size_t size() const { return spec_.servers.size(); }
    const ServerSpec& server(std::size_t index) const { return spec_.servers[index]; }
    ServerState& state(std::size_t index) { return states_[index]; }

    /// The server for the next request, skipping those down at `now_ms` and those in
    /// `tried` (a bit per server: the ones this request already failed on). -1 when none is
    /// left. When every untried server is down, the one that comes back first is chosen: a
    /// pool whose servers all failed once still tries rather than refusing everything.
    int pick(std::int64_t now_ms, std::uint64_t tried);

    /// A connection to the server failed (refused, reset before sending, timed out).
    void mark_failed(std::size_t index, std::int64_t now_ms);
    /// The server answered: its failure streak ends.
    void mark_ok(std::size_t index);

private:
    bool usable(std::size_t index, std::int64_t now_ms, std::uint64_t tried) const;
    int pick_round_robin(std::int64_t now_ms, std::uint64_t tried);
    int pick_least_outstanding(std::int64_t now_ms, std::uint64_t tried);

    PoolSpec spec_;
    std::vector<ServerState> states_;
};

}  // namespace c10k::proxy
