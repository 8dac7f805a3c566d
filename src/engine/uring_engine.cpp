// The io_uring engine: one UringLoop per thread (uring_loop.hpp), each with its own ring and
// SO_REUSEPORT listener, run by the same loop runner as the readiness engines.

#include <stdexcept>
#include <string>

#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/uring_loop.hpp"

namespace c10k::engine {

namespace {

class UringEngine final : public Engine {
public:
    std::string_view name() const override { return "uring"; }

    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        if (std::string why = uring_unavailable_reason(); !why.empty()) {
            throw std::runtime_error("io_uring does not work here: " + why);
        }
        // Each ring is created by the thread that uses it (SINGLE_ISSUER), inside run().
        return run_loops<UringLoop>(config, handlers, listeners, stop,
                                    [](std::vector<core::unique_fd> fds,
                                       std::unique_ptr<http::Handler> handler, LoopShared shared) {
                                        return std::make_unique<UringLoop>(
                                            std::move(fds), std::move(handler), shared);
                                    });
    }
};

}  // namespace

std::unique_ptr<Engine> make_uring_engine() {
    return std::make_unique<UringEngine>();
}

}  // namespace c10k::engine
