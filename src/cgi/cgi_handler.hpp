#pragma once
// CGI/1.1 (RFC 3875) as an http::Handler: requests under a location's prefix run a program
// from its directory (cgi/script.hpp), with the request body streamed to its standard input
// and its standard output parsed for a head (cgi/output_head.hpp) and streamed to the client
// with backpressure; everything else goes to the handler it wraps (static files). Each request
// is a cgi::Run, whose pipes and pidfd the loop watches through its DescriptorWatcher, so every
// engine runs CGI.

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"

namespace c10k::cgi {

struct Location {
    std::string prefix;     ///< "/cgi-bin/": ends in '/'
    std::string directory;  ///< absolute path of the programs' directory
};

struct Options {
    std::vector<Location> locations;
    /// A program running longer is killed with its process group: 504 when it has not
    /// answered yet, a cut response when it has.
    std::int64_t timeout_ms = 30'000;
    /// Programs running at once per loop (those killed and not yet reaped count too); beyond,
    /// 503 with Retry-After.
    std::size_t max_processes = 64;
    /// How long a request waits for a process slot (0: not at all); as many may wait as may
    /// run. Then 503.
    std::int64_t queue_timeout_ms = 1000;
    /// The largest head a program may write before its body; beyond, 502.
    std::size_t max_head_bytes = 16 * 1024;
    /// Bytes held each way per request: a body the program has not read, output the client
    /// has not taken (then the program's pipe is not read, and it blocks writing).
    std::size_t buffer_bytes = 256 * 1024;
    std::string software = "c10k";
};

class Run;

class Handler final : public http::Handler {
public:
    Handler(Options options, std::unique_ptr<http::Handler> fallback);
    ~Handler() override;

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    bool streams_body(std::uint8_t listener) const override { return true; }
    std::uint64_t body_limit(std::uint8_t listener) const override;
    bool wants_peer() const override { return true; }
    /// Requests outside every location are the fallback's to say; the program's own stay
    /// on the loop (they wait on its descriptors).
    bool answers_off_loop(const http::Request& request) const override;

    const Options& options() const { return options_; }
    http::LoopContext& context() { return *context_; }
    std::vector<char>& read_buffer() { return read_buffer_; }

    /// Whether a program may start now.
    bool slot_free() const { return running_ < options_.max_processes; }
    /// Queues `run` for a slot; false when the queue is full (or there is none).
    bool enqueue(Run& run);
    void dequeue(Run& run);
    void run_started() { ++running_; }
    /// A run ended; its program, if still alive, was killed and is reaped here.
    void run_ended(pid_t pid, core::unique_fd pidfd);

private:
    class Reaper;
    void reaped(Reaper& reaper);
    bool queue_full() const;
    /// A slot freed: starts the runs that waited, oldest first.
    void start_waiting();

    Options options_;
    std::unique_ptr<http::Handler> fallback_;
    std::vector<core::unique_fd> directories_;  ///< O_PATH, one per location
    http::LoopContext* context_ = nullptr;
    std::vector<char> read_buffer_;
    std::size_t running_ = 0;  ///< runs in flight plus programs waiting to be reaped
    std::vector<std::unique_ptr<Reaper>> reapers_;
    std::deque<Run*> waiting_;  ///< runs that wait for a slot, oldest first
    bool starting_ = false;     ///< inside start_waiting
};

}  // namespace c10k::cgi
