// The Hub's part of a handover (core/handover.hpp): the old process freezes its channels and
// writes them to a memfd; the new one waits for them before it answers a subscriber or takes a
// publish, so that a client resuming with the old process's ids finds them here.

#include "core/clock.hpp"
#include "core/handover.hpp"
#include "core/log.hpp"
#include "push/hub.hpp"

namespace c10k::push {

std::string Hub::hand_over() {
    std::lock_guard<std::mutex> lock(mutex_);
    refusing_.store(true, std::memory_order_release);
    return registry_.snapshot();
}

void Hub::await_handover(core::unique_fd state) {
    handover_state_ = std::move(state);
    awaiting_since_ms_ = core::monotonic_ms();
    refusing_.store(true, std::memory_order_release);
    registry_.await_handover();
}

bool Hub::poll_handover(std::int64_t now_ms, std::int64_t give_up_ms) {
    if (!registry_.awaiting_handover()) return false;
    std::string bytes;
    bool written = handover_state_ && core::read_handover_state(handover_state_.get(), bytes);
    bool given_up = false;
    if (!written) {
        if (handover_state_ && now_ms - awaiting_since_ms_ < give_up_ms) return true;
        given_up = true;
    }
    handover_state_.reset();
    std::vector<Registry::Restored> ready;
    bool taken = registry_.restore(bytes, core::wall_ms(), ready);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        refusing_.store(false, std::memory_order_release);
        for (const auto& channel : ready) post_ready(channel.name, channel.loops, channel.last_id);
    }
    if (taken) {
        core::log(core::LogLevel::info, "push: took {} channel(s) over from the old process",
                  registry_.channel_count());
    } else {
        core::log(core::LogLevel::warn,
                  "push: the old process passed no channels ({}); subscribers resuming from "
                  "its ids are told that history was lost",
                  given_up ? "none came in time" : "it held none");
    }
    return false;
}

}  // namespace c10k::push
