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
    /// a loss has passed.
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

private:
    void on_ready(std::uint32_t events) override;
    void connect();
    void handshake();
    void read();
    /// Closes the socket, fails the connection with `why`, and schedules the next attempt.
    void lose(std::string_view why);
    bool watch(std::uint32_t events);

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
    std::minstd_rand random_;
    std::function<void()> on_ready_;
    std::function<void(std::string_view)> on_lost_;
    core::RateLimitedLog log_{10'000};
};

}  // namespace c10k::push
