#pragma once
// One process's end of the --processes push hub, run by loop 0's PushHandler: the sequencer
// (process 0) listens at the group's abstract unix address and hands every process that
// connects to the Hub as a downstream link; every other process connects to it, reads the
// frames, and applies them to its replica. A process that starts before the sequencer listens,
// or whose sequencer restarted, connects again on the next tick.

#include <memory>
#include <string>

#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "http/context.hpp"
#include "push/hub.hpp"

namespace c10k::push {

class GroupMember final : private http::DescriptorTask {
public:
    GroupMember(Hub& hub, http::LoopContext& context);
    ~GroupMember();
    GroupMember(const GroupMember&) = delete;
    GroupMember& operator=(const GroupMember&) = delete;

    /// Starts listening (sequencer) or connecting (others).
    void start();
    /// About once a second: reconnects a lost or never-made link.
    void on_tick();
    /// Stops watching (before the loop ends).
    void stop();

private:
    void on_ready(std::uint32_t events) override;
    void accept_links();
    void read_frames();
    void connect_upstream();
    void lose_upstream(const char* why);

    Hub& hub_;
    http::LoopContext& context_;
    core::unique_fd fd_;  ///< the listener (sequencer) or the link to the sequencer
    std::string buffer_;  ///< bytes of frames not yet complete
    bool was_connected_ = false;
    core::RateLimitedLog log_{10'000};
};

}  // namespace c10k::push
