#include "admin/admin_handler.hpp"

#include <utility>

#include <fmt/core.h>

#include "admin/assets.hpp"
#include "admin/status_json.hpp"
#include "http/context.hpp"
#include "proxy/board.hpp"
#include "push/names.hpp"

namespace c10k::admin {

namespace {

void text(http::Response& response, int status, std::string_view content_type, std::string body) {
    response.set_status(status);
    response.add_header("Content-Type", content_type);
    response.add_header("Cache-Control", "no-store");
    response.set_body(std::move(body));
}

constexpr std::string_view kIndex =
    "<!doctype html><meta charset=utf-8><title>c10k admin</title>"
    "<h1>c10k admin</h1><ul><li><a href=/status>/status</a>: live charts</li>"
    "<li><a href=/status.json>/status.json</a>: the totals they draw, as JSON</li>"
    "<li><a href=/metrics>/metrics</a>: Prometheus text</li></ul>\n";

// The page may load only what the admin listener serves: its scripts and style are inline or
// under /assets/, and it talks to /status.json. A page edit that reached for the network would
// then fail in the browser (and in the page's end-to-end test) rather than leak.
constexpr std::string_view kStatusPolicy =
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

// The assets change only with the binary; an hour keeps reloads cheap and an upgrade visible
// soon enough without versioned URLs.
constexpr std::string_view kAssetCaching = "public, max-age=3600";

/// One per loop: the admin listener's requests go to the AdminHandler, the rest to inner.
class AdminRouter final : public http::Handler {
public:
    AdminRouter(std::unique_ptr<http::Handler> inner, std::uint8_t admin_listener,
                std::shared_ptr<const http::MetricsBoard> board, MetricsContext context)
        : inner_(std::move(inner)),
          board_(std::move(board)),
          admin_(*board_, std::move(context)),
          admin_listener_(admin_listener) {}

    void handle(const http::Request& request, http::Response& response) override {
        if (request.listener == admin_listener_) {
            admin_.handle(request, response);
        } else {
            inner_->handle(request, response);
        }
    }
    void on_loop_start(http::LoopContext& context) override { inner_->on_loop_start(context); }
    void on_loop_stop(http::LoopContext& context) override { inner_->on_loop_stop(context); }
    bool wants_peer() const override { return inner_->wants_peer(); }
    /// The admin pages stay on the loop (they read loop-owned state); the rest is inner's call.
    bool answers_off_loop(const http::Request& request) const override {
        return request.listener != admin_listener_ && inner_->answers_off_loop(request);
    }
    std::uint64_t body_limit(std::uint8_t listener) const override {
        return listener == admin_listener_ ? 0 : inner_->body_limit(listener);
    }
    bool streams_body(std::uint8_t listener) const override {
        return listener != admin_listener_ && inner_->streams_body(listener);
    }

private:
    std::unique_ptr<http::Handler> inner_;
    std::shared_ptr<const http::MetricsBoard> board_;
    AdminHandler admin_;
    std::uint8_t admin_listener_;
};

}  // namespace

void AdminHandler::handle(const http::Request& request, http::Response& response) {
    if (request.path().starts_with("/proxy/")) {
        proxy_command(request, response);
        return;
    }
    if (request.method != http::Method::get && request.method != http::Method::head) {
        text(response, 405, "text/plain; charset=utf-8", "the admin listener answers GET\n");
        response.add_header("Allow", "GET, HEAD");
        return;
    }
    std::string_view path = request.path();
    if (path == "/metrics") {
        // The exposition format's own media type, so that Prometheus parses it as text.
        text(response, 200, "text/plain; version=0.0.4; charset=utf-8",
             render_prometheus(board_.totals(), context_));
    } else if (path == "/status.json") {
        text(response, 200, "application/json",
             render_status_json(board_.totals(), context_, StatusClock::now()));
    } else if (path == "/status") {
        text(response, 200, "text/html; charset=utf-8", std::string(status_page_html()));
        response.add_header("Content-Security-Policy", kStatusPolicy);
    } else if (const Asset* asset = find_asset(path); asset != nullptr) {
        serve_asset(static_cast<std::size_t>(asset - assets().data()), response);
    } else if (path == "/") {
        text(response, 200, "text/html; charset=utf-8", std::string(kIndex));
    } else {
        text(response, 404, "text/plain; charset=utf-8", "not found: try /status or /metrics\n");
    }
}

void AdminHandler::proxy_command(const http::Request& request, http::Response& response) {
    // Changes of state, so POST only (a prefetching browser or a crawler must not drain).
    std::string_view path = request.path();
    bool drain = path == "/proxy/drain";
    if (!drain && path != "/proxy/ready") {
        text(response, 404, "text/plain; charset=utf-8",
             "not found: POST /proxy/drain or /proxy/ready with ?pool=NAME&server=HOST:PORT\n");
        return;
    }
    if (request.method != http::Method::post) {
        text(response, 405, "text/plain; charset=utf-8", "use POST\n");
        response.add_header("Allow", "POST");
        return;
    }
    std::string_view pool = push::query_param(request.query(), "pool");
    std::string_view server = push::query_param(request.query(), "server");
    if (pool.empty()) pool = "default";
    for (const auto& board : context_.proxy_pools) {
        if (board->name() != pool) continue;
        int index = board->find(server);
        if (index < 0 || !board->set_draining(static_cast<std::size_t>(index), drain)) {
            text(response, 404, "text/plain; charset=utf-8",
                 fmt::format("pool {} has no server '{}'\n", pool, server));
            return;
        }
        text(response, 200, "text/plain; charset=utf-8",
             fmt::format(
                 "{} in pool {}: {}\n", server, pool,
                 drain ? "draining (no new requests; those in flight finish)" : "taking requests"));
        return;
    }
    text(response, 404, "text/plain; charset=utf-8", fmt::format("no pool named '{}'\n", pool));
}

void AdminHandler::serve_asset(std::size_t index, http::Response& response) {
    const Asset& asset = assets()[index];
    if (asset_bodies_.empty()) asset_bodies_.resize(assets().size());
    core::RefPtr<http::Blob>& body = asset_bodies_[index];
    if (!body) body = core::make_ref<http::Blob>(std::string(asset.bytes));
    response.set_status(200);
    response.add_header("Content-Type", asset.content_type);
    response.add_header("Cache-Control", kAssetCaching);
    response.add_header("X-Content-Type-Options", "nosniff");
    response.set_body(body, 0, body->data.size());
}

engine::HandlerFactory with_admin(engine::HandlerFactory inner, std::uint8_t admin_listener,
                                  std::shared_ptr<const http::MetricsBoard> board,
                                  MetricsContext context) {
    return [inner = std::move(inner), admin_listener, board = std::move(board),
            context = std::move(context)] {
        return std::make_unique<AdminRouter>(inner(), admin_listener, board, context);
    };
}

}  // namespace c10k::admin
