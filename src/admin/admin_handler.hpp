#pragma once
// The admin listener (--admin-listen): /metrics for Prometheus, and /status, a live page of
// charts that polls /status.json and loads its script and style from /assets/ (all compiled in).
// It is a listener of its own so that operators can keep it on loopback or a management network
// while the public listeners face the world; requests on the other listeners never reach it.

#include <cstdint>
#include <memory>
#include <vector>

#include "admin/prometheus.hpp"
#include "core/ref_ptr.hpp"
#include "engine/engine.hpp"
#include "http/handler.hpp"
#include "http/metrics.hpp"
#include "http/response.hpp"

namespace c10k::admin {

/// Answers requests that came in on the admin listener.
class AdminHandler final : public http::Handler {
public:
    /// `board` and `context.hub` must outlive the handler.
    AdminHandler(const http::MetricsBoard& board, MetricsContext context)
        : board_(board), context_(std::move(context)) {}

    void handle(const http::Request& request, http::Response& response) override;

private:
    void serve_asset(std::size_t index, http::Response& response);
    /// POST /proxy/drain and /proxy/ready ?pool=NAME&server=HOST:PORT (`c10k proxy`).
    void proxy_command(const http::Request& request, http::Response& response);

    const http::MetricsBoard& board_;
    MetricsContext context_;
    /// The embedded assets as shared bodies, made on first request: a browser's reloads then
    /// copy nothing. One set per handler, as a Blob's count is not atomic and each loop has
    /// its own handler.
    std::vector<core::RefPtr<http::Blob>> asset_bodies_;
};

/// Handlers that send requests on listener `admin_listener` to an AdminHandler and all others
/// to `inner`'s handlers.
engine::HandlerFactory with_admin(engine::HandlerFactory inner, std::uint8_t admin_listener,
                                  std::shared_ptr<const http::MetricsBoard> board,
                                  MetricsContext context);

}  // namespace c10k::admin
