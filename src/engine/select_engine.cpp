// The select(2) engine: the shared ReadinessLoop over a select() Poller, one loop per thread. It exists
// for comparison with epoll: every wait costs O(watched descriptors), and descriptors at
// or above FD_SETSIZE are refused cleanly (closed, counted, logged at most once a second).

#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/pollers.hpp"

namespace c10k::engine {

namespace {

class SelectEngine final : public Engine {
public:
    std::string_view name() const override { return "select"; }
    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        return run_readiness_loops(config, handlers, listeners, stop,
                                   [] { return make_select_poller(); });
    }
};

}  // namespace

std::unique_ptr<Engine> make_select_engine() { return std::make_unique<SelectEngine>(); }

}  // namespace c10k::engine
