// The Hub's part of a handover (core/handover.hpp): the old process freezes its channels and
// writes them to a memfd; the new one waits for them before it answers a subscriber or takes a
// publish, so that a client resuming with the old process's ids finds them here.

#include <unistd.h>

#include "core/clock.hpp"
#include "core/handover.hpp"
#include "core/log.hpp"
#include "push/hub.hpp"

namespace c10k::push {

namespace {
/// How long a stopping process waits for its predecessor's channels before it passes its own on.
constexpr std::int64_t kHandOverWaitMs = 5'000;
}  // namespace

std::string Hub::hand_over() {
    // Two handovers in quick succession: this process has not taken its own predecessor's
    // channels yet. It takes them first (waiting a little for them), or the next process would
    // get an empty registry and its subscribers would lose their history.
    std::int64_t until = core::monotonic_ms() + kHandOverWaitMs;
    while (poll_handover(core::monotonic_ms(), kHandOverWaitMs) && core::monotonic_ms() < until) {
        ::usleep(5'000);
    }
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
    if (!registry_.awaiting_handover()) {
        if (!refusing_.load(std::memory_order_acquire) || restored_ms_ == 0) return false;
        // The sequencer of a group: publishes wait until every other process is linked, so
        // that none misses one (bounded: a process that cannot link must not stop them all).
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t linked = 0;
        for (const auto& link : downstream_) linked += link.fd ? 1 : 0;
        if (linked + 1 < group_size_ && now_ms - restored_ms_ < give_up_ms) return true;
        refusing_.store(false, std::memory_order_release);
        return false;
    }
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
    bool wait_for_links;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wait_for_links = process_index_ == 0 && group_size_ > 1;
        if (!wait_for_links) refusing_.store(false, std::memory_order_release);
        for (const auto& channel : ready) post_ready(channel.name, channel.loops, channel.last_id);
    }
    restored_ms_ = now_ms;
    if (taken) {
        core::log(core::LogLevel::info, "push: took {} channel(s) over from the old process",
                  registry_.channel_count());
    } else {
        core::log(core::LogLevel::warn,
                  "push: the old process passed no channels ({}); subscribers resuming from "
                  "its ids are told that history was lost",
                  given_up ? "none came in time" : "it held none");
    }
    return wait_for_links;
}

}  // namespace c10k::push
