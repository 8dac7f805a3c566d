// `c10k serve`: the HTTP/1.1 static server, with its concurrency engine chosen at run time.

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "admin_flags.hpp"
#include "cgi_flags.hpp"
#include "fastcgi_flags.hpp"
#include "commands.hpp"
#include "config/reference.hpp"
#include "config_keys.hpp"
#include "core/duration.hpp"
#include "core/handover.hpp"
#include "core/log.hpp"
#include "core/net.hpp"
#include "core/reopen.hpp"
#include "core/sd_notify.hpp"
#include "core/socket_buffers.hpp"
#include "core/unique_fd.hpp"
#include "engine/engine.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/process_group.hpp"
#include "proxy_config.hpp"
#include "proxy_flags.hpp"
#include "push_flags.hpp"
#include "serve/static_files.hpp"
#include "serve/synthetic_cost.hpp"
#include "vhost_flags.hpp"
#include "ws_flags.hpp"

namespace c10k::app {

namespace {

struct ServeFlags {
    std::string root;
    std::vector<std::string> listen{"127.0.0.1:8080"};
    std::string engine = "epoll";
    int threads = static_cast<int>(std::thread::hardware_concurrency());
    std::uint64_t max_connections = 0;
    std::string header_timeout = "10s";
    std::string keepalive_timeout = "60s";
    std::string body_timeout = "30s";
    std::string send_timeout = "30s";
    std::string shutdown_grace = "10s";
    std::string access_log;
    std::string access_log_format = "combined";
    std::string error_log;
    std::string log_level = "info";
    std::string pid_file;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_headers = 100;
    std::size_t max_uri_bytes = 8 * 1024;
    std::uint64_t max_body_bytes = 1024 * 1024;
    bool follow_symlinks = false;
    bool serve_dotfiles = false;
    bool no_cache = false;
    bool no_sendfile = false;
    bool no_helpers = false;
    std::string batch = "0";
    std::string overload_target = "0";  ///< --overload-target: 0 is off
    std::string synthetic_cost;         ///< --synthetic-cost PREFIX: empty is off
    std::uint32_t thread_stack_kb = 64;
    std::vector<std::string> stage_threads;  ///< --stage-threads STAGE=MIN..MAX (staged engine)
    int processes = 0;   ///< 0: one process (prefork: its default number of workers)
    std::string sndbuf;  ///< --sndbuf SIZE: empty leaves the kernel's default
    std::string rcvbuf;  ///< --rcvbuf SIZE
    std::vector<std::string> proxy_protocol_from;  ///< peers that send a PROXY header
    std::string config_path;  ///< --config, for its [[host]] tables (vhost_flags.hpp)
    /// Those tables, as apply_config_file read and checked them (one read of the file).
    config::HostsConfig hosts;
    PushFlags push;
    WsFlags ws;
    CgiFlags cgi;
    FastcgiFlags fastcgi;
    AdminFlags admin;
    /// `c10k proxy`: the same machinery with the proxy handler in place of the static one.
    bool proxy_mode = false;
    ProxyFlags proxy;
    ProxyLayout proxy_layout;  ///< [[pool]] and [[route]] of `c10k proxy --config`
};

/// What `c10k serve` is asked to do besides serving. These options are not settings, so a
/// config file has no keys for them (config_keys.cpp).
struct ServeMode {
    std::string config_path;
    bool check_only = false;
    bool print_reference = false;
};

/// Everything `serve` checks and builds before it binds a listener: what -t validates, and
/// what serving then runs.
struct PreparedServe {
    std::unique_ptr<engine::Engine> engine;
    engine::ServerConfig config;
    engine::HandlerFactory handlers;
    std::vector<core::Endpoint> endpoints;
    std::shared_ptr<push::Hub> hub;
    std::shared_ptr<http::MetricsBoard> metrics;  ///< with --admin-listen
    std::string root;
    bool prefork = false;
    int processes = 1;
    /// --sndbuf / --rcvbuf, set on every listening socket (and so on every accepted one).
    core::SocketBuffers buffers;
    /// `c10k proxy --mode tcp`: `engine` is the layer-4 relay, made from these flags in every
    /// process of a group.
    bool tcp_relay = false;
    /// Its counters, shared by the processes of a group.
    std::shared_ptr<proxy::tcp::TcpBoard> tcp_board;
};

/// Workers of the prefork engine when --processes is not given: it serves one connection per
/// worker at a time, so a handful of keep-alive clients would otherwise starve the rest.
constexpr int kDefaultPreforkWorkers = 16;

core::LogLevel parse_log_level(const std::string& text) {
    core::LogLevel level;
    if (core::parse_log_level(text, level)) return level;
    throw std::runtime_error(
        fmt::format("--log-level: unknown level '{}' (known: debug, info, warn, error)", text));
}

/// The error log, opened for appending; throws with the reason when it cannot be.
core::unique_fd open_error_log(const std::string& path) {
    core::unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        throw std::runtime_error(
            fmt::format("--error-log: cannot open '{}': {}", path, std::strerror(errno)));
    }
    return fd;
}

std::string default_root() {
    // The checkout's demo site (run from the source tree, as `make run` does), the one of the
    // tree this binary was built from, then the installed copy (make install, the .deb).
    for (const char* candidate :
         {"examples/site", C10K_DEMO_SITE, C10K_INSTALLED_SITE, "/usr/share/c10k/site"}) {
        if (std::filesystem::is_directory(candidate)) return candidate;
    }
    return "examples/site";  // absent everywhere: the usual "cannot open root" error names it
}

std::int64_t duration_ms(const std::string& flag, const std::string& text) {
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(text, 1'000'000, us, error)) {
        throw std::runtime_error(fmt::format("{}: {}", flag, error));
    }
    return us / 1000;
}

std::vector<core::Endpoint> parse_listen(const std::vector<std::string>& texts) {
    std::vector<core::Endpoint> endpoints;
    for (const auto& text : texts) {
        core::Endpoint endpoint;
        std::string error;
        if (!core::parse_endpoint(text, endpoint, error))
            throw std::runtime_error("--listen: " + error);
        endpoints.push_back(endpoint);
    }
    return endpoints;
}

/// --sndbuf / --rcvbuf: each size, or 0 where the flag is not given (the kernel's default).
core::SocketBuffers parse_buffers(const ServeFlags& flags) {
    core::SocketBuffers buffers;
    std::string error;
    if (!flags.sndbuf.empty() && !core::parse_buffer_size(flags.sndbuf, buffers.send_bytes, error))
        throw std::runtime_error("--sndbuf " + error);
    if (!flags.rcvbuf.empty() &&
        !core::parse_buffer_size(flags.rcvbuf, buffers.receive_bytes, error))
        throw std::runtime_error("--rcvbuf " + error);
    return buffers;
}

/// --synthetic-cost PREFIX: the benchmark aid in front of everything else of the site.
engine::HandlerFactory with_synthetic_cost(const std::string& prefix,
                                           engine::HandlerFactory inner) {
    if (prefix.empty()) return inner;
    if (prefix.front() != '/' || prefix.find_first_of("?# ") != std::string::npos) {
        throw std::runtime_error(fmt::format(
            "--synthetic-cost '{}': give a path prefix that starts with '/', e.g. /cost/", prefix));
    }
    std::string location = prefix.back() == '/' ? prefix : prefix + '/';
    return [location, inner] { return std::make_unique<serve::SyntheticCost>(location, inner()); };
}

/// Validates the flags and builds what serving needs, without binding a listener, starting a
/// thread or (unless --redis-require) connecting to Redis. Throws std::runtime_error with a
/// message that starts with the flag at fault where there is one.
PreparedServe prepare_serve(const ServeFlags& flags) {
    PreparedServe prepared;
    auto& engine = prepared.engine;
    engine = engine::create(flags.engine);
    if (!engine) {
        std::string names;
        for (const auto& info : engine::all_engines())
            names += (names.empty() ? "" : ", ") + info.name;
        throw std::runtime_error(fmt::format(
            "--engine: unknown engine '{}' (known: {}; `c10k engines` tells which work here)",
            flags.engine, names));
    }
    for (const auto& info : engine::all_engines()) {
        if (info.name == flags.engine && !info.available) {
            throw std::runtime_error(fmt::format("--engine {} does not work on this machine: {}",
                                                 flags.engine, info.unavailable_reason));
        }
    }
    if (flags.threads < 1) throw std::runtime_error("--threads must be at least 1");

    engine::ServerConfig& config = prepared.config;
    config.threads = flags.threads;
    config.max_connections = flags.max_connections;
    config.timeouts.header_ms = duration_ms("--header-timeout", flags.header_timeout);
    config.timeouts.keepalive_ms = duration_ms("--keepalive-timeout", flags.keepalive_timeout);
    config.timeouts.body_ms = duration_ms("--body-timeout", flags.body_timeout);
    config.timeouts.send_ms = duration_ms("--send-timeout", flags.send_timeout);
    config.shutdown_grace_ms = duration_ms("--shutdown-grace", flags.shutdown_grace);
    config.limits.max_header_bytes = flags.max_header_bytes;
    config.limits.max_headers = flags.max_headers;
    config.limits.max_uri_bytes = flags.max_uri_bytes;
    config.limits.max_body_bytes = flags.max_body_bytes;
    config.access_log_path = flags.access_log;
    if (flags.access_log_format == "combined") {
        config.access_log_format = http::AccessLogFormat::combined;
    } else if (flags.access_log_format == "json") {
        config.access_log_format = http::AccessLogFormat::json;
    } else {
        throw std::runtime_error(
            fmt::format("--access-log-format: unknown format '{}' (known: combined, json)",
                        flags.access_log_format));
    }
    try {
        engine::open_access_log(config);  // fails here, with the reason, rather than after start
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("--access-log: {}", e.what()));
    }
    parse_log_level(flags.log_level);
    if (!flags.error_log.empty()) open_error_log(flags.error_log);  // closed again: a check
    config.thread_stack_kb = flags.thread_stack_kb;
    config.use_sendfile = !flags.no_sendfile;
    if (flags.no_helpers) config.disk_helpers = 0;
    for (const auto& spec : flags.stage_threads) {
        std::string error;
        if (!engine::parse_stage_threads(spec, config.staged, error)) {
            throw std::runtime_error(error);
        }
    }
    if (!flags.proxy_protocol_from.empty()) {
        auto trusted = std::make_shared<core::AddressSet>();
        for (const auto& entry : flags.proxy_protocol_from) {
            std::string error;
            if (!trusted->add(entry, error)) {
                throw std::runtime_error(fmt::format("--proxy-protocol-from: {}", error));
            }
        }
        config.proxy_protocol_from = std::move(trusted);
    }
    if (flags.processes < 0) throw std::runtime_error("--processes must be at least 1");
    bool prefork = flags.engine == "prefork";
    if (prefork) config.threads = flags.processes > 0 ? flags.processes : kDefaultPreforkWorkers;
    prepared.prefork = prefork;
    prepared.processes = prefork ? 1 : std::max(flags.processes, 1);
    prepared.buffers = parse_buffers(flags);
    {
        std::int64_t us = 0;
        std::string error;
        if (!core::parse_duration_us(flags.batch, 1, us, error)) {
            throw std::runtime_error("--batch: " + error);
        }
        config.batch_us = us;
    }
    {
        std::int64_t us = 0;
        std::string error;
        if (!core::parse_duration_us(flags.overload_target, 1000, us, error)) {
            throw std::runtime_error("--overload-target: " + error);
        }
        if (us < 0 || us > 10'000'000) {
            throw std::runtime_error(fmt::format(
                "--overload-target '{}': give a queue delay between 0 (off) and 10s, e.g. 5ms",
                flags.overload_target));
        }
        config.overload_target_us = us;
    }

    if (flags.proxy_mode && tcp_mode(flags.proxy)) {
        // The relay runs loops of its own (src/proxy/tcp): the engines' Session speaks HTTP.
        if (flags.engine != "epoll") {
            throw std::runtime_error(fmt::format(
                "--engine {}: --mode tcp relays with its own epoll loops (--threads of them); "
                "drop --engine",
                flags.engine));
        }
        if (!flags.proxy_layout.empty()) {
            throw std::runtime_error(
                "--config: [[pool]] and [[route]] route HTTP requests, which --mode tcp does not "
                "read; use --backend (or [proxy] backend) for its one pool");
        }
        if (!flags.proxy_protocol_from.empty()) {
            throw std::runtime_error(
                "--proxy-protocol-from: --mode tcp does not read PROXY headers yet; drop it");
        }
        prepared.endpoints = parse_listen(flags.listen);
        // The counters are mapped here, before any fork, so that /metrics sums every process.
        prepared.tcp_board = make_tcp_board(flags.proxy);
        prepared.engine = make_tcp_proxy_engine(flags.proxy, prepared.tcp_board);
        prepared.metrics = enable_tcp_admin(flags.admin, config, prepared.endpoints,
                                            prepared.handlers, prepared.tcp_board);
        prepared.tcp_relay = true;
        return prepared;
    }
    if (flags.proxy_mode) {
        prepared.endpoints = parse_listen(flags.listen);
        std::vector<std::shared_ptr<proxy::PoolBoard>> boards;
        prepared.handlers =
            make_proxy_handlers(flags.proxy, flags.proxy_layout, flags.max_body_bytes,
                                prepared.endpoints, boards, flags.engine);
        prepared.metrics = enable_admin(flags.admin, flags.engine, nullptr, config,
                                        prepared.endpoints, prepared.handlers, std::move(boards));
        return prepared;
    }
    prepared.root = flags.root.empty() ? default_root() : flags.root;
    serve::StaticOptions options;
    options.root = prepared.root;
    options.follow_symlinks = flags.follow_symlinks;
    options.serve_dotfiles = flags.serve_dotfiles;
    options.cache = !flags.no_cache;
    // Constructed once here so that a bad root fails at start with a clear message. It stays
    // alive for the handlers' sake: they all borrow its root descriptor instead of opening one
    // each (a handler per connection would otherwise cost a second descriptor per client).
    std::shared_ptr<serve::StaticFiles> first;
    try {
        first = std::make_shared<serve::StaticFiles>(options);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("--root: {}", e.what()));
    }
    options.shared_root_fd = first->root_fd();
    engine::HandlerFactory& handlers = prepared.handlers;
    handlers = [options, first] { return std::make_unique<serve::StaticFiles>(options); };
    enable_virtual_hosts(flags.config_path, flags.hosts, options, flags.push, handlers);
    // In front of the files (and virtual hosts): a CGI prefix is never a file.
    handlers = with_cgi(flags.cgi, handlers);
    // FastCGI scripts live among the files (beneath --root), so its prefixes come first.
    handlers = with_fastcgi(flags.fastcgi, prepared.root, handlers);
    handlers = with_synthetic_cost(flags.synthetic_cost, handlers);

    std::vector<core::Endpoint>& endpoints = prepared.endpoints;
    endpoints = parse_listen(flags.listen);
    auto ws_config = make_ws_config(flags.ws);
    std::shared_ptr<push::Hub>& hub = prepared.hub;
    if (flags.push.enabled()) {
        PushFlags push_flags = flags.push;
        hub = make_push_hub(push_flags, flags.engine,
                            flags.engine == "thread"
                                ? static_cast<int>(engine::thread_engine_loops(config))
                                : config.threads,
                            endpoints);
        if (push_flags.redis_require) require_redis(*hub);
        handlers = with_push(hub, handlers, ws_config);
    }
    // WebSocket locations come first: an echo path is never a push channel or a file.
    handlers = with_ws_echo(flags.ws, ws_config, handlers);
    // Last, so that the admin listener comes after the publish listener and its requests never
    // reach the other handlers.
    prepared.metrics = enable_admin(flags.admin, flags.engine, hub, config, endpoints, handlers);
    return prepared;
}

/// The listening sockets: the ones a predecessor passed on at a reload or an upgrade, or the
/// ones systemd passed (socket activation: they replace --listen), then the server's own (the
/// --listen ones when nothing was passed, the publish and admin listeners always). Every one
/// gets `options`' socket buffers.
engine::ListenerSet bind_listeners(const ServeFlags& flags,
                                   const std::vector<core::Endpoint>& endpoints,
                                   const core::ListenOptions& options, core::Handover& handover) {
    std::string error;
    if (!core::take_handover(handover, error)) {
        throw std::runtime_error(fmt::format("taking over from the running server: {}", error));
    }
    if (handover.from > 0) {
        std::vector<std::string> messages;
        engine::ListenerSet listeners(std::move(handover.sockets), endpoints, messages, options);
        for (const auto& message : messages) std::printf("c10k: %s\n", message.c_str());
        return listeners;
    }
    auto inherited = core::listen_fds();
    if (!inherited) {
        throw std::runtime_error(fmt::format(
            "socket activation: a descriptor systemd passed is not a TCP listening socket ({}); "
            "check ListenStream= in the .socket unit",
            std::strerror(inherited.error())));
    }
    if (inherited->empty()) return engine::ListenerSet(endpoints, options);
    std::vector<core::unique_fd> fds;
    for (auto& listener : *inherited) fds.push_back(std::move(listener.fd));
    std::vector<core::Endpoint> own(endpoints.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                            flags.listen.size(), endpoints.size())),
                                    endpoints.end());
    std::printf(
        "c10k: socket activation: serving the %zu socket%s systemd passed instead of "
        "--listen\n",
        fds.size(), fds.size() == 1 ? "" : "s");
    return engine::ListenerSet(std::move(fds), own, options);
}

/// Writes this process's pid to `path` (a new file renamed over it, so that a reader never
/// sees half a number). Throws with the reason.
void write_pid_file(const std::string& path) {
    std::string temporary = path + ".new";
    core::unique_fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    std::string text = fmt::format("{}\n", ::getpid());
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::rename(temporary.c_str(), path.c_str()) != 0) {
        int error = errno;
        ::unlink(temporary.c_str());
        throw std::runtime_error(
            fmt::format("--pid-file: cannot write '{}': {}", path, std::strerror(error)));
    }
}

/// Removes the pid file at the stop, unless a successor has written its own pid there.
void remove_pid_file(const std::string& path) {
    core::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return;
    char text[32] = {};
    ssize_t n = ::read(fd.get(), text, sizeof text - 1);
    if (n > 0 && std::atol(text) == static_cast<long>(::getpid())) ::unlink(path.c_str());
}

/// Under systemd (Type=notify): the watchdog's beat and the stop notice, sent by the engine's
/// own turning (engine::Heartbeat) and only from this process, the one systemd watches (its
/// children would be refused under NotifyAccess=main). Outside systemd the calls do nothing.
/// The first beat also ends a handover: the engine turns, so the predecessor may stop
/// (`serving` runs once, then). At the stop the listening sockets close (`stopping`).
engine::Heartbeat server_heartbeat(std::function<void()> serving, std::function<void()> stopping) {
    engine::Heartbeat heartbeat;
    pid_t main_pid = ::getpid();
    std::uint64_t watchdog_ms = core::watchdog_interval_ms();
    // Half the interval, as sd_watchdog_enabled(3) advises, so one late beat is no death.
    // Without a watchdog the beat only marks the start.
    heartbeat.interval_ms =
        watchdog_ms > 0 ? static_cast<std::int64_t>(std::max<std::uint64_t>(watchdog_ms / 2, 1))
                        : 3'600'000;
    auto started = std::make_shared<bool>(false);
    heartbeat.beat = [main_pid, watchdog_ms, started, serving] {
        if (::getpid() != main_pid) return;
        if (!*started) {
            *started = true;
            if (serving) serving();
        }
        if (watchdog_ms > 0) (void)core::notify_watchdog();
    };
    heartbeat.stopping = [main_pid, stopping] {
        if (::getpid() != main_pid) return;
        // A drain for a successor is no stop of the service: the successor is its main process
        // now, and systemd (NotifyAccess=all) would take STOPPING=1 from this one as the
        // service's.
        if (!core::handover_draining()) (void)core::notify_stopping();
        if (stopping) stopping();
    };
    return heartbeat;
}

/// Binds the listeners and serves until stopped: what `c10k serve` does after prepare_serve.
int run_prepared(const ServeFlags& flags, PreparedServe& prepared, engine::StopSource& stop) {
    const engine::ServerConfig& config = prepared.config;
    const std::shared_ptr<push::Hub>& hub = prepared.hub;
    const std::string& root = prepared.root;
    bool prefork = prepared.prefork;
    int processes = prepared.processes;
    // Log files: the error log replaces stderr, and SIGUSR1 reopens it and the access log.
    core::set_log_level(parse_log_level(flags.log_level));
    if (!flags.error_log.empty()) {
        core::unique_fd log = open_error_log(flags.error_log);
        ::dup3(log.get(), STDERR_FILENO, 0);
        core::reopen_on_signal(STDERR_FILENO, flags.error_log);
    }
    core::install_reopen_handler();
    // Push channels held here (not in Redis, whose streams keep them anyway): a reload or an
    // upgrade passes them on to the next process. In a --processes group the first child holds
    // them (it assigns the ids) and passes them; prefork and fork keep none worth passing.
    bool local_channels = hub && !hub->external() && !prefork && flags.engine != "fork";
    bool group_channels = local_channels && processes > 1;
    core::Handover handover;
    core::ListenOptions listen_options;
    listen_options.buffers = prepared.buffers;
    engine::ListenerSet listeners =
        bind_listeners(flags, prepared.endpoints, listen_options, handover);
    if (!prepared.buffers.empty() && !listeners.shared().empty()) {
        // Every listener got the same sizes and the same caps: one reading tells for all.
        std::string shortfall =
            core::socket_buffer_shortfall(listeners.shared().front(), prepared.buffers);
        if (!shortfall.empty()) {
            core::log(core::LogLevel::warn, "--sndbuf/--rcvbuf: {}", shortfall);
        }
    }
    prepared.config.heartbeat = server_heartbeat(
        [from = handover.from, what = handover.what, pid_file = flags.pid_file] {
            if (from <= 0) return;
            // The file names the process that serves: this one from now on.
            if (!pid_file.empty()) {
                try {
                    write_pid_file(pid_file);
                } catch (const std::runtime_error& e) {
                    core::log(core::LogLevel::error, "{}", e.what());
                }
            }
            std::printf("c10k: pid %d took over from pid %d (%s)\n", static_cast<int>(::getpid()),
                        static_cast<int>(from), what.c_str());
            std::fflush(stdout);
            core::finish_handover(from);
        },
        [&listeners, hub, local_channels, group_channels] {
            listeners.close_all();
            // A drain for a successor: the channels go on in the next process. Nothing to
            // pass is said too, so that the successor does not wait for it.
            if (core::handover_draining() && !group_channels) {
                core::handover_pass_state(local_channels ? hub->hand_over() : "");
            }
        });
    if (handover.from > 0 && local_channels) {
        // Before a group forks, so that every process of it waits for the channels.
        hub->await_handover(std::move(handover.state));
    }

    ::signal(SIGPIPE, SIG_IGN);  // a peer that went away is an EPIPE, not a death
    std::string urls;
    // The endpoints are the --listen ones, then the publish listener, then the admin one.
    std::size_t admin_count = prepared.metrics ? 1 : 0;
    std::size_t public_count = listeners.endpoints().size() - (hub ? 1 : 0) - admin_count;
    for (std::size_t i = 0; i < public_count; ++i) {
        const auto& endpoint = listeners.endpoints()[i];
        urls += fmt::format("{}{}://{}/", urls.empty() ? "" : " ",
                            prepared.tcp_relay ? "tcp" : "http", endpoint.to_string());
    }
    std::string shape =
        prefork ? fmt::format("{} worker processes", config.threads)
                : fmt::format("{} thread{}", flags.threads, flags.threads == 1 ? "" : "s");
    if (processes > 1) shape += fmt::format(" x {} processes", processes);
    std::string what = flags.proxy_mode ? (prepared.tcp_relay ? "relaying to " : "proxying to ") +
                                              describe_backends(flags.proxy, flags.proxy_layout)
                                        : "serving " + root;
    // The relay is no engine of `c10k engines`: its own name says so.
    std::string engine_name =
        prepared.tcp_relay ? std::string(prepared.engine->name()) : flags.engine;
    std::printf("c10k: %s on %s (engine %s, %s)\n", what.c_str(), urls.c_str(), engine_name.c_str(),
                shape.c_str());
    if (hub) {
        std::printf("c10k: publishing on http://%s/pub/ (push under",
                    listeners.endpoints()[public_count].to_string().c_str());
        for (const auto& prefix : hub->options().prefixes) std::printf(" %s", prefix.c_str());
        std::printf(")\n");
    }
    if (prepared.metrics) {
        std::printf("c10k: metrics on http://%s/metrics (status page: /status)\n",
                    listeners.endpoints().back().to_string().c_str());
    }
    std::function<void(int)> in_child;
    if (processes > 1) {
        // One process assigns ids: only the first serves the publish listener, and the others
        // receive its publishes (push/group_link.hpp).
        // With --redis, Redis assigns ids: every process serves the publish listener.
        // The admin listener is the first process's too: the counters are shared memory, so
        // its /metrics covers every process.
        std::size_t first_only = admin_count + (hub && !hub->external() ? 1 : 0);
        if (first_only > 0) listeners.last_in_first_process_only(first_only);
        if (hub) {
            in_child = [hub, processes](int process) { join_push_group(*hub, process, processes); };
        }
    }
    // Every socket of every loop (and process) is opened now and kept here, so that SIGHUP
    // (reload) and SIGUSR2 (upgrade) can pass them all to a successor (core/handover.hpp).
    bool per_loop = prepared.engine->listens_per_loop();
    listeners.prepare(per_loop ? static_cast<std::size_t>(processes) : 1,
                      per_loop ? static_cast<std::size_t>(config.threads) : 1);
    core::install_handover();
    if (!flags.pid_file.empty() && handover.from <= 0) write_pid_file(flags.pid_file);
    std::fflush(stdout);
    // Every listener is bound: connections queue from now on, so systemd may go on. A
    // successor says it is reloading instead, and ready once it turns (finish_handover).
    if (handover.from > 0) {
        (void)core::notify_reloading();
    } else {
        (void)core::notify_ready();
    }
    (void)core::notify_status(fmt::format("{} on {} (engine {})", what, urls, flags.engine));
    std::function<void(int)> at_child_stop;
    if (group_channels) {
        at_child_stop = [hub](int process) {
            if (process == 0 && core::handover_draining()) {
                core::handover_pass_state(hub->hand_over());
            }
        };
    }
    int status = 0;
    if (processes > 1 && prepared.tcp_relay) {
        const ProxyFlags& proxy = flags.proxy;
        status = engine::run_process_group(
            processes,
            [&proxy, board = prepared.tcp_board] { return make_tcp_proxy_engine(proxy, board); },
            config, prepared.handlers, listeners, stop, in_child, at_child_stop);
    } else if (processes > 1) {
        status = engine::run_process_group(processes, flags.engine, config, prepared.handlers,
                                           listeners, stop, in_child, at_child_stop);
    } else {
        status = prepared.engine->run(config, prepared.handlers, listeners, stop);
    }
    if (!flags.pid_file.empty()) remove_pid_file(flags.pid_file);
    std::printf("c10k: stopped\n");
    std::fflush(stdout);
    return status;
}

int run_serve(const ServeFlags& flags) {
    // First, before any thread starts: it blocks SIGINT and SIGTERM in this thread and so in
    // every thread started later, and takes them through a descriptor that the engine's loops
    // (or, where the engine forks, its supervising loop) wait on; no thread of ours watches
    // signals, so an engine may fork with no thread missing in its children (stop.hpp).
    engine::StopSource stop(engine::StopSource::process_signals);
    PreparedServe prepared = prepare_serve(flags);
    return run_prepared(flags, prepared, stop);
}

/// Prints an error that may span several lines (one per problem in a config file), each with
/// the command's name before it.
void print_error(const char* command, const std::string& message) {
    std::size_t start = 0;
    while (start <= message.size()) {
        std::size_t end = message.find('\n', start);
        if (end == std::string::npos) end = message.size();
        std::fprintf(stderr, "c10k %s: %.*s\n", command, static_cast<int>(end - start),
                     message.data() + start);
        start = end + 1;
    }
}

/// Every option of `serve` (`proxy` has all but those of files, push and WebSocket echo:
/// `serves_files` false), bound to `flags` and `mode`; a fresh pair makes a fresh command,
/// which is how the flags can be read again (with the config file) without global state.
void add_serve_options(CLI::App& cmd, ServeFlags& flags, ServeMode& mode, bool serves_files) {
    cmd.add_option("--config", mode.config_path,
                   "Read settings from this TOML file (examples/c10k.toml shows every key); "
                   "flags given on the command line override it")
        ->type_name("FILE");
    cmd.add_flag("-t,--check-config", mode.check_only,
                 "Check the configuration (file and flags) and exit: 0 when it is valid, 1 with "
                 "the errors. Binds no port and starts nothing");
    // Hidden from --help: docs/OPERATIONS.md holds its output and says how to regenerate it.
    cmd.add_flag("--config-reference", mode.print_reference,
                 "Print the config file reference (Markdown) and exit")
        ->group("");
    if (serves_files) {
        cmd.add_option("--root", flags.root,
                       "Directory to serve (default: the demo site, examples/site)");
    }
    cmd.add_option("--listen", flags.listen,
                   "Address to listen on, HOST:PORT or [V6]:PORT; repeat for several; port 0 "
                   "picks a free one")
        ->capture_default_str();
    cmd.add_option("--engine", flags.engine, "Concurrency architecture (`c10k engines` lists them)")
        ->capture_default_str();
    cmd.add_option("--threads", flags.threads,
                   "Event loops, each with its own SO_REUSEPORT listener (default: CPUs)");
    cmd.add_option("--max-connections", flags.max_connections,
                   "Open connections allowed; beyond it new ones get 503, or with proxy --mode "
                   "tcp are closed at once (0: no cap but the descriptor limit)")
        ->capture_default_str();
    cmd.add_option("--header-timeout", flags.header_timeout,
                   "Time from a request's first byte to its complete header")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--keepalive-timeout", flags.keepalive_timeout,
                   "Idle time allowed between requests on a keep-alive connection")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--body-timeout", flags.body_timeout,
                   "Time without progress allowed while a request body arrives")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--send-timeout", flags.send_timeout,
                   "Time without progress allowed while a response is sent")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--shutdown-grace", flags.shutdown_grace,
                   "On SIGTERM/SIGINT, how long responses in flight may take to finish")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--access-log", flags.access_log,
                   "Write an access log to this file (default: off); SIGUSR1 reopens it");
    cmd.add_option("--access-log-format", flags.access_log_format,
                   "The access log's lines: combined (as nginx and Apache) or json (one object "
                   "per line)")
        ->capture_default_str();
    cmd.add_option("--error-log", flags.error_log,
                   "Write the server's messages to this file instead of stderr; SIGUSR1 reopens "
                   "it (default: stderr)");
    cmd.add_option("--pid-file", flags.pid_file,
                   "Write the main process's pid to this file (for kill -HUP / -USR2); the new "
                   "process of a reload or an upgrade writes its own, and the file is removed at "
                   "the stop (default: none)");
    cmd.add_option("--log-level", flags.log_level,
                   "The least severe messages written: debug, info, warn or error")
        ->capture_default_str();
    cmd.add_option("--max-header-bytes", flags.max_header_bytes,
                   "Largest request line + header block; larger gets 431")
        ->capture_default_str();
    cmd.add_option("--max-headers", flags.max_headers, "Most header fields; more gets 431")
        ->capture_default_str();
    cmd.add_option("--max-uri-bytes", flags.max_uri_bytes,
                   "Longest request-target; longer gets 414")
        ->capture_default_str();
    cmd.add_option("--max-body-bytes", flags.max_body_bytes,
                   "Largest request body (read and discarded); larger gets 413")
        ->capture_default_str();
    if (serves_files) {
        cmd.add_flag(
            "--follow-symlinks", flags.follow_symlinks,
            "Follow symbolic links, as long as they resolve inside the root (default: off)");
        cmd.add_flag("--serve-dotfiles", flags.serve_dotfiles,
                     "Serve files and directories whose name starts with '.' (default: off)");
        cmd.add_flag("--no-cache", flags.no_cache,
                     "Hold no file in memory: every response is read from its file (for the "
                     "caching experiment; default: small files are cached per event loop)");
        cmd.add_flag("--no-sendfile", flags.no_sendfile,
                     "Send file bodies by read and write through a buffer instead of sendfile "
                     "(uring: IORING_OP_READ and send instead of splice), for the zero-copy "
                     "experiment");
        cmd.add_flag("--no-helpers", flags.no_helpers,
                     "Event engines: read files that are not in the page cache on the event loop "
                     "itself (it blocks) instead of handing them to disk helper threads "
                     "(docs/AMPED.md)");
    }
    cmd.add_option("--proxy-protocol-from", flags.proxy_protocol_from,
                   "Peers (ADDRESS or NETWORK/PREFIX; repeat for several) that put a PROXY "
                   "protocol header (v1 or v2) before each connection, as a balancer in front "
                   "does: its client address then stands for theirs. Their connections must "
                   "begin with one (400 otherwise); others' must not (default: none)");
    cmd.add_option("--batch", flags.batch,
                   "Wake-up batching at light load: after a wait that returned few events, sleep "
                   "this long (e.g. 1ms) so that the next events are handled together; 0 is off "
                   "(a bare number is microseconds)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--overload-target", flags.overload_target,
                   "Overload control: the queue delay (how long work waits before it is served) "
                   "above which, when even the least delay stays above it for 100 ms, new "
                   "requests get a fast 503 with Retry-After, and past 4x it new connections "
                   "are closed unread and idle keep-alive ones closed, oldest first "
                   "(docs/OVERLOAD.md); 0 is off (a bare number is milliseconds)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--thread-stack", flags.thread_stack_kb,
                   "Stack size in KB for the thread-per-connection engine")
        ->capture_default_str();
    cmd.add_option("--stage-threads", flags.stage_threads,
                   "The staged engine's pools: STAGE=MIN..MAX threads (or STAGE=N), STAGE one of "
                   "handler (runs handlers off the loops; default 1..8) and file (reads files "
                   "the page cache lacks; default 1..4); repeat for each stage. Each pool's "
                   "controller grows it while its queue stays long and shrinks it when threads "
                   "stay idle (docs/STAGED.md)")
        ->type_name("TEXT");
    cmd.add_option("--sndbuf", flags.sndbuf,
                   "SO_SNDBUF of every listening socket, which accepted connections inherit: "
                   "bytes, or with k or m (e.g. 16k); the kernel doubles it and caps it at "
                   "net.core.wmem_max (a warning at start says so), and a fixed size turns off "
                   "send-buffer autotuning (default: the kernel's, tuned by net.ipv4.tcp_wmem)")
        ->type_name("SIZE");
    cmd.add_option("--rcvbuf", flags.rcvbuf,
                   "SO_RCVBUF of every listening socket, set before listen() so that accepted "
                   "connections inherit it and the window scale follows it: bytes, or with k or "
                   "m; capped at net.core.rmem_max, and a fixed size turns off receive-buffer "
                   "autotuning (default: the kernel's, tuned by net.ipv4.tcp_rmem)")
        ->type_name("SIZE");
    cmd.add_option("--processes", flags.processes,
                   "Event engines: run N server processes, each with its own SO_REUSEPORT "
                   "listeners and --threads loops (how to go past the per-process descriptor "
                   "limit). prefork: the number of worker processes (default 16)")
        ->capture_default_str();
    if (serves_files) {
        cmd.add_option("--synthetic-cost", flags.synthetic_cost,
                       "Benchmark aid: GET PREFIX<us> (e.g. /cost/5000) burns that many "
                       "microseconds of CPU in the handler, at most 1000000, and answers 200; a "
                       "bad number gets 400. Lets anyone who reaches the server burn CPU: for "
                       "benchmarks only (default: off)");
        add_push_flags(cmd, flags.push);
        add_ws_flags(cmd, flags.ws);
        add_cgi_flags(cmd, flags.cgi);
        add_fastcgi_flags(cmd, flags.fastcgi);
    }
    add_admin_flags(cmd, flags.admin);
}

/// What `serve` and `proxy` do once CLI11 has parsed the command line: print the config
/// reference, or fill in from the config file the options the command line did not give
/// (`take` keeps what else the file said), then check (-t) or run.
void run_command(const char* name, CLI::App& cmd, ServeFlags& flags, const ServeMode& mode,
                 config::KeyTable (*key_table)(const CLI::App&),
                 const std::function<void(AppliedConfig&)>& take) {
    if (mode.print_reference) {
        std::fputs(config::render_reference(key_table(cmd), name).c_str(), stdout);
        return;
    }
    int status = 0;
    ConfigOrigins origins;
    try {
        if (!mode.config_path.empty()) {
            flags.config_path = mode.config_path;
            AppliedConfig applied = apply_config_file(cmd, mode.config_path, key_table(cmd));
            origins = std::move(applied.origins);
            take(applied);
        }
        if (mode.check_only) {
            prepare_serve(flags);
            if (mode.config_path.empty()) {
                std::printf("c10k: flags are valid\n");
            } else {
                std::printf("c10k: configuration %s is valid\n", mode.config_path.c_str());
            }
            return;
        }
        status = run_serve(flags);
    } catch (const std::exception& e) {
        print_error(name, with_origin(e.what(), origins));
        throw CLI::RuntimeError(1);
    }
    if (status != 0) throw CLI::RuntimeError(status);
}

}  // namespace

static const CommandRegistrar registrar{[](CLI::App& app) {
    auto flags = std::make_shared<ServeFlags>();
    auto mode = std::make_shared<ServeMode>();
    CLI::App* cmd = app.add_subcommand("serve", "Serve static files over HTTP/1.1");
    add_serve_options(*cmd, *flags, *mode, true);
    cmd->callback([cmd, flags, mode] {
        run_command("serve", *cmd, *flags, *mode, serve_key_table,
                    [flags](AppliedConfig& applied) { flags->hosts = std::move(applied.hosts); });
    });
}};

}  // namespace c10k::app

namespace c10k::app {

static const CommandRegistrar proxy_registrar{[](CLI::App& app) {
    auto flags = std::make_shared<ServeFlags>();
    auto mode = std::make_shared<ServeMode>();
    flags->proxy_mode = true;
    CLI::App* cmd = app.add_subcommand(
        "proxy",
        "Proxy: balance HTTP/1.1 requests (or, with --mode tcp, TCP connections) over a pool of "
        "backend servers");
    add_serve_options(*cmd, *flags, *mode, false);
    add_proxy_flags(*cmd, flags->proxy);
    add_proxy_mode_flags(*cmd, flags->proxy);
    cmd->callback([cmd, flags, mode] {
        run_command(
            "proxy", *cmd, *flags, *mode, proxy_key_table, [flags, mode](AppliedConfig& applied) {
                flags->proxy_layout = read_proxy_layout(applied.elements, mode->config_path);
            });
    });
}};

}  // namespace c10k::app
