// The Hub's part of a handover (core/handover.hpp): the old process freezes its channels and
// writes them to a memfd; the new one waits for them before it answers a subscriber or takes a
// publish, so that a client resuming with the old process's ids finds them here.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "push/hub.hpp"

namespace c10k::push {

std::string Hub::hand_over() {
    std::lock_guard<std::mutex> lock(mutex_);
    refusing_.store(true, std::memory_order_release);
    return registry_.snapshot();
}

void Hub::await_handover(core::unique_fd state, core::unique_fd done) {
    handover_state_ = std::move(state);
    handover_done_ = std::move(done);
    ::fcntl(handover_done_.get(), F_SETFL, ::fcntl(handover_done_.get(), F_GETFL) | O_NONBLOCK);
    awaiting_since_ms_ = core::monotonic_ms();
    refusing_.store(true, std::memory_order_release);
    registry_.await_handover();
}

bool Hub::poll_handover(std::int64_t now_ms, std::int64_t give_up_ms) {
    if (!handover_done_) return false;
    char byte = 0;
    ssize_t n = ::read(handover_done_.get(), &byte, 1);
    bool given_up = false;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (now_ms - awaiting_since_ms_ < give_up_ms) return true;
        given_up = true;
    }
    // A byte: the snapshot is written. The end of the pipe without one: the old process died
    // before writing it.
    std::string bytes;
    if (n == 1) {
        struct stat info {};
        if (::fstat(handover_state_.get(), &info) == 0 && info.st_size > 0) {
            bytes.resize(static_cast<std::size_t>(info.st_size));
            std::size_t at = 0;
            while (at < bytes.size()) {
                ssize_t got = ::pread(handover_state_.get(), bytes.data() + at, bytes.size() - at,
                                      static_cast<off_t>(at));
                if (got <= 0) break;
                at += static_cast<std::size_t>(got);
            }
            bytes.resize(at);
        }
    }
    handover_done_.reset();
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
                  given_up ? "none came in time" : "it ended first");
    }
    return false;
}

}  // namespace c10k::push
