#include "proxy/router.hpp"

#include <algorithm>

namespace c10k::proxy {

RoutingHandler::RoutingHandler(std::vector<std::unique_ptr<ProxyHandler>> pools,
                               std::unique_ptr<RouteTable> routes, int default_pool)
    : pools_(std::move(pools)), routes_(std::move(routes)), default_pool_(default_pool) {}

void RoutingHandler::handle(const http::Request& request, http::Response& response) {
    const RouteSpec* route = routes_ ? routes_->match(request) : nullptr;
    if (route != nullptr) {
        pools_[route->pool]->proxy(request, response, route->retry_non_idempotent);
        return;
    }
    if (default_pool_ >= 0) {
        pools_[static_cast<std::size_t>(default_pool_)]->proxy(request, response, false);
        return;
    }
    // As HAProxy without a default_backend, but with a body that says why.
    response.set_status(404);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.set_body(
        "c10k proxy: 404 Not Found: no route takes this request, and there is no default "
        "pool\n");
}

void RoutingHandler::on_loop_start(http::LoopContext& context) {
    for (auto& pool : pools_) pool->on_loop_start(context);
}

void RoutingHandler::on_loop_stop(http::LoopContext& context) {
    for (auto& pool : pools_) pool->on_loop_stop(context);
}

std::uint64_t RoutingHandler::body_limit(std::uint8_t listener) const {
    std::uint64_t limit = 0;
    for (const auto& pool : pools_) limit = std::max(limit, pool->body_limit(listener));
    return limit;
}

}  // namespace c10k::proxy
