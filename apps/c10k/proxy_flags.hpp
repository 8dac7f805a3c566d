#pragma once
// `c10k proxy`: the flags that make the serve machinery (engines, listeners, reload, admin) a
// layer-7 proxy, and the handler factory they turn into.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/net.hpp"
#include "engine/engine.hpp"
#include "proxy/board.hpp"
#include "proxy/tcp/tcp_board.hpp"

namespace c10k::app {

struct ProxyFlags {
    std::vector<std::string> backends;  ///< "HOST:PORT" or "HOST:PORT,weight=N"
    std::string balance = "round-robin";
    std::string hash_key;  ///< "uri", "header:NAME" or "cookie:NAME"; --balance hash only
    double hash_balance_factor = 1.25;
    std::string slow_start = "0s";
    std::string connect_timeout = "5s";
    std::string response_timeout = "60s";
    std::string total_timeout = "0s";
    std::string idle_timeout = "15s";
    std::size_t max_idle = 64;
    std::uint32_t max_conns = 0;
    std::size_t queue = 256;
    std::string queue_timeout = "5s";
    std::uint64_t client_buffer = 256 * 1024;
    /// "NAME[,samesite=lax|strict|none][,secure][,max-age=DURATION]"; empty: no stickiness.
    std::string sticky_cookie;
    std::string retry_on = "error";
    bool retry_non_idempotent = false;
    std::string retry_budget = "20%";  ///< a percentage, the '%' optional
    std::uint32_t retry_budget_min = 3;
    // Health (proxy_health_flags.cpp).
    std::string health_check;  ///< "", "off", "tcp" or "http:/PATH"
    std::string health_expect = "200-399";
    std::string health_interval = "2s";
    std::string health_timeout = "1s";
    std::uint32_t health_rise = 2;
    std::uint32_t health_fall = 3;
    std::uint32_t eject_after = 5;
    bool eject_on_5xx = false;
    std::string eject_time = "10s";
    std::string eject_max_time = "5m";
    std::string max_ejected = "50%";
    /// `--mode`: http (the layer-7 proxy) or tcp (the layer-4 relay); not a pool's key.
    std::string mode = "http";
    std::string tcp_idle_timeout = "10m";
};

/// A [[pool]] of the config file: its name and flags.
struct PoolFlags {
    std::string name;
    ProxyFlags flags;
    std::string where;  ///< "FILE:LINE: [[pool]] NAME", for messages
};

/// A [[route]] of the config file, as written (checked when the handlers are made).
struct RouteFlags {
    std::vector<std::string> hosts;
    std::string path;
    std::string path_prefix;
    std::string path_regex;
    std::vector<std::string> methods;
    std::vector<std::string> headers;
    std::string pool;
    bool retry_non_idempotent = false;
    std::string where;  ///< "FILE:LINE: [[route]]", for messages
};

/// Named pools and the routes to them; empty for the flags-only proxy (one pool).
struct ProxyLayout {
    std::vector<PoolFlags> pools;
    std::vector<RouteFlags> routes;
    bool empty() const { return pools.empty() && routes.empty(); }
};

/// The flags of one pool (the default pool's, on the command line or in [proxy]).
void add_proxy_flags(CLI::App& command, ProxyFlags& flags);

/// --mode and the flags of --mode tcp alone (the whole proxy's, not a pool's).
void add_proxy_mode_flags(CLI::App& command, ProxyFlags& flags);

/// True for --mode tcp; throws for a mode that does not exist.
bool tcp_mode(const ProxyFlags& flags);

/// --mode tcp: the layer-4 relay, from the default pool's flags, counting into `board` (null: a
/// board of its own). Throws std::runtime_error naming the flag at fault (a balancer or backend
/// option the relay has not).
std::unique_ptr<engine::Engine> make_tcp_proxy_engine(
    const ProxyFlags& flags, std::shared_ptr<proxy::tcp::TcpBoard> board = nullptr);

/// The counters' board of the relay's one pool, "default" (made before any fork).
std::shared_ptr<proxy::tcp::TcpBoard> make_tcp_board(const ProxyFlags& flags);

/// The long names of the flags add_proxy_flags adds (without dashes): the keys of a pool.
std::vector<std::string> proxy_pool_flag_names();

/// A duration flag's value in milliseconds, at least 1ms. Throws naming `flag`.
std::int64_t flag_ms(const char* flag, const std::string& text);

/// Checks the flags (and the pools and routes of a config file) and returns a factory of
/// proxy handlers (one per loop). `boards` receives each pool's counters, for the admin
/// listener; `engine` is the --engine the handlers will run on (some flags need one with loops
/// of its own). Throws std::runtime_error naming the flag or the file's line at fault.
engine::HandlerFactory make_proxy_handlers(const ProxyFlags& flags, const ProxyLayout& layout,
                                           std::uint64_t max_body_bytes,
                                           const std::vector<core::Endpoint>& listeners,
                                           std::vector<std::shared_ptr<proxy::PoolBoard>>& boards,
                                           std::string_view engine);

/// "127.0.0.1:9001 127.0.0.1:9002": the servers, for the start-up line (with the named
/// pools': "... and 2 more pools").
std::string describe_backends(const ProxyFlags& flags, const ProxyLayout& layout);

}  // namespace c10k::app
