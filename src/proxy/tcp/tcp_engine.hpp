#pragma once
// The layer-4 relay as an engine::Engine, so that `c10k proxy --mode tcp` gets what the serve
// machinery gives every engine: listeners bound before the start (port 0 made concrete),
// --processes groups, SIGTERM with --shutdown-grace, reload and upgrade handovers, systemd's
// notices. It runs --threads TcpLoops, each on its own SO_REUSEPORT listeners. The HTTP handler
// factory, when given, serves the admin listener (/metrics) on an HTTP loop of its own: the
// last listener (the admin endpoint comes last, and in the first process of a group only).

#include <string_view>

#include "engine/engine.hpp"
#include "proxy/tcp/options.hpp"

namespace c10k::proxy::tcp {

class TcpEngine final : public engine::Engine {
public:
    explicit TcpEngine(TcpProxyOptions options) : options_(std::move(options)) {}

    std::string_view name() const override { return "tcp-relay"; }
    int run(const engine::ServerConfig& config, const engine::HandlerFactory& handlers,
            engine::ListenerSet& listeners, engine::StopSource& stop) override;

private:
    TcpProxyOptions options_;
};

}  // namespace c10k::proxy::tcp
