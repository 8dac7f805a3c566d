#pragma once
// The publisher of a push run: one keep-alive connection that POSTs --publish-rate messages a
// second, evenly paced and open loop. Each message is due at start + k/R whatever happened to
// the one before: publishes are pipelined, and one that could not go out on time still carries
// its intended time in `t=`, so a late publish shows as delivery latency instead of being
// hidden. It runs as a thread of the coordinating process and tells the subscriber loops,
// through PushControl, the last id the server acknowledged.

#include <cstdint>
#include <deque>
#include <string>

#include "bench/options.hpp"
#include "bench/push_control.hpp"
#include "bench/push_http.hpp"
#include "bench/push_stats.hpp"
#include "bench/run_control.hpp"
#include "core/net.hpp"

namespace c10k::bench {

/// Where to publish and the request head every publish starts with.
struct PublishTarget {
    core::Endpoint endpoint;
    /// "POST /pub/ch HTTP/1.1\r\nHost: ...\r\n...Content-Length: " (the length and body follow).
    std::string head;
};

/// Parses and resolves --publish. False with a sentence in `error` on failure.
bool make_publish_target(const PushOptions& push, PublishTarget& out, std::string& error);

class Publisher {
public:
    /// `realtime_offset_ns` (CLOCK_REALTIME minus CLOCK_MONOTONIC) must be the one the loops
    /// use: `t=` and the loops' interval bounds then agree to the nanosecond.
    Publisher(const BenchOptions& options, PublishTarget target, std::int64_t realtime_offset_ns,
              RunControl& control, PushControl& push);
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    /// Connects, waits for the common start, publishes until the measured interval ends, waits
    /// (at most --timeout) for the last answers, then marks itself done in PushControl.
    PublisherStats run();

private:
    struct Pending {
        std::uint64_t sequence = 0;
        std::int64_t intended_ns = 0;
        std::size_t start = 0;  ///< offset of its first byte in this connection's output
    };
    enum class State { closed, connecting, open };

    std::int64_t intended(std::uint64_t sequence) const;
    bool in_window(std::int64_t intended_ns) const {
        return intended_ns >= measure_start_ns_ && intended_ns < measure_end_ns_;
    }
    void append(std::uint64_t sequence);
    void connect();
    void on_connected();
    void write_out();
    void read_in();
    void fail_connection();
    void close_socket();
    void wait(std::int64_t until_ns);

    static bool head_thunk(void* context, const PushResponseParser::Head& head);
    static bool body_thunk(void* context, const char* data, std::size_t size);
    static bool complete_thunk(void* context, bool keep_alive);
    bool on_complete(bool keep_alive);

    const BenchOptions& options_;
    PublishTarget target_;
    std::int64_t realtime_offset_ns_;
    RunControl& control_;
    PushControl& push_;
    PublisherStats stats_;
    PushResponseParser parser_;
    PushResponseParser::Callbacks callbacks_;
    std::deque<Pending> pending_;
    std::string out_;           ///< bytes not yet written on this connection
    std::string body_;          ///< the answer being read
    std::size_t appended_ = 0;  ///< bytes appended on this connection
    std::size_t written_ = 0;   ///< bytes written on this connection
    int fd_ = -1;
    State state_ = State::closed;
    int status_ = 0;
    bool close_after_ = false;
    std::uint32_t failures_ = 0;
    std::int64_t retry_at_ns_ = 0;
    std::int64_t connect_started_ns_ = 0;
    std::int64_t now_ns_ = 0;
    std::int64_t start_ns_ = 0;
    double period_ns_ = 0;
    std::int64_t measure_start_ns_ = INT64_MAX;
    std::int64_t measure_end_ns_ = INT64_MAX;
};

}  // namespace c10k::bench
