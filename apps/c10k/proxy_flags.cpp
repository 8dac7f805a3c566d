#include "proxy_flags.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "core/duration.hpp"
#include "core/net.hpp"
#include "proxy/proxy_handler.hpp"
#include "proxy/router.hpp"
#include "proxy/routes.hpp"
#include "proxy/tcp/tcp_engine.hpp"
#include "proxy_health_flags.hpp"

namespace c10k::app {

namespace {

/// "HOST:PORT" with options after commas: weight=N, send-proxy, send-proxy-v2.
proxy::ServerSpec parse_backend(const std::string& text) {
    proxy::ServerSpec server;
    std::string_view rest = text;
    std::size_t comma = rest.find(',');
    std::string_view address = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!rest.empty()) {
        comma = rest.find(',');
        std::string_view option = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        constexpr std::string_view kWeight = "weight=";
        if (option == "send-proxy") {
            server.proxy_protocol = 1;
            continue;
        }
        if (option == "send-proxy-v2") {
            server.proxy_protocol = 2;
            continue;
        }
        std::uint32_t weight = 0;
        std::string_view number = option.substr(std::min(option.size(), kWeight.size()));
        auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), weight);
        if (!option.starts_with(kWeight) || error != std::errc{} ||
            end != number.data() + number.size() || weight < 1 || weight > 1000) {
            throw std::runtime_error(fmt::format(
                "--backend {}: unknown option '{}' (known: weight=N with N from 1 to 1000, "
                "send-proxy, send-proxy-v2)",
                text, option));
        }
        server.weight = weight;
    }
    std::string error;
    if (!core::parse_endpoint(address, server.address, error)) {
        throw std::runtime_error(fmt::format("--backend {}: {}", text, error));
    }
    if (server.address.port() == 0) {
        throw std::runtime_error(fmt::format("--backend {}: a server needs a port", text));
    }
    server.name = std::string(address);
    return server;
}

/// --balance and the flags that go with it: --hash-key, --hash-balance-factor, --slow-start.
void parse_balance(const ProxyFlags& flags, proxy::ProxyOptions& options) {
    using proxy::Balance;
    static constexpr std::pair<std::string_view, Balance> kBalances[] = {
        {"round-robin", Balance::round_robin},
        {"least-outstanding", Balance::least_outstanding},
        {"random-two", Balance::random_two},
        {"source", Balance::source_hash},
        {"hash", Balance::hash},
    };
    const auto* found =
        std::find_if(std::begin(kBalances), std::end(kBalances),
                     [&](const auto& known) { return known.first == flags.balance; });
    if (found == std::end(kBalances)) {
        throw std::runtime_error(fmt::format(
            "--balance: unknown method '{}' (known: round-robin, least-outstanding, random-two, "
            "source, hash)",
            flags.balance));
    }
    options.pool.balance = found->second;
    if (options.pool.balance == Balance::hash) {
        if (flags.hash_key.empty()) {
            throw std::runtime_error(
                "--balance hash: say what to hash with --hash-key uri, --hash-key header:NAME or "
                "--hash-key cookie:NAME (or use --balance source to hash the client's address)");
        }
        std::string error;
        if (!proxy::parse_hash_key(flags.hash_key, options.hash_key, error)) {
            throw std::runtime_error("--hash-key: " + error);
        }
    } else if (!flags.hash_key.empty()) {
        throw std::runtime_error(fmt::format(
            "--hash-key: only --balance hash uses a key (here --balance is {}); add --balance "
            "hash or drop --hash-key",
            flags.balance));
    }
    double factor = flags.hash_balance_factor;
    if (!(factor == 0 || (factor >= 1 && factor <= 100))) {
        throw std::runtime_error(fmt::format(
            "--hash-balance-factor: {} is not 0 (no bound) or a factor from 1 to 100 (1.25 lets "
            "a server take a quarter more than its share)",
            factor));
    }
    options.pool.hash_balance_factor = factor;
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(flags.slow_start, 1'000'000, us, error)) {
        throw std::runtime_error("--slow-start: " + error);
    }
    if (us != 0 && us < 1000) {
        throw std::runtime_error("--slow-start: 0s (off) or at least 1ms");
    }
    options.pool.slow_start_ms = us / 1000;
}

/// --sticky-cookie, --retry-on, --retry-non-idempotent, --retry-budget, --retry-budget-min.
void parse_sticky_and_retries(const ProxyFlags& flags, proxy::ProxyOptions& options) {
    std::string error;
    if (!flags.sticky_cookie.empty() &&
        !proxy::parse_sticky_cookie(flags.sticky_cookie, options.sticky, error)) {
        throw std::runtime_error("--sticky-cookie: " + error);
    }
    if (!proxy::parse_retry_on(flags.retry_on, options.retry, error)) {
        throw std::runtime_error("--retry-on: " + error);
    }
    options.retry.non_idempotent = flags.retry_non_idempotent;
    std::string_view budget = flags.retry_budget;
    if (budget.ends_with('%')) budget.remove_suffix(1);
    std::uint32_t percent = 0;
    auto [end, parsed] = std::from_chars(budget.data(), budget.data() + budget.size(), percent);
    if (budget.empty() || parsed != std::errc{} || end != budget.data() + budget.size() ||
        percent > 100) {
        throw std::runtime_error(fmt::format(
            "--retry-budget: '{}' is not a percentage from 0 to 100 (for example 20%: retries "
            "in flight may be a fifth of the requests in flight)",
            flags.retry_budget));
    }
    options.retry.budget_percent = percent;
    options.retry.budget_min = flags.retry_budget_min;
}

}  // namespace

std::int64_t flag_ms(const char* flag, const std::string& text) {
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(text, 1'000'000, us, error)) {
        throw std::runtime_error(fmt::format("{}: {}", flag, error));
    }
    if (us < 1000)
        throw std::runtime_error(fmt::format("{}: must be at least 1ms (e.g. 500ms or 2s)", flag));
    return us / 1000;
}

void add_proxy_flags(CLI::App& command, ProxyFlags& flags) {
    command.add_option("--backend", flags.backends,
                       "A backend server, HOST:PORT[,weight=N][,send-proxy|,send-proxy-v2] "
                       "(send-proxy: a PROXY protocol header v1 or v2 before each new connection); "
                       "repeat for a pool");
    command
        .add_option("--balance", flags.balance,
                    "How a server is chosen: round-robin (weighted), least-outstanding, "
                    "random-two (the less loaded of two drawn at random), source (consistent "
                    "hash of the client's address) or hash (consistent hash of --hash-key)")
        ->capture_default_str();
    command.add_option("--hash-key", flags.hash_key,
                       "What --balance hash hashes: uri (the request-target), header:NAME or "
                       "cookie:NAME; requests without it are balanced round robin");
    command
        .add_option("--hash-balance-factor", flags.hash_balance_factor,
                    "--balance hash: a server takes a key only while its requests in flight "
                    "stay within this factor of its share (bounded loads); 0: no bound")
        ->capture_default_str();
    command
        .add_option("--slow-start", flags.slow_start,
                    "A server back from a failure ramps from a tenth of its weight to all of it "
                    "over this long (not with source or hash); 0s: off")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--connect-timeout", flags.connect_timeout,
                    "Time allowed to connect to a server before the next one is tried")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--response-timeout", flags.response_timeout,
                    "Time allowed for a server's response head, and between two reads of its "
                    "body; then 504 (or a cut stream)")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--total-timeout", flags.total_timeout,
                    "Time allowed for a whole request, from its head to its answer's last byte "
                    "(0: none, as nginx and HAProxy have none); then 504, or a cut stream once "
                    "the answer began. Tunnels (WebSocket) are not bounded by it")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--backend-idle-timeout", flags.idle_timeout,
                    "Kept-alive connections to servers idle this long are closed; keep it below "
                    "the servers' own keep-alive timeout")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--backend-max-idle", flags.max_idle,
                    "Kept-alive connections held per server and loop")
        ->capture_default_str();
    command
        .add_option("--backend-max-conns", flags.max_conns,
                    "Connections to one server from one loop (0: no cap); requests beyond wait "
                    "in the queue")
        ->capture_default_str();
    command
        .add_option("--queue", flags.queue,
                    "Requests that may wait for a connection, per loop; beyond it 503 with "
                    "Retry-After")
        ->capture_default_str();
    command
        .add_option("--queue-timeout", flags.queue_timeout,
                    "How long a request may wait in the queue before it gets 503")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--client-buffer", flags.client_buffer,
                    "Bytes held per client each way: response bytes for a slow client before "
                    "the proxy stops reading the server, and request body bytes the server has "
                    "not taken before it stops reading the client (a body this small is kept "
                    "whole, so that a failed attempt can be sent again)")
        ->capture_default_str();
    command.add_option("--sticky-cookie", flags.sticky_cookie,
                       "Keep each client on its server with a cookie the proxy sets and strips "
                       "(HAProxy's cookie insert indirect): "
                       "NAME[,samesite=lax|strict|none][,secure][,max-age=DURATION]");
    command
        .add_option("--retry-on", flags.retry_on,
                    "What an idempotent request is retried on, on another server: error (reset "
                    "or close before an answer), timeout (no head within --response-timeout), "
                    "502, 503, 504, 5xx, or none; connect failures are always retried")
        ->capture_default_str();
    command.add_flag("--retry-non-idempotent", flags.retry_non_idempotent,
                     "Retry POST and PATCH by the --retry-on rules too (only for backends that "
                     "make them idempotent); otherwise they are never sent twice");
    command
        .add_option("--retry-budget", flags.retry_budget,
                    "Retries in flight per loop, as a percentage of the requests in flight "
                    "(with --retry-budget-min as a floor), e.g. 20%; a retry beyond it is not made")
        ->capture_default_str();
    command
        .add_option("--retry-budget-min", flags.retry_budget_min,
                    "Retries in flight per loop that are always allowed, whatever the budget")
        ->capture_default_str();
    add_health_flags(command, flags);
}

void add_proxy_mode_flags(CLI::App& command, ProxyFlags& flags) {
    command
        .add_option("--mode", flags.mode,
                    "http: balance HTTP/1.1 requests (layer 7); tcp: relay TCP connections to "
                    "the servers with splice (layer 4, --balance round-robin, "
                    "least-connections or source)")
        ->capture_default_str();
    command
        .add_option("--tcp-idle-timeout", flags.tcp_idle_timeout,
                    "--mode tcp: a relayed connection that moves no byte either way for this "
                    "long is closed")
        ->capture_default_str()
        ->type_name("DURATION");
}

bool tcp_mode(const ProxyFlags& flags) {
    if (flags.mode == "tcp") return true;
    if (flags.mode == "http") return false;
    throw std::runtime_error(fmt::format(
        "--mode: unknown mode '{}' (known: http, the HTTP proxy; tcp, the TCP relay)", flags.mode));
}

std::shared_ptr<proxy::tcp::TcpBoard> make_tcp_board(const ProxyFlags& flags) {
    std::vector<std::string> names;
    for (const auto& text : flags.backends) names.push_back(parse_backend(text).name);
    return std::make_shared<proxy::tcp::TcpBoard>("default", std::move(names));
}

std::unique_ptr<engine::Engine> make_tcp_proxy_engine(const ProxyFlags& flags,
                                                      std::shared_ptr<proxy::tcp::TcpBoard> board) {
    using proxy::Balance;
    proxy::tcp::TcpProxyOptions options;
    for (const auto& text : flags.backends) {
        // send-proxy and send-proxy-v2 hold as in HTTP mode: the header goes first on each
        // relayed connection.
        options.pool.servers.push_back(parse_backend(text));
    }
    if (options.pool.servers.empty()) {
        throw std::runtime_error("--backend: at least one server is needed");
    }
    if (options.pool.servers.size() > 64) {
        throw std::runtime_error("--backend: at most 64 servers in a pool");
    }
    if (flags.balance == "round-robin") {
        options.pool.balance = Balance::round_robin;
    } else if (flags.balance == "least-connections") {
        // Open relays are what the pool counts as outstanding in this mode.
        options.pool.balance = Balance::least_outstanding;
    } else if (flags.balance == "source") {
        options.pool.balance = Balance::source_hash;
    } else {
        throw std::runtime_error(
            fmt::format("--balance {}: not a balancer of --mode tcp (known there: round-robin, "
                        "least-connections, source)",
                        flags.balance));
    }
    if (!flags.hash_key.empty()) {
        throw std::runtime_error(
            "--hash-key: --mode tcp hashes nothing but the client's address (--balance "
            "source); drop --hash-key");
    }
    // The same checks as in HTTP mode (tcp, or http:/PATH for servers that speak HTTP behind
    // the relay), run by one loop of each process.
    parse_health(flags, options.pool);
    if (flags.eject_on_5xx) {
        throw std::runtime_error(
            "--eject-on-5xx: --mode tcp sees no HTTP status (it relays bytes); use "
            "--health-check http:/PATH to take a server that answers 5xx out");
    }
    if (flags.eject_after != ProxyFlags{}.eject_after) {
        throw std::runtime_error(
            "--eject-after: --mode tcp has no requests to count as failed (a failed connect "
            "already sets a server aside, and --health-check takes it out); drop --eject-after");
    }
    if (!flags.sticky_cookie.empty()) {
        throw std::runtime_error(
            "--sticky-cookie: --mode tcp relays bytes and sets no cookie; use --balance source "
            "to keep a client's connections on one server");
    }
    // --slow-start ramps round robin and least connections here as in the HTTP proxy.
    proxy::ProxyOptions scratch;
    ProxyFlags balance_flags = flags;
    balance_flags.balance = "round-robin";
    parse_balance(balance_flags, scratch);
    options.pool.slow_start_ms = scratch.pool.slow_start_ms;
    options.connect_timeout_ms = flag_ms("--connect-timeout", flags.connect_timeout);
    options.idle_timeout_ms = flag_ms("--tcp-idle-timeout", flags.tcp_idle_timeout);
    options.board = std::move(board);
    return std::make_unique<proxy::tcp::TcpEngine>(std::move(options));
}

std::vector<std::string> proxy_pool_flag_names() {
    CLI::App scratch;
    ProxyFlags flags;
    add_proxy_flags(scratch, flags);
    std::vector<std::string> names;
    for (const CLI::Option* option : scratch.get_options()) {
        if (!option->get_lnames().empty() && option->get_lnames().front() != "help") {
            names.push_back(option->get_lnames().front());
        }
    }
    return names;
}

namespace {

/// One pool's options from its flags. Errors name the flag ("--balance: ..."); a named pool's
/// are prefixed with where the file wrote it.
proxy::ProxyOptions pool_options(const ProxyFlags& flags, std::uint64_t max_body_bytes,
                                 const std::vector<core::Endpoint>& listeners,
                                 std::string_view engine) {
    proxy::ProxyOptions options;
    for (const auto& text : flags.backends) options.pool.servers.push_back(parse_backend(text));
    if (options.pool.servers.empty()) {
        throw std::runtime_error("--backend: at least one server is needed");
    }
    if (options.pool.servers.size() > 64) {
        throw std::runtime_error("--backend: at most 64 servers in a pool");
    }
    parse_balance(flags, options);
    parse_sticky_and_retries(flags, options);
    options.connect_timeout_ms = flag_ms("--connect-timeout", flags.connect_timeout);
    options.response_timeout_ms = flag_ms("--response-timeout", flags.response_timeout);
    options.idle_timeout_ms = flag_ms("--backend-idle-timeout", flags.idle_timeout);
    options.max_idle_per_server = flags.max_idle;
    options.max_connections_per_server = flags.max_conns;
    options.queue_size = flags.queue;
    options.queue_timeout_ms = flag_ms("--queue-timeout", flags.queue_timeout);
    // 0 turns it off: every request may take as long as its per-read timeouts allow.
    std::int64_t total_us = 0;
    std::string error;
    bool off = core::parse_duration_us(flags.total_timeout, 1'000'000, total_us, error) &&
               total_us == 0;
    options.total_timeout_ms = off ? 0 : flag_ms("--total-timeout", flags.total_timeout);
    if (flags.client_buffer < 4096) {
        throw std::runtime_error("--client-buffer: at least 4096 bytes");
    }
    options.client_buffer_bytes = flags.client_buffer;
    options.max_body_bytes = max_body_bytes;
    options.listeners = listeners;
    parse_health(flags, options.pool);
    if (options.pool.health.kind != proxy::HealthCheck::Kind::off) {
        if (engine == "fork" || engine == "prefork") {
            // Their workers run the handler only while they serve a client: checks would
            // start afresh with each connection and stop between them.
            throw std::runtime_error(fmt::format(
                "--health-check: the {} engine runs the proxy only while a client is connected, "
                "so nothing would check between clients; use another --engine (epoll, uring, "
                "thread, ...) or drop --health-check",
                engine));
        }
        // One board for all the loops of this process (a forked worker gets a copy of its own).
        options.health_board = std::make_shared<proxy::HealthBoard>(options.pool.servers.size());
    }
    return options;
}

/// The pool's counters: made here, before any fork, so that every process counts into them.
void attach_board(proxy::ProxyOptions& options, const std::string& name,
                  std::vector<std::shared_ptr<proxy::PoolBoard>>& boards) {
    std::vector<std::string> servers;
    for (const auto& server : options.pool.servers) servers.push_back(server.name);
    options.board = std::make_shared<proxy::PoolBoard>(name, std::move(servers));
    boards.push_back(options.board);
}

/// The routes' conditions, checked; pools by index into `names`.
std::vector<proxy::RouteSpec> route_specs(const ProxyLayout& layout,
                                          const std::vector<std::string>& names) {
    std::vector<proxy::RouteSpec> specs;
    for (const RouteFlags& route : layout.routes) {
        proxy::RouteSpec spec;
        spec.name = route.where;
        auto found = std::find(names.begin(), names.end(), route.pool);
        if (found == names.end()) {
            std::string known;
            for (const auto& name : names) known += (known.empty() ? "" : ", ") + name;
            throw std::runtime_error(fmt::format("{} pool: no pool is named '{}' (pools: {})",
                                                 route.where, route.pool, known));
        }
        spec.pool = static_cast<std::size_t>(found - names.begin());
        spec.hosts = route.hosts;
        spec.path = route.path;
        spec.path_prefix = route.path_prefix;
        spec.path_regex = route.path_regex;
        for (const auto& method : route.methods) {
            http::Method known = proxy::method_from_text(method);
            if (known == http::Method::other) {
                spec.method_texts.push_back(method);
            } else {
                spec.methods.push_back(known);
            }
        }
        for (const auto& text : route.headers) {
            proxy::HeaderCondition condition;
            std::string error;
            if (!proxy::parse_header_condition(text, condition, error)) {
                throw std::runtime_error(fmt::format("{} header: {}", route.where, error));
            }
            spec.headers.push_back(std::move(condition));
        }
        spec.retry_non_idempotent = route.retry_non_idempotent;
        specs.push_back(std::move(spec));
    }
    return specs;
}

}  // namespace

engine::HandlerFactory make_proxy_handlers(const ProxyFlags& flags, const ProxyLayout& layout,
                                           std::uint64_t max_body_bytes,
                                           const std::vector<core::Endpoint>& listeners,
                                           std::vector<std::shared_ptr<proxy::PoolBoard>>& boards,
                                           std::string_view engine) {
    if (layout.empty()) {
        proxy::ProxyOptions options = pool_options(flags, max_body_bytes, listeners, engine);
        attach_board(options, "default", boards);
        return [options] { return std::make_unique<proxy::ProxyHandler>(options); };
    }
    // Pools by index: the named ones in file order, then the default one ([proxy] or the
    // flags) when it has servers; routes name it "default".
    std::vector<proxy::ProxyOptions> pools;
    std::vector<std::string> names;
    for (const PoolFlags& pool : layout.pools) {
        try {
            pools.push_back(pool_options(pool.flags, max_body_bytes, listeners, engine));
        } catch (const std::exception& e) {
            throw std::runtime_error(fmt::format("{}: {}", pool.where, e.what()));
        }
        attach_board(pools.back(), pool.name, boards);
        names.push_back(pool.name);
    }
    int default_pool = -1;
    if (!flags.backends.empty()) {
        default_pool = static_cast<int>(pools.size());
        pools.push_back(pool_options(flags, max_body_bytes, listeners, engine));
        attach_board(pools.back(), "default", boards);
        names.emplace_back("default");
    }
    if (pools.empty()) {
        throw std::runtime_error(
            "--backend: no pool has a server: give --backend (or [proxy] backend) for the "
            "default pool, or [[pool]] tables with backend");
    }
    std::vector<proxy::RouteSpec> routes = route_specs(layout, names);
    std::string error;
    if (!proxy::RouteTable::build(routes, error)) throw std::runtime_error(error);
    return [pools, routes, default_pool] {
        std::vector<std::unique_ptr<proxy::ProxyHandler>> handlers;
        for (const auto& options : pools) {
            handlers.push_back(std::make_unique<proxy::ProxyHandler>(options));
        }
        std::string ignored;  // compiled once already, above
        return std::make_unique<proxy::RoutingHandler>(
            std::move(handlers), proxy::RouteTable::build(routes, ignored), default_pool);
    };
}

std::string describe_backends(const ProxyFlags& flags, const ProxyLayout& layout) {
    std::string text;
    for (const auto& backend : flags.backends) text += (text.empty() ? "" : " ") + backend;
    if (!layout.pools.empty()) {
        text += fmt::format("{}{} pool{}", text.empty() ? "" : " and ", layout.pools.size(),
                            layout.pools.size() == 1 ? "" : "s");
    }
    return text;
}

}  // namespace c10k::app
