#pragma once
// The admin listener (--admin-listen): /metrics for Prometheus. It is a listener of its own so
// that operators can keep it on loopback or a management network while the public listeners
// face the world; requests on the other listeners never reach it.

#include <cstdint>
#include <memory>

#include "admin/prometheus.hpp"
#include "engine/engine.hpp"
#include "http/handler.hpp"
#include "http/metrics.hpp"

namespace c10k::admin {

/// Answers requests that came in on the admin listener.
class AdminHandler final : public http::Handler {
public:
    /// `board` and `context.hub` must outlive the handler.
    AdminHandler(const http::MetricsBoard& board, MetricsContext context)
        : board_(board), context_(std::move(context)) {}

    void handle(const http::Request& request, http::Response& response) override;

private:
    const http::MetricsBoard& board_;
    MetricsContext context_;
};

/// Handlers that send requests on listener `admin_listener` to an AdminHandler and all others
/// to `inner`'s handlers.
engine::HandlerFactory with_admin(engine::HandlerFactory inner, std::uint8_t admin_listener,
                                  std::shared_ptr<const http::MetricsBoard> board,
                                  MetricsContext context);

}  // namespace c10k::admin
