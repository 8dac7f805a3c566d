// The default engine: edge-triggered epoll, one loop per thread. `epoll-lt` is the same loop
// with level-triggered epoll, kept for comparison (it must re-arm write interest).

#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/poller_epoll.hpp"

namespace c10k::engine {

namespace {

class EpollEngine final : public Engine {
public:
    explicit EpollEngine(bool edge) : edge_(edge) {}
    std::string_view name() const override { return edge_ ? "epoll" : "epoll-lt"; }
    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        bool edge = edge_;
        return run_readiness_loops(config, handlers, listeners, stop,
                                   [edge] { return make_epoll_poller(edge); });
    }

private:
    bool edge_;
};

}  // namespace

std::unique_ptr<Engine> make_epoll_engine() {
    return std::make_unique<EpollEngine>(true);
}
std::unique_ptr<Engine> make_epoll_lt_engine() {
    return std::make_unique<EpollEngine>(false);
}

}  // namespace c10k::engine
