#pragma once
// A benchmark aid (--synthetic-cost PREFIX): `GET PREFIX<us>` burns that many microseconds of
// CPU on the thread that runs the handler, then answers 200 with a short body. It stands for an
// expensive application (templates, a database driver, TLS handshakes) so that overload
// control and the engines' behaviour under CPU-bound work can be measured without one. Off
// unless the flag is given: it hands anyone who can reach the server a way to burn CPU.

#include <cstdint>
#include <memory>
#include <string>

#include "http/handler.hpp"

namespace c10k::serve {

class SyntheticCost : public http::Handler {
public:
    /// The most one request may burn: a typo of a few zeros must not hold a loop for minutes.
    static constexpr std::int64_t kMaxCostUs = 1'000'000;

    /// Requests under `prefix` (which starts and ends with '/') are answered here; the others
    /// go to `inner`.
    SyntheticCost(std::string prefix, std::unique_ptr<http::Handler> inner);

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override { inner_->on_loop_start(context); }
    void on_loop_stop(http::LoopContext& context) override { inner_->on_loop_stop(context); }
    std::uint64_t body_limit(std::uint8_t listener) const override {
        return inner_->body_limit(listener);
    }
    bool streams_body(std::uint8_t listener) const override {
        return inner_->streams_body(listener);
    }
    bool wants_peer() const override { return inner_->wants_peer(); }
    /// The cost stands for an application, so the staged engine runs it on its handler stage.
    bool answers_off_loop(const http::Request& request) const override;

private:
    std::string prefix_;
    std::unique_ptr<http::Handler> inner_;
};

/// Parses the cost in a path's last segment: decimal microseconds, 0..kMaxCostUs, no sign, no
/// unit. False for anything else.
bool parse_cost_us(std::string_view text, std::int64_t& us);

/// Burns `us` microseconds of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID): a busy loop,
/// so that a descheduled thread does not count time it did not spend working.
void burn_cpu_us(std::int64_t us);

}  // namespace c10k::serve
