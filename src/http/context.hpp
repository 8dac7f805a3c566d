#pragma once
// State shared by all the Sessions of one event loop: the handler, limits and timeouts, the clock
// reading of the current iteration, the Date header, and pools of per-request scratch memory.
// Loops share nothing, so none of this is locked.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/mailbox.hpp"
#include "core/proxy_protocol.hpp"
#include "core/timer_wheel.hpp"
#include "http/date.hpp"
#include "http/handler.hpp"
#include "http/metrics.hpp"
#include "http/overload_gate.hpp"

namespace c10k::http {

class AccessLog;
class Session;

/// A handler's timer on its loop's wheel (coarse: 100 ms slots).
class TimerTask : public core::TimerNode {
public:
    virtual void on_timer() = 0;

protected:
    ~TimerTask() = default;
};

/// An extra descriptor a handler waits on: a backend connection, a child's pipe.
class DescriptorTask {
public:
    static constexpr std::uint32_t readable = 1;
    static constexpr std::uint32_t writable = 2;
    /// Some of `events` (readable, writable, or both; errors and hang-ups report as both).
    virtual void on_ready(std::uint32_t events) = 0;

protected:
    ~DescriptorTask() = default;
};

/// What an engine offers a handler beyond HTTP: watching descriptors of the handler's own.
/// Level-triggered semantics on every engine: on_ready is called while the descriptor stays ready
/// and watched, and reports only the events watched now (a change takes effect at once).
class DescriptorWatcher {
public:
    /// Starts (or changes) watching `fd` for `events`. False with errno on failure.
    virtual bool watch(int fd, std::uint32_t events, DescriptorTask& task) = 0;
    /// Stops watching; call before closing the descriptor.
    virtual void unwatch(int fd) = 0;

protected:
    ~DescriptorWatcher() = default;
};

/// Bounds on what one client may make the server hold. Each breach has its own status code.
struct Limits {
    std::size_t max_header_bytes = 16 * 1024;     ///< request line + header block; over: 431
    std::size_t max_headers = 100;                ///< header fields; over: 431
    std::size_t max_uri_bytes = 8 * 1024;         ///< request-target; over: 414
    std::uint64_t max_body_bytes = 1024 * 1024;   ///< request body (read and discarded); over: 413
    std::size_t max_pending_output = 256 * 1024;  ///< stop parsing pipelined requests beyond this
};

/// How long a connection may sit in each phase before it is closed.
struct Timeouts {
    std::int64_t header_ms = 10'000;     ///< from a request's first byte to its complete header
    std::int64_t keepalive_ms = 60'000;  ///< idle between requests
    std::int64_t body_ms = 30'000;       ///< without progress while reading a request body
    std::int64_t send_ms = 30'000;       ///< without progress while writing a response
};

/// One queued piece of output: owned bytes, shared bytes, or a range of an open file.
struct OutputChunk {
    std::string bytes;
    core::RefPtr<Blob> blob;
    core::RefPtr<OpenFile> file;
    std::uint64_t offset = 0;  ///< start of what is left to send within bytes, blob or file
    std::uint64_t length = 0;  ///< what is left to send

    bool is_file() const { return static_cast<bool>(file); }
    const char* data() const { return (blob ? blob->data.data() : bytes.data()) + offset; }
};

/// Memory a Session needs only while a request or response is in progress. Borrowed from the
/// loop's pool and given back when the connection goes idle, so that an idle keep-alive
/// connection holds no buffers at all (as uSockets and nginx arrange).
struct Scratch {
    struct HeaderSpan {
        std::uint32_t name_offset, name_length, value_offset, value_length;
    };
    std::string text;  ///< method, target, header names and values, back to back
    std::vector<HeaderSpan> headers;
    std::vector<Header> header_views;  ///< rebuilt at dispatch, pointing into text
    std::string body;                  ///< the request body, when the handler keeps it
    std::string pending_input;         ///< bytes received while parsing was paused
    std::vector<OutputChunk> output;   ///< queued output, front at output_front
    std::size_t output_front = 0;
    const char* input_start = nullptr;  ///< the input being parsed (the obs-fold check)
    /// A PROXY protocol header being read (Session::expect_proxy_header), before any HTTP.
    std::unique_ptr<core::ProxyHeaderParser> proxy_header;

    void reset_request() {
        text.clear();
        headers.clear();
        body.clear();
    }
};

class LoopContext {
public:
    LoopContext(Handler& handler, Limits limits, Timeouts timeouts)
        : handler_(handler), limits_(limits), timeouts_(timeouts) {
        tick();
    }

    Handler& handler() { return handler_; }
    const Limits& limits() const { return limits_; }

    /// The loop's number within its process (0 .. loops-1), for handlers that keep per-loop
    /// state in something shared.
    std::size_t loop_index() const { return loop_index_; }
    void set_loop_index(std::size_t index) { loop_index_ = index; }

    /// Work other threads post to this loop. The engine watches mailbox().fd() and runs the
    /// tasks on the loop's thread. Made on first use, on the loop's thread (engines that run
    /// many loops ask at start; a handler asks in on_loop_start before anyone can post): a
    /// thread-per-connection loop whose handler never needs one then costs no eventfd.
    core::Mailbox& mailbox() {
        if (!mailbox_) mailbox_ = std::make_unique<core::Mailbox>();
        return *mailbox_;
    }
    bool has_mailbox() const { return mailbox_ != nullptr; }
    /// Handler timers (TimerTask nodes); the engine advances them with its own.
    core::TimerWheel& timers() { return timers_; }
    const core::TimerWheel& handler_timers() const { return timers_; }
    /// Fires the handler timers that are due; engines call it once per iteration.
    void run_timers() {
        timers_.advance(now_ms_,
                        [](core::TimerNode& node) { static_cast<TimerTask&>(node).on_timer(); });
    }
    /// Descriptors of a handler's own, when the engine can watch them (nullptr otherwise).
    DescriptorWatcher* descriptors() const { return descriptors_; }
    void set_descriptors(DescriptorWatcher* watcher) { descriptors_ = watcher; }

    /// Sessions whose deferred responses have output outside the engine's own drive (a publish
    /// on this loop wrote to them). The engine flushes them after each batch of events.
    void mark_ready(Session& session);
    /// Takes the ready list: the engine calls `visit(Session&)` for each (in marking order).
    template <class F>
    void drain_ready(F&& visit) {
        while (!ready_.empty()) {
            ready_swap_.swap(ready_);
            for (Session* session : ready_swap_) {
                if (session != nullptr && take_ready(*session)) visit(*session);
            }
            ready_swap_.clear();
        }
    }
    bool has_ready() const { return !ready_.empty(); }
    /// A Session going away leaves the ready list.
    void forget_ready(Session& session);
    const Timeouts& timeouts() const { return timeouts_; }

    /// Reads the clocks; engines call it once per loop iteration.
    void tick() {
        now_ms_ = core::monotonic_ms();
        now_s_ = core::wall_seconds();
    }
    std::int64_t now_ms() const { return now_ms_; }
    std::int64_t now_s() const { return now_s_; }
    std::string_view date() { return date_.get(now_s_); }

    AccessLog* access_log() const { return access_log_; }
    void set_access_log(AccessLog* log) { access_log_ = log; }

    /// This loop's counters for /metrics: a slot of the server's MetricsBoard, written on the
    /// loop's thread only; null when the server keeps no metrics.
    LoopMetrics* metrics() const { return metrics_; }
    void set_metrics(LoopMetrics* slot) { metrics_ = slot; }
    /// Adds to one of this loop's counters. Without metrics it costs a predictable branch and
    /// writes nothing (a shared dummy slot would bounce a cache line between loops).
    void count(Counter LoopMetrics::*counter, std::uint64_t n = 1) {
        if (metrics_ != nullptr) (metrics_->*counter).add(n);
    }

    /// Overload control (--overload-target), owned by the engine; null when off.
    OverloadGate* overload() const { return overload_; }
    void set_overload(OverloadGate* gate) { overload_ = gate; }

    std::unique_ptr<Scratch> borrow_scratch() {
        if (scratch_pool_.empty()) return std::make_unique<Scratch>();
        auto scratch = std::move(scratch_pool_.back());
        scratch_pool_.pop_back();
        return scratch;
    }
    void return_scratch(std::unique_ptr<Scratch> scratch) {
        scratch->reset_request();
        scratch->pending_input.clear();
        scratch->output.clear();
        scratch->output_front = 0;
        scratch->proxy_header.reset();
        // A pool as large as the busiest moment would pin memory forever; 1024 is plenty to
        // avoid malloc on the hot path while bounding what stays reserved.
        if (scratch_pool_.size() < 1024) scratch_pool_.push_back(std::move(scratch));
    }

    /// A string with capacity left by an earlier response, so that building a response head
    /// does not call malloc on the hot path.
    std::string take_buffer() {
        if (buffer_pool_.empty()) return {};
        std::string buffer = std::move(buffer_pool_.back());
        buffer_pool_.pop_back();
        buffer.clear();
        return buffer;
    }
    void give_buffer(std::string&& buffer) {
        // Only modest buffers are kept, and only a bounded number of them.
        if (buffer.capacity() != 0 && buffer.capacity() <= 16 * 1024 && buffer_pool_.size() < 256) {
            buffer_pool_.push_back(std::move(buffer));
        }
    }

    /// A Response reused for every request of this loop, so that handlers' header strings keep
    /// their capacity.
    Response& response() { return response_; }

private:
    static bool take_ready(Session& session);

    Handler& handler_;
    Limits limits_;
    Timeouts timeouts_;
    std::size_t loop_index_ = 0;
    std::unique_ptr<core::Mailbox> mailbox_;
    core::TimerWheel timers_{core::monotonic_ms(), 100, 1024};
    DescriptorWatcher* descriptors_ = nullptr;
    std::vector<Session*> ready_;       ///< marked since the last drain
    std::vector<Session*> ready_swap_;  ///< being visited
    std::int64_t now_ms_ = 0;
    std::int64_t now_s_ = 0;
    DateCache date_;
    AccessLog* access_log_ = nullptr;
    LoopMetrics* metrics_ = nullptr;
    OverloadGate* overload_ = nullptr;
    std::vector<std::unique_ptr<Scratch>> scratch_pool_;
    std::vector<std::string> buffer_pool_;
    Response response_;
};

}  // namespace c10k::http
