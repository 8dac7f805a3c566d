#pragma once
// One process's end of the --processes push hub, run by loop 0's PushHandler: the sequencer
// (process 0) listens at the group's abstract unix address and hands every process that
// connects to the Hub as a downstream link; every other process connects to it, reads the
// frames, and applies them to its replica. A process that starts before the sequencer listens,
// or whose sequencer restarted, connects again on the next tick.
//
// The links carry subscriber counts the other way: each other process reports every nonzero
// count when its link is made, then on each tick the counts that changed; the sequencer reads
// every link (here, on loop 0) into its Registry and forgets a process's counts when its link
// ends. Reports are written without blocking: what the socket does not take waits for it to be
// writable, and no new report is made while one is still waiting, so at most one is held.

#include <memory>
#include <string>
#include <vector>

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
    /// The sequencer's reading end of one other process's link (the Hub owns the descriptor).
    struct Downstream final : http::DescriptorTask {
        Downstream(GroupMember& owner, int descriptor, std::size_t number)
            : member(owner), fd(descriptor), link(number) {}
        void on_ready(std::uint32_t) override { member.read_counts(*this); }

        GroupMember& member;
        int fd;
        std::size_t link;    ///< the Hub's number for it
        std::string buffer;  ///< bytes of frames not yet complete
    };

    void on_ready(std::uint32_t events) override;
    void accept_links();
    /// Reads what `link` reported; at its end (or on garbage) closes it, which frees `link`.
    void read_counts(Downstream& link);
    void close_link(Downstream& link, const char* why);
    void read_frames();
    void connect_upstream();
    void lose_upstream(const char* why);
    /// Another process: queues a counts report (every nonzero count when `all`) unless one is
    /// still waiting, and writes what the socket takes.
    void report_counts(bool all);
    /// Writes the waiting report; watches for writability while some of it is left. False when
    /// the link failed (it is then lost).
    bool flush_report();

    Hub& hub_;
    http::LoopContext& context_;
    core::unique_fd fd_;  ///< the listener (sequencer) or the link to the sequencer
    std::string buffer_;  ///< bytes of frames not yet complete
    std::string report_;  ///< another process: counts frames the socket did not take yet
    std::vector<std::unique_ptr<Downstream>> downstream_;  ///< the sequencer: links it reads
    bool watching_writable_ = false;  ///< report_ is waiting for the link to take it
    bool was_connected_ = false;
    core::RateLimitedLog log_{10'000};
};

}  // namespace c10k::push
