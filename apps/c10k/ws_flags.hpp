#pragma once
// The `c10k serve` flags of WebSocket (--ws-echo and the --ws-* policy), and what they turn
// into: one websocket::ServerConfig shared by every loop, and a handler factory that wraps the
// static (or push) one with the echo locations.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/engine.hpp"
#include "websocket/server_session.hpp"

namespace c10k::app {

struct WsFlags {
    std::vector<std::string> echo;
    std::vector<std::string> origins;
    std::vector<std::string> subprotocols;
    bool deflate = true;
    bool share_compressed = true;
    std::uint64_t max_message = 16u << 20;
    std::string ping_interval = "30s";
    std::string pong_timeout = "10s";
    std::string close_timeout = "5s";
};

void add_ws_flags(CLI::App& command, WsFlags& flags);

/// Checks the flags; throws std::runtime_error with what is wrong and how to fix it.
std::shared_ptr<const websocket::ServerConfig> make_ws_config(const WsFlags& flags);

/// Handlers that answer the --ws-echo locations, and `inner` for everything else.
engine::HandlerFactory with_ws_echo(const WsFlags& flags,
                                    std::shared_ptr<const websocket::ServerConfig> config,
                                    engine::HandlerFactory inner);

}  // namespace c10k::app
