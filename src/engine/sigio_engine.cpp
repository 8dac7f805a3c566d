// The realtime-signal engine (Linux 2.4's answer to C10K, as Kegel describes it): the shared
// ReadinessLoop over a SigioPoller, one loop per thread. Each loop's descriptors signal only
// that loop's thread (F_OWNER_TID), so all loops can share one signal number.

#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/pollers.hpp"

namespace c10k::engine {

namespace {

class SigioEngine final : public Engine {
public:
    std::string_view name() const override { return "sigio"; }
    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        return run_readiness_loops(config, handlers, listeners, stop,
                                   []() -> std::unique_ptr<Poller> { return make_sigio_poller(); });
    }
};

}  // namespace

std::unique_ptr<Engine> make_sigio_engine() { return std::make_unique<SigioEngine>(); }

}  // namespace c10k::engine
