// The poll(2) engine: the shared ReadinessLoop over a poll() Poller, one loop per thread. It exists
// for comparison with epoll: every wait costs O(watched descriptors).

#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/pollers.hpp"

namespace c10k::engine {

namespace {

class PollEngine final : public Engine {
public:
    std::string_view name() const override { return "poll"; }
    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        return run_readiness_loops(config, handlers, listeners, stop,
                                   [] { return make_poll_poller(); });
    }
};

}  // namespace

std::unique_ptr<Engine> make_poll_engine() { return std::make_unique<PollEngine>(); }

}  // namespace c10k::engine
