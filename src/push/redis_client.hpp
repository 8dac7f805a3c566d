#pragma once
// Drives one RedisConnection from a loop: connects without blocking to the configured
// address, sends AUTH and SELECT when configured, moves bytes between the socket and the
// connection as the loop's DescriptorWatcher reports it ready, and after a loss connects
// again after a capped, jittered delay (reconnect_delay_ms). Runs on the loop's thread only.
//
// Each connection made is new: what was pending on a lost one has been told it failed, and
// the owner re-issues what it needs (SUBSCRIBE, ...) from the ready callback.
//
// A reply callback may queue more commands, but must not stop() or destroy the client: the
// connection is feeding it at that moment.
//
// Timeouts: a Redis that accepts and never answers (stopped, overloaded, or a peer gone without
// a RST) would otherwise leave every command pending for ever. on_tick() gives up on a
// connection that does not complete its handshake in time, or that stops answering while
// commands wait, and an idle connection sends PING now and then so that a dead peer is found
// there too. What was pending is told it failed, and the usual reconnect follows.

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "http/context.hpp"
#include "push/redis_address.hpp"
#include "push/redis_connection.hpp"

namespace c10k::push {

struct RedisClientOptions {
    RedisLimits limits;
    /// The first reconnect waits about this long, doubling per failed attempt...
    std::uint64_t reconnect_base_ms = 100;
    /// ...up to this, so that a long outage is probed every few seconds, not hammered.
    std::uint64_t reconnect_cap_ms = 5'000;
    /// The TCP connect plus AUTH/SELECT/PING must complete within this, else the attempt is
    /// lost and the reconnect delay follows. A local or same-datacentre Redis answers in a
    /// millisecond; 3 s allows for a loaded server or a slow link and still lets the owner say
    /// "Redis is down" (and publishes fail fast) soon after a restart. 0 turns it off.
    std::uint64_t connect_timeout_ms = 3'000;
    /// While commands are pending, no reply at all for this long loses the connection (every
    /// pending callback is told it failed). It measures progress, not a command's age: any
    /// reply or push restarts it, so a long pipeline that is being answered is never cut. 5 s
    /// is far beyond any healthy reply and short enough that a publish gets its 503 rather than
    /// a hang. Blocking commands (BLPOP, XREAD BLOCK) must block for less than this. Checked in
    /// on_tick(), so it fires up to one tick late (the owner ticks every 100 ms to 1 s). 0 turns
    /// it off.
    std::uint64_t reply_timeout_ms = 5'000;
    /// A ready connection with nothing pending and nothing received for this long sends PING,
    /// so that a dead peer on an idle connection (a subscribe-only one is idle for as long as
    /// nobody publishes) is found by the reply timeout rather than when the next command hangs.
    /// One PING per 5 s is nothing to Redis. 0 turns it off.
    std::uint64_t keepalive_ms = 5'000;
};

class RedisClient final : private http::DescriptorTask {
public:
    RedisClient(RedisAddress address, http::LoopContext& context, RedisClientOptions options = {});
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    /// Called each time a connection is made and AUTH/SELECT succeeded: queue commands now.
    void set_ready_handler(std::function<void()> handler) { on_ready_ = std::move(handler); }
    /// Called each time a connection is lost or refused, with the reason (also logged).
    void set_lost_handler(std::function<void(std::string_view why)> handler) {
        on_lost_ = std::move(handler);
    }

    /// Starts the first connection.
    void start();
    /// Call about once a tick (the loop's handler timer): connects again once the delay after
    /// a loss has passed, enforces the connect and reply timeouts and sends keepalive PINGs.
    /// Their granularity is the tick's.
    void on_tick();
    /// Closes the connection (pending commands are told) and stops reconnecting.
    void stop();

    /// The connection while ready (nullptr otherwise). After queuing commands, call flush().
    RedisConnection* connection() { return ready_ ? connection_.get() : nullptr; }
    bool ready() const { return ready_; }
    /// Writes what the connection has queued; what the socket does not take waits for it.
    void flush();
    /// Reconnect attempts since the last ready connection.
    unsigned attempts() const { return attempt_; }
    /// Keepalive PINGs answered with a pong so far, for the owner's status page and for tests.
    std::uint64_t keepalives_answered() const { return keepalives_answered_; }

private:
    void on_ready(std::uint32_t events) override;
    void connect();
    void handshake();
    void read();
    /// Closes the socket, fails the connection with `why`, and schedules the next attempt.
    void lose(std::string_view why);
    /// The reply timeout and keepalive of a ready connection, from on_tick().
    void check_progress(std::int64_t now_ms);
    void send_keepalive(std::int64_t now_ms);
    bool watch(std::uint32_t events);
    /// Why watch() failed, for lose().
    std::string watch_failure() const;

    RedisAddress address_;
    http::LoopContext& context_;
    RedisClientOptions options_;
    core::unique_fd fd_;
    std::unique_ptr<RedisConnection> connection_;
    bool connecting_ = false;  ///< the non-blocking connect has not completed
    bool ready_ = false;       ///< AUTH/SELECT answered
    bool stopped_ = true;
    std::string handshake_error_;  ///< set by a handshake reply; acted on after feed()
    std::uint32_t watched_ = 0;
    unsigned attempt_ = 0;
    std::int64_t next_attempt_ms_ = 0;
    std::int64_t attempt_started_ms_ = 0;  ///< when connect() began, for the connect timeout
    /// connection_->received() as last sampled: a change is progress.
    std::uint64_t received_seen_ = 0;
    /// When the connection last made progress: a reply or push arrived, commands began to wait
    /// on an idle connection, or it became ready. Both the reply timeout (something pending)
    /// and the keepalive (nothing pending) count from here.
    std::int64_t progress_ms_ = 0;
    bool was_pending_ = false;  ///< commands were pending at the last tick
    std::uint64_t keepalives_answered_ = 0;
    std::minstd_rand random_;
    std::function<void()> on_ready_;
    std::function<void(std::string_view)> on_lost_;
    core::RateLimitedLog log_{10'000};
};

}  // namespace c10k::push
