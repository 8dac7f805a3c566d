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
    command
        .add_option("--backend", flags.backends,
                    "A backend server, HOST:PORT[,weight=N][,send-proxy|,send-proxy-v2] "
                    "(send-proxy: a PROXY protocol header v1 or v2 before each new connection); "
                    "repeat for a pool")
        ->required();
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
                    "Response bytes held for a slow client before the proxy stops reading "
                    "the server")
        ->capture_default_str();
    add_health_flags(command, flags);
}

engine::HandlerFactory make_proxy_handlers(const ProxyFlags& flags, std::uint64_t max_body_bytes,
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
    options.connect_timeout_ms = flag_ms("--connect-timeout", flags.connect_timeout);
    options.response_timeout_ms = flag_ms("--response-timeout", flags.response_timeout);
    options.idle_timeout_ms = flag_ms("--backend-idle-timeout", flags.idle_timeout);
    options.max_idle_per_server = flags.max_idle;
    options.max_connections_per_server = flags.max_conns;
    options.queue_size = flags.queue;
    options.queue_timeout_ms = flag_ms("--queue-timeout", flags.queue_timeout);
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
    return [options] { return std::make_unique<proxy::ProxyHandler>(options); };
}

std::string describe_backends(const ProxyFlags& flags) {
    std::string text;
    for (const auto& backend : flags.backends) text += (text.empty() ? "" : " ") + backend;
    return text;
}

}  // namespace c10k::app
