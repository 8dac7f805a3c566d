#pragma once
// The `c10k serve` flags of live push (--push and friends), kept apart from the static-file
// flags, and what they turn into: a push::Hub and a handler factory that wraps the static one.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/net.hpp"
#include "engine/engine.hpp"
#include "push/hub.hpp"
#include "websocket/server_session.hpp"

namespace c10k::app {

struct PushFlags {
    std::vector<std::string> prefixes;
    std::string publish_listen = "127.0.0.1:8081";
    std::string token;
    std::size_t history = 100;
    std::string history_age = "10m";
    std::string first = "none";
    std::string heartbeat = "15s";
    std::string long_poll_timeout = "30s";
    std::uint64_t max_queue = 256 * 1024;
    std::uint64_t max_message = 64 * 1024;
    std::string retry = "2s";
    std::string redis;
    std::string redis_prefix = "c10k:";
    std::string redis_password_file;
    std::string redis_timeout = "5s";
    std::string redis_linger = "30s";
    bool redis_require = false;
    bool demo = false;
    std::string demo_interval = "3s";

    bool enabled() const { return demo || !prefixes.empty(); }
};

void add_push_flags(CLI::App& command, PushFlags& flags);

/// Checks the flags against the engine and process count, appends the publish listener to
/// `endpoints`, and makes the Hub for `loops` event loops. Throws std::runtime_error with a
/// message that says what is wrong and how to fix it.
std::shared_ptr<push::Hub> make_push_hub(PushFlags& flags, const std::string& engine, int loops,
                                         std::vector<core::Endpoint>& endpoints);

/// In each process of a --processes group, before its engine runs: process `slot` 0 becomes
/// the sequencer that publishes; the others receive from it (push/group_link.hpp). With
/// --redis every process publishes and follows Redis on its own, and only slot 0 runs the demo.
void join_push_group(push::Hub& hub, int slot, int processes);

/// Handlers that serve push locations and the publish API (SSE, long-poll, and WebSocket with
/// `websocket`'s policy), and `inner` for everything else.
engine::HandlerFactory with_push(std::shared_ptr<push::Hub> hub, engine::HandlerFactory inner,
                                 std::shared_ptr<const websocket::ServerConfig> websocket);

/// --redis-require: connects to Redis once, blocking, before serving; throws with what is wrong
/// when it does not answer PING (or AUTH/SELECT fail) within the --redis-timeout.
void require_redis(const push::Hub& hub);

/// Parses a --demo-interval style duration into milliseconds (throws with the flag's name).
std::int64_t push_duration_ms(const std::string& flag, const std::string& text);

}  // namespace c10k::app
