#pragma once
// A pool of backend servers as one event loop sees it. Loops share nothing (as nginx's workers
// keep their own upstream state), so every loop picks servers, counts failures, ejects and keeps
// idle connections on its own; nothing here is locked. The one thing read across loops is the
// active checks' HealthBoard, a row of atomics that only the checking loop writes.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/net.hpp"
#include "proxy/balance_hash.hpp"
#include "proxy/health.hpp"

namespace c10k::proxy {

/// How a pool chooses the server for a request.
enum class Balance : std::uint8_t {
    round_robin,        ///< weighted, smooth (nginx's: no burst to one heavy server)
    least_outstanding,  ///< fewest requests in flight on this loop, ties by weight order
    /// Two distinct servers at random, the less loaded per weight wins (Mitzenmacher's power of
    /// two choices): nearly least-outstanding's balance without every loop herding onto the
    /// one idlest server.
    random_two,
    /// Consistent hashing on the client's address (the 2002 article's flow assignment): a
    /// client stays on its server while the set of usable servers is unchanged.
    source_hash,
    /// Consistent hashing on a key the request carries (URI, header, cookie), with bounded
    /// loads (Mirrokni et al.): a key whose server is over its share goes to the next server.
    hash,
};

/// One backend server, as configured.
struct ServerSpec {
    core::Endpoint address;
    std::uint32_t weight = 1;
    std::string name;  ///< for logs and counters: the address as written
    /// PROXY protocol version put before each new connection's first request (1 or 2; 0:
    /// none), for servers that want the client's address that way (HAProxy's send-proxy).
    std::uint8_t proxy_protocol = 0;
};

struct PoolSpec {
    std::vector<ServerSpec> servers;
    Balance balance = Balance::round_robin;
    /// A server whose connect failed sits out this long (doubling with each failure in a row,
    /// up to max_backoff_ms), so that requests go to the others meanwhile.
    std::int64_t backoff_ms = 1'000;
    std::int64_t max_backoff_ms = 30'000;
    /// Balance::hash: a server takes a key only while its outstanding requests stay within
    /// this factor of its weight's share of all of them, the new one counted (HAProxy's
    /// hash-balance-factor, as a factor: 1.25 is its 125). 0 turns the bound off; otherwise at
    /// least 1.
    double hash_balance_factor = 1.25;
    /// A server back from a back-off ramps its weight from a tenth to all of it over this long
    /// (nginx's slow_start, HAProxy's slowstart), so that a server that is still warming its
    /// caches, or not quite back, is not handed its full share at once. 0: off. Applies to
    /// round robin, least outstanding and random two; not to the hashing balancers, whose
    /// point is that a key's server does not depend on load or time.
    std::int64_t slow_start_ms = 0;
    /// Seeds random_two's generator; 0 seeds each pool from its address and the clock, so
    /// that loops do not draw the same servers in step. Tests set it.
    std::uint64_t random_seed = 0;
    /// Active checks, run once per process (HealthChecker); off by default.
    HealthCheck health;
    /// Passive ejection, per loop: this many failed requests in a row (0: never) take a server
    /// out for eject_time_ms times the ejections it had, up to eject_max_time_ms (Envoy's
    /// outlier detection). The connect back-off above stays the quicker first line.
    std::uint32_t eject_after = 5;
    /// 5xx answers count as failed requests too.
    bool eject_on_5xx = false;
    std::int64_t eject_time_ms = 10'000;
    std::int64_t eject_max_time_ms = 300'000;
    /// At most this share of the pool is ejected at once, and never every server: a pool
    /// whose servers all fail is more likely hit by something of its own (or the proxy's)
    /// than by N failures at once, and serving from one is better than serving none.
    std::uint32_t max_ejected_percent = 50;
};

/// Per-loop state of one server.
struct ServerState {
    /// slow_start_from_ms when the server has never been down: its full weight.
    static constexpr std::int64_t kNoSlowStart = std::numeric_limits<std::int64_t>::min();

    std::int64_t current_weight = 0;  ///< smooth weighted round robin
    std::uint32_t outstanding = 0;    ///< requests in flight on this loop
    std::uint32_t connections = 0;    ///< connections to it from this loop, busy and idle
    std::uint32_t failures = 0;       ///< connect failures in a row
    std::int64_t down_until_ms = 0;   ///< passive health: skipped before this
    /// When the server came (or will come) back from its last back-off: its slow start ramps
    /// from here.
    std::int64_t slow_start_from_ms = kNoSlowStart;
    std::uint64_t requests = 0;
    std::uint64_t failed = 0;
    /// Passive ejection: failed requests in a row, and the ejection in force until then.
    std::uint32_t failed_requests = 0;
    std::int64_t ejected_until_ms = 0;
    std::uint64_t ejections = 0;
    /// The active checks' view as this loop last read it from the board (for metrics).
    bool checked_up = true;
    std::uint64_t checks_failed = 0;
};

class Pool {
public:
    /// `board`: the active checks' results (null when they are off); it must outlive the pool.
    explicit Pool(const PoolSpec& spec, const HealthBoard* board = nullptr);

    std::size_t size() const { return spec_.servers.size(); }
    const ServerSpec& server(std::size_t index) const { return spec_.servers[index]; }
    ServerState& state(std::size_t index) { return states_[index]; }

    /// The server for the next request, skipping those down at `now_ms` and those in
    /// `tried` (a bit per server: the ones this request already failed on). -1 when none is
    /// left. When every untried server is down, the one that comes back first is chosen: a
    /// pool whose servers all failed once still tries rather than refusing everything.
    /// `key` is what the hashing balancers hash (the client's address for source_hash); an
    /// empty key is balanced round robin, and the other balancers ignore it.
    int pick(std::int64_t now_ms, std::uint64_t tried, std::string_view key = {});

    /// Whether the server is out of its back-off at `now_ms` (passive health says it is up).
    bool up(std::size_t index, std::int64_t now_ms) const {
        return states_[index].down_until_ms <= now_ms;
    }

    /// A connection to the server failed (refused, reset before sending, timed out).
    void mark_failed(std::size_t index, std::int64_t now_ms);
    /// The server answered: its failure streak ends.
    void mark_ok(std::size_t index);

    /// A request failed on the server (see PoolSpec::eject_after). True when that ejected it.
    bool record_failed_request(std::size_t index, std::int64_t now_ms);
    /// A request succeeded: the ejection streak ends.
    void record_good_request(std::size_t index) { states_[index].failed_requests = 0; }
    /// How long the server's last ejection lasts (for the log).
    std::int64_t ejection_ms(std::size_t index) const;

    /// Whether the active checks have every server DOWN (then nothing is worth trying).
    bool none_healthy() const;

    /// The weight a balancer gives the server at `now_ms`: its configured weight, or with slow
    /// start on, that weight in hundredths, ramping while the server is newly back.
    std::uint64_t effective_weight(std::size_t index, std::int64_t now_ms) const;

private:
    bool usable(std::size_t index, std::int64_t now_ms, std::uint64_t tried) const;
    /// Not DOWN by the active checks.
    bool checked_up(std::size_t index) const { return board_ == nullptr || board_->up(index); }
    /// When the server may be tried again: the later of its back-off and its ejection.
    std::int64_t back_at(std::size_t index) const;
    /// Copies the board into the states, and starts slow start for servers newly UP.
    void read_board();
    int pick_round_robin(std::int64_t now_ms, std::uint64_t tried);
    int pick_least_outstanding(std::int64_t now_ms, std::uint64_t tried);
    int pick_random_two(std::int64_t now_ms, std::uint64_t tried);
    int pick_hashed(std::int64_t now_ms, std::uint64_t tried, std::string_view key);
    std::uint64_t next_random();

    PoolSpec spec_;
    const HealthBoard* board_;
    std::vector<ServerState> states_;
    HashRing ring_;                        ///< built for the hashing balancers only
    std::uint64_t balance_percent_ = 0;    ///< hash_balance_factor in hundredths; 0: unbounded
    std::uint64_t random_state_ = 0;       ///< splitmix64
    std::vector<std::size_t> candidates_;  ///< random_two's usable servers, kept to reuse
    std::int64_t last_pick_ms_ = 0;        ///< the clock as the last pick saw it
};

}  // namespace c10k::proxy
