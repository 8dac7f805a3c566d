#pragma once
// One bench thread of a push run: an epoll loop over its share of the subscribers. SSE
// subscribers hold one endless stream each; long-poll subscribers ask again after each answer,
// naming the last id they saw. Every event's id is checked against the subscriber's sequence (an
// id not above the last is a duplicate; a step over several ids is kept, to be compared with the
// ids the publisher had acknowledged, as ids need not be consecutive), and every message carrying
// `t=<ns>` gives one delivery latency. A subscriber whose connection closes subscribes again at
// once with Last-Event-ID. Shared-nothing like ClientLoop: counters are merged at the end.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/client_loop.hpp"
#include "bench/deadline_table.hpp"
#include "bench/options.hpp"
#include "bench/push_control.hpp"
#include "bench/push_http.hpp"
#include "bench/push_stats.hpp"
#include "bench/run_control.hpp"
#include "bench/sse_parser.hpp"
#include "bench/target.hpp"
#include "bench/ws_client.hpp"
#include "core/unique_fd.hpp"

namespace c10k::bench {

class PushLoop;
struct Subscriber;

/// The context of parser and WebSocket callbacks: which loop, which subscriber. Parsers are
/// given it per read, from the stack, so that no subscriber keeps a pointer to its loop.
struct SubscriberRef {
    PushLoop* loop;
    Subscriber* sub;
};

/// Why a subscriber's connection is being closed, which decides when it subscribes again.
enum class DropReason : std::uint8_t {
    none,
    stream_closed,  ///< the server ended the stream or the connection: resubscribe at once
    refused,        ///< not a subscription (bad status, bad framing): back off first
};

/// What only long-poll and WebSocket subscribers use, and an SSE subscriber only while the
/// socket has not taken all of its request: kept apart and made when first needed, so that an
/// SSE subscriber (the million-subscriber case) carries none of it. Freed when the socket
/// closes unless it holds a resume position (which outlives the connection).
struct SubscriberExtra {
    std::string unsent;     ///< the part of a request the socket did not take at once
    std::string poll_body;  ///< long-poll: the start of the answer's body, enough for `t=`
    /// WebSocket: the Connection once the 101 arrived; null while closed or handshaking.
    std::unique_ptr<WsLink> ws;
    SubscriberRef ws_context{};    ///< WebSocket: the context `ws` reports with
    std::int64_t poll_due_ns = 0;  ///< long-poll: when to ask again; 0 while a poll is out
    std::uint64_t poll_id = 0;     ///< long-poll: the answer's ETag id
    /// Where the server said to go on from (long-poll: after history-lost; WebSocket: its
    /// `subscribed` position), asked instead of last_id until the next message arrives.
    std::uint64_t resume_id = 0;
    std::uint16_t poll_status = 0;
    bool poll_has_id = false;
    bool poll_history_lost = false;
    bool have_resume = false;
    /// WebSocket: the Sec-WebSocket-Key of the handshake under way (base64 of 16 bytes).
    std::array<char, 24> ws_key{};
};

/// One subscriber: its socket, its parsers and where it is in its channel's sequence. No
/// buffer of its own while idle: the receive buffer belongs to the loop. A push run holds up to
/// a million of these, so fields are ordered to pack and the flags are single bits.
struct Subscriber {
    PushResponseParser http;
    SseParser sse;
    std::unique_ptr<SubscriberExtra> extra;  ///< null for an SSE subscriber whose request went out
    std::int64_t connect_started_ns = 0;
    std::int64_t retry_at_ns = 0;  ///< while closed: do not connect before this
    std::uint64_t first_id = 0;    ///< the first id this subscriber ever saw
    std::uint64_t last_id = 0;     ///< the highest id it has seen
    /// Not on the publisher's channel: the last message's `seq=` (see PushStats::gap_lost).
    std::uint64_t last_seq = 0;
    int fd = -1;
    std::uint32_t generation = 0;  ///< bumped per socket, so stale epoll events are ignored
    std::uint32_t index = 0;
    std::uint32_t target = 0;
    std::uint32_t source = 0;  ///< IPv4 source address (host order), 0 for any
    ConnectionState state = ConnectionState::closed;
    DropReason drop = DropReason::none;  ///< set inside parser callbacks, acted on after
    std::uint8_t failures = 0;           ///< consecutive refusals, for the retry backoff
    bool subscribed : 1 = false;         ///< SSE: an event stream was accepted on this connection
    bool answered : 1 = false;           ///< a response head arrived on this connection
    bool ever_subscribed : 1 = false;
    bool settling : 1 = false;  ///< a subscribe is under way (counts against the batch)
    bool have_id : 1 = false;
    bool expected : 1 = false;  ///< on the channel the publisher publishes to
    bool have_seq : 1 = false;  ///< last_seq holds a `seq=`
    /// The server said history was lost: the next id starts a new sequence instead of being
    /// checked against the last one (a recreated channel's ids jump by millions).
    bool resync : 1 = false;

    SubscriberExtra& need_extra() {
        if (!extra) extra = std::make_unique<SubscriberExtra>();
        return *extra;
    }
    WsLink* ws() const { return extra ? extra->ws.get() : nullptr; }
    std::int64_t poll_due_ns() const { return extra ? extra->poll_due_ns : 0; }
    bool has_unsent() const { return extra && !extra->unsent.empty(); }
};

class PushLoop {
public:
    /// `expected[t]` says whether target t names the publisher's channel. `loops_total` shares
    /// --connect-rate among loops; `realtime_offset_ns` (CLOCK_REALTIME minus CLOCK_MONOTONIC,
    /// read once by the coordinator) turns the monotonic interval into the `t=` time scale.
    PushLoop(const BenchOptions& options, const std::vector<Target>& targets,
             const std::vector<bool>& expected, std::vector<ConnectionSpec> subscribers,
             std::uint32_t loops_total, std::int64_t realtime_offset_ns, RunControl& control,
             LiveCounters& live, const PushControl& push);
    PushLoop(const PushLoop&) = delete;
    PushLoop& operator=(const PushLoop&) = delete;

    /// Runs the whole life of the loop and returns what it counted.
    PushStats run();

private:
    enum class Phase { connecting, waiting, running, draining, done };

    // push_loop.cpp: phases and timers.
    void open_initial();
    void wait_for_start();
    void run_measured();
    void drain();
    bool caught_up();
    void housekeeping();
    /// When housekeeping next has something to do for `sub` (see DeadlineTable).
    std::int64_t deadline_of(const Subscriber& sub) const;
    void store_deadline(const Subscriber& sub) { deadlines_.set(sub.index, deadline_of(sub)); }
    bool reconnects_wanted() const {
        return phase_ == Phase::waiting || phase_ == Phase::running || phase_ == Phase::draining;
    }
    void publish_live();
    void wait_for_events(std::int64_t until_ns);
    void final_counts();
    bool counting() const { return now_ns_ >= measure_start_ns_; }
    /// Applies `add` to the run's counters and, with several URLs, to those of `sub`'s URL.
    template <typename Add>
    void count(const Subscriber& sub, Add&& add) {
        add(stats_);
        if (!stats_.targets.empty()) add(stats_.targets[sub.target]);
    }
    bool sse() const { return options_.push.transport == PushTransport::sse; }
    bool websocket() const { return options_.push.transport == PushTransport::websocket; }

    // push_loop_io.cpp: sockets and requests.
    void start_connect(Subscriber& sub);
    void on_connected(Subscriber& sub);
    void connect_failed(Subscriber& sub, int error);
    void handle_event(std::uint64_t data, std::uint32_t events);
    void on_readable(Subscriber& sub, bool until_eof);
    void send_request(Subscriber& sub);
    void flush(Subscriber& sub);
    void drop(Subscriber& sub, DropReason reason);
    void close_socket(Subscriber& sub);
    void settle(Subscriber& sub);
    void maybe_reconnect(Subscriber& sub);

    // push_loop_events.cpp: what the server said.
    static bool head_thunk(void* context, const PushResponseParser::Head& head);
    static bool body_thunk(void* context, const char* data, std::size_t size);
    static bool complete_thunk(void* context, bool keep_alive);
    static void event_thunk(void* context, const SseParser::Event& event);
    bool on_head(Subscriber& sub, const PushResponseParser::Head& head);
    bool on_body(Subscriber& sub, const char* data, std::size_t size);
    bool on_complete(Subscriber& sub, bool keep_alive);
    void on_event(Subscriber& sub, const SseParser::Event& event);
    void on_poll_answer(Subscriber& sub);
    void on_message(Subscriber& sub, std::uint64_t id, std::string_view data);

    // push_loop_ws.cpp: WebSocket subscribers.
    void build_ws_request(Subscriber& sub);
    bool on_ws_head(Subscriber& sub, const PushResponseParser::Head& head);
    bool feed_ws(Subscriber& sub, const char* data, std::size_t size);
    void ws_peer_closed(Subscriber& sub);
    static void ws_message_thunk(void* context, websocket::MessageType type,
                                 std::string_view payload);
    static void ws_close_thunk(void* context, std::uint16_t code);
    static void ws_output_thunk(void* context, std::string frames);
    void on_ws_message(Subscriber& sub, std::string_view payload);
    void on_ws_close(Subscriber& sub, std::uint16_t code);

    const BenchOptions& options_;
    const std::vector<Target>& targets_;
    RunControl& control_;
    LiveCounters& live_;
    const PushControl& push_;
    std::uint32_t loops_total_;
    std::int64_t realtime_offset_ns_;
    /// Each target's request without its final CRLF: Last-Event-ID goes there per request.
    std::vector<std::string> request_heads_;
    /// WebSocket: each target's handshake parts (the key and resume id go in per request).
    std::vector<WsRequest> ws_requests_;
    websocket::Options ws_options_;
    std::string ws_scratch_;  ///< decoded envelope strings
    std::vector<Subscriber> subs_;
    /// Each subscriber's next deadline, so that housekeeping visits only those due.
    DeadlineTable deadlines_;
    /// drain(): subscribers before this one were caught up when last looked at.
    std::size_t caught_up_before_ = 0;
    /// Subscribers closed during event handling that may subscribe again now.
    std::vector<std::uint32_t> reconnect_now_;
    std::vector<std::uint32_t> reconnect_batch_;  ///< reconnect_now_'s taken contents, reused
    std::string scratch_;
    core::unique_fd epoll_;
    std::vector<char> read_buffer_;
    PushStats stats_;
    Phase phase_ = Phase::connecting;
    std::int64_t now_ns_ = 0;      ///< CLOCK_MONOTONIC at the last wakeup
    std::int64_t receipt_ns_ = 0;  ///< CLOCK_REALTIME of the bytes being parsed
    std::int64_t measure_start_ns_ = INT64_MAX;
    std::int64_t measure_end_ns_ = INT64_MAX;
    std::int64_t next_housekeeping_ns_ = 0;
    std::int64_t next_p99_ns_ = 0;
    std::uint32_t in_progress_ = 0;  ///< subscribes started and not yet settled
    std::uint32_t open_ = 0;         ///< subscribed connections
    bool pwait2_works_ = true;
    PushResponseParser::Callbacks callbacks_;
};

}  // namespace c10k::bench
