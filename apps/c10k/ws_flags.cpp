#include "ws_flags.hpp"

#include <stdexcept>

#include <fmt/core.h>

#include "push_flags.hpp"
#include "websocket/echo_handler.hpp"

namespace c10k::app {

void add_ws_flags(CLI::App& cmd, WsFlags& flags) {
    cmd.add_option("--ws-echo", flags.echo,
                   "A WebSocket location that sends every message back (repeatable), e.g. "
                   "/echo: for conformance suites and c10k bench --ws --echo");
    cmd.add_option("--ws-origin", flags.origins,
                   "Allow WebSocket handshakes only from this Origin (repeatable, e.g. "
                   "https://example.com); others get 403. Default: any origin");
    cmd.add_option("--ws-subprotocol", flags.subprotocols,
                   "A WebSocket subprotocol the server agrees to, most preferred first "
                   "(repeatable); default: none");
    cmd.add_option("--ws-deflate", flags.deflate,
                   "Agree to permessage-deflate compression when a client offers it")
        ->capture_default_str();
    cmd.add_option("--ws-share-compressed", flags.share_compressed,
                   "Push: compress each message once per loop and send that frame to every "
                   "WebSocket subscriber that agreed to deflate; false compresses per "
                   "subscriber (only to measure what sharing saves)")
        ->capture_default_str();
    cmd.add_option("--ws-max-message", flags.max_message,
                   "Largest WebSocket message accepted, in bytes, after inflation; larger ones "
                   "close the connection with 1009")
        ->capture_default_str();
    cmd.add_option("--ws-ping-interval", flags.ping_interval,
                   "Ping a WebSocket client silent this long (0: never)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--ws-pong-timeout", flags.pong_timeout,
                   "Close a pinged WebSocket client that sends nothing for this long")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--ws-close-timeout", flags.close_timeout,
                   "After sending a close frame, wait this long for the client's")
        ->capture_default_str()
        ->type_name("DURATION");
}

std::shared_ptr<const websocket::ServerConfig> make_ws_config(const WsFlags& flags) {
    auto config = std::make_shared<websocket::ServerConfig>();
    for (const auto& path : flags.echo) {
        if (path.empty() || path.front() != '/') {
            throw std::runtime_error(fmt::format(
                "--ws-echo: '{}' must be a URL path that starts with '/', e.g. /echo", path));
        }
    }
    if (flags.max_message == 0) {
        throw std::runtime_error("--ws-max-message must be at least 1 byte");
    }
    config->options.max_message_bytes = flags.max_message;
    config->options.ping_interval_ms = push_duration_ms("--ws-ping-interval", flags.ping_interval);
    config->options.pong_timeout_ms = push_duration_ms("--ws-pong-timeout", flags.pong_timeout);
    config->options.close_timeout_ms = push_duration_ms("--ws-close-timeout", flags.close_timeout);
    if (config->options.pong_timeout_ms <= 0 || config->options.close_timeout_ms <= 0) {
        throw std::runtime_error("--ws-pong-timeout and --ws-close-timeout must be above 0");
    }
    config->policy.allowed_origins = flags.origins;
    config->policy.subprotocols = flags.subprotocols;
    config->policy.deflate.enabled = flags.deflate;
    config->share_compressed = flags.share_compressed;
    return config;
}

engine::HandlerFactory with_ws_echo(const WsFlags& flags,
                                    std::shared_ptr<const websocket::ServerConfig> config,
                                    engine::HandlerFactory inner) {
    if (flags.echo.empty()) return inner;
    return [paths = flags.echo, config, inner] {
        return std::make_unique<websocket::EchoHandler>(paths, config, inner());
    };
}

}  // namespace c10k::app
