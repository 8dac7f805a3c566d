// `c10k inetd --listen ADDR -- PROGRAM ARGS...`: a program per TCP connection, with the socket
// as its standard input and output (inetd's `nowait` services), under xinetd's limits.
// docs/INETD.md says what each flag does and which xinetd attribute it stands for.

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "core/duration.hpp"
#include "core/log.hpp"
#include "core/net.hpp"
#include "engine/stop.hpp"
#include "inetd/server.hpp"

namespace c10k::app {

namespace {

struct InetdFlags {
    std::vector<std::string> listen;
    std::string max_instances = "50";
    std::string per_source = "10";
    std::string cps = "50:10s";
    std::string timeout = "0";
    std::string shutdown_grace = "10s";
    std::vector<std::string> env;
    std::string log_level = "info";
    std::vector<std::string> command;  // PROGRAM ARGS...
};

/// A mistake on the command line: said, with how to put it right, and exit status 2 (as
/// `c10k bench` does for usage errors).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::uint32_t parse_count(const char* flag, const std::string& text, const char* what) {
    std::uint32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        throw UsageError(fmt::format("{} '{}': not a number; give {} (0 for no limit), e.g. {} 10",
                                     flag, text, what, flag));
    }
    return value;
}

std::int64_t parse_ms(const char* flag, const std::string& text) {
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(text, 1'000'000, us, error)) {
        throw UsageError(fmt::format("{}: {}", flag, error));
    }
    return us / 1000;
}

/// "N" or "N:WAIT" (xinetd's `cps = N WAIT`; WAIT a duration, a bare number in seconds).
void parse_cps(const std::string& text, inetd::Options& options) {
    std::size_t colon = text.find(':');
    options.cps = parse_count("--cps", text.substr(0, colon), "connections per second");
    if (colon == std::string::npos) return;  // the default wait
    options.cps_wait_ms = parse_ms("--cps", text.substr(colon + 1));
    if (options.cps_wait_ms < 1) {
        throw UsageError(
            fmt::format("--cps '{}': the wait must be at least 1ms, e.g. 50:10s", text));
    }
}

/// The program's file: a name without '/' is looked up in the server's PATH now, once, so that
/// a mistake shows at the start and not at the first connection.
std::string resolve_program(const std::string& name) {
    auto runnable = [](const std::string& path) {
        struct stat info {};
        return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
               ::access(path.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos) {
        if (!runnable(name)) {
            throw UsageError(fmt::format(
                "program '{}': no such executable file (give the path of a program that may be "
                "executed)",
                name));
        }
        return name;
    }
    const char* path = std::getenv("PATH");
    std::string directories = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= directories.size()) {
        std::size_t end = directories.find(':', start);
        if (end == std::string::npos) end = directories.size();
        std::string directory = directories.substr(start, end - start);
        std::string candidate = (directory.empty() ? "." : directory) + "/" + name;
        if (runnable(candidate)) return candidate;
        start = end + 1;
    }
    throw UsageError(fmt::format(
        "program '{}': not found in PATH (give its path, e.g. /usr/bin/{})", name, name));
}

inetd::Options make_options(const InetdFlags& flags) {
    if (flags.command.empty()) {
        throw UsageError(
            "no program to run: name it after --, e.g. c10k inetd --listen 127.0.0.1:7000 -- "
            "/bin/cat");
    }
    inetd::Options options;
    options.program.path = resolve_program(flags.command.front());
    options.program.argv = flags.command;
    std::string error;
    if (!inetd::fixed_environment(flags.env, std::getenv, options.program.environment, error)) {
        throw UsageError("--env " + error);
    }
    options.max_instances = parse_count("--max-instances", flags.max_instances,
                                        "the number of programs that may run at once");
    options.per_source = parse_count("--per-source", flags.per_source,
                                     "the number of programs one client address may run at once");
    parse_cps(flags.cps, options);
    options.timeout_ms = parse_ms("--timeout", flags.timeout);
    options.shutdown_grace_ms = parse_ms("--shutdown-grace", flags.shutdown_grace);
    core::LogLevel level;
    if (!core::parse_log_level(flags.log_level, level)) {
        throw UsageError(fmt::format(
            "--log-level: unknown level '{}' (known: debug, info, warn, error)", flags.log_level));
    }
    core::set_log_level(level);
    return options;
}

std::vector<core::Endpoint> parse_listen(const std::vector<std::string>& texts) {
    if (texts.empty()) {
        throw UsageError("--listen: give the address to listen on, e.g. --listen 127.0.0.1:7000");
    }
    std::vector<core::Endpoint> endpoints;
    for (const std::string& text : texts) {
        core::Endpoint endpoint;
        std::string error;
        if (!core::parse_endpoint(text, endpoint, error)) {
            throw UsageError(fmt::format("--listen: {} (write HOST:PORT or [V6]:PORT)", error));
        }
        endpoints.push_back(endpoint);
    }
    return endpoints;
}

/// "50:10s" or "50:250ms", as --cps is written.
std::string cps_text(const inetd::Options& options) {
    if (options.cps_wait_ms % 1000 == 0) {
        return fmt::format("{}:{}s", options.cps, options.cps_wait_ms / 1000);
    }
    return fmt::format("{}:{}ms", options.cps, options.cps_wait_ms);
}

int run_inetd(const InetdFlags& flags) {
    // Before anything else: SIGINT and SIGTERM are blocked and read through a descriptor that
    // the loop watches (engine/stop.hpp); the programs get them back unblocked.
    engine::StopSource stop(engine::StopSource::process_signals);
    std::vector<core::Endpoint> endpoints = parse_listen(flags.listen);
    inetd::Options options = make_options(flags);
    std::vector<core::unique_fd> listeners;
    std::string urls;
    core::ListenOptions listen_options;
    // One server per address: another process on the same port would split its connections
    // and each would count its own instances.
    listen_options.reuse_port = false;
    for (const core::Endpoint& endpoint : endpoints) {
        core::Result<core::unique_fd> listener = core::listen_on(endpoint, listen_options);
        if (!listener) {
            throw std::runtime_error(fmt::format("cannot listen on {}: {}", endpoint.to_string(),
                                                 std::strerror(listener.error())));
        }
        core::Result<core::Endpoint> bound = core::local_endpoint(listener->get());
        urls += fmt::format("{}tcp://{}/", urls.empty() ? "" : " ",
                            (bound ? bound.value() : endpoint).to_string());
        listeners.push_back(std::move(listener.value()));
    }
    ::signal(SIGPIPE, SIG_IGN);
    auto limit = [](std::uint32_t value) {
        return value == 0 ? std::string("no") : std::to_string(value);
    };
    std::printf("c10k: inetd serving %s on %s (%s instances, %s per source, cps %s)\n",
                options.program.path.c_str(), urls.c_str(), limit(options.max_instances).c_str(),
                limit(options.per_source).c_str(),
                options.cps == 0 ? "off" : cps_text(options).c_str());
    std::fflush(stdout);
    int status = inetd::serve(options, std::move(listeners), stop.fd());
    std::printf("c10k: stopped\n");
    std::fflush(stdout);
    return status;
}

}  // namespace

static const CommandRegistrar registrar{[](CLI::App& app) {
    auto flags = std::make_shared<InetdFlags>();
    CLI::App* cmd = app.add_subcommand(
        "inetd",
        "Run a program for each TCP connection, the socket as its standard input, output and "
        "error (inetd's nowait services; xinetd's limits): c10k inetd --listen ADDR -- PROGRAM "
        "ARGS...");
    cmd->add_option("--listen", flags->listen,
                    "Address to listen on, HOST:PORT or [V6]:PORT; repeat for several; port 0 "
                    "picks a free one")
        ->type_name("TEXT");
    cmd->add_option("--max-instances", flags->max_instances,
                    "Programs running at once (xinetd instances); beyond, a new connection is "
                    "closed at once and logged; 0: no limit")
        ->capture_default_str()
        ->type_name("UINT");
    cmd->add_option("--per-source", flags->per_source,
                    "Programs running at once for one client address (xinetd per_source); "
                    "beyond, closed and logged; 0: no limit")
        ->capture_default_str()
        ->type_name("UINT");
    cmd->add_option("--cps", flags->cps,
                    "N[:WAIT] (xinetd cps): more than N connections in a second close the one "
                    "too many and stop accepting for WAIT (default 10s; a bare number is "
                    "seconds); 0: no limit")
        ->capture_default_str()
        ->type_name("TEXT");
    cmd->add_option("--timeout", flags->timeout,
                    "A program running longer is killed with its process group (SIGKILL); 0: "
                    "never (a bare number is seconds)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_option("--shutdown-grace", flags->shutdown_grace,
                    "On SIGTERM/SIGINT the server stops accepting and the programs get this long "
                    "to end by themselves; then SIGTERM to their process groups, and SIGKILL 2s "
                    "later")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_option("--env", flags->env,
                    "NAME=VALUE to set in the programs' environment (xinetd env), or NAME to "
                    "pass the server's own value (xinetd passenv); repeat for more. Besides, "
                    "they get only PATH and the connection's REMOTE_ADDR, REMOTE_PORT, "
                    "SERVER_ADDR, SERVER_PORT, PROTO, TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, "
                    "TCPLOCALPORT")
        ->type_name("TEXT");
    cmd->add_option("--log-level", flags->log_level,
                    "The least severe messages written: debug, info, warn or error")
        ->capture_default_str();
    cmd->add_option("PROGRAM", flags->command,
                    "The program and its arguments, after -- (a name without / is looked up "
                    "in PATH at the start)")
        ->type_name("PROGRAM ARGS...");
    cmd->callback([flags] {
        int status = 0;
        try {
            status = run_inetd(*flags);
        } catch (const UsageError& e) {
            std::fprintf(stderr, "c10k inetd: %s\n", e.what());
            throw CLI::RuntimeError(2);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "c10k inetd: %s\n", e.what());
            throw CLI::RuntimeError(1);
        }
        if (status != 0) throw CLI::RuntimeError(status);
    });
}};

}  // namespace c10k::app
