#pragma once
// `c10k proxy` with several pools: each request goes to the pool of the first route it matches
// (routes.hpp), else to the default pool, else gets 404. Each pool keeps its own per-loop state
// (a ProxyHandler: balancer, idle connections, queue), so pools never wait on each other.

#include <memory>
#include <string>
#include <vector>

#include "http/handler.hpp"
#include "proxy/proxy_handler.hpp"
#include "proxy/routes.hpp"

namespace c10k::proxy {

class RoutingHandler final : public http::Handler {
public:
    /// `default_pool` is an index into `pools`, or -1 when requests no route takes get 404.
    RoutingHandler(std::vector<std::unique_ptr<ProxyHandler>> pools,
                   std::unique_ptr<RouteTable> routes, int default_pool);

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    std::uint64_t body_limit(std::uint8_t listener) const override;
    bool streams_body(std::uint8_t) const override { return true; }
    bool wants_peer() const override { return true; }

private:
    std::vector<std::unique_ptr<ProxyHandler>> pools_;
    std::unique_ptr<RouteTable> routes_;
    int default_pool_;
};

}  // namespace c10k::proxy
