#pragma once
// Asks a FastCGI application, once per pool (per loop and address), whether it multiplexes:
// FCGI_GET_VALUES for FCGI_MPXS_CONNS, FCGI_MAX_CONNS and FCGI_MAX_REQS, on a connection of
// its own. Once, not per connection: the answer belongs to the application, and caching it
// keeps the per-request path of a non-multiplexing application (php-fpm) free of it. A
// connection of its own, closed after the answer unless the application multiplexes: an
// application that does not know the query may never answer it or may drop the connection,
// and no request should ride on that. php-fpm (8.2) answers FCGI_MPXS_CONNS=0 at once, and
// nothing else (it does not say FCGI_MAX_CONNS or FCGI_MAX_REQS); the worker that took the
// connection is free again at the close.
//
// An application that does not answer within kWaitMs, answers something unreadable, or closes
// the connection unanswered, is taken not to multiplex.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/unique_fd.hpp"
#include "fastcgi/record_parser.hpp"
#include "http/context.hpp"

namespace c10k::fastcgi {

class Pool;

struct Capabilities {
    bool multiplexes = false;         ///< FCGI_MPXS_CONNS=1
    std::size_t max_connections = 0;  ///< FCGI_MAX_CONNS; 0: not said
    std::size_t max_requests = 0;     ///< FCGI_MAX_REQS; 0: not said
};

/// Reads GET_VALUES_RESULT's pairs. Unknown names are ignored; a malformed content says
/// nothing (no multiplexing).
Capabilities read_capabilities(std::string_view content);

class Probe final : public http::DescriptorTask, public http::TimerTask {
public:
    /// How long the answer may take: the first requests of the loop wait for it.
    static constexpr std::int64_t kWaitMs = 500;

    Probe(Pool& pool, http::LoopContext& context);
    ~Probe();
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;

    /// Connects and asks. Ends (Pool::probed) before it returns when it cannot start.
    void start();

    void on_ready(std::uint32_t events) override;
    void on_timer() override;

private:
    void send_query();
    /// Hands the answer (and, for a multiplexing application, the connection) to the pool,
    /// which deletes this.
    void finish(Capabilities capabilities, bool keep);

    Pool& pool_;
    http::LoopContext& context_;
    core::unique_fd fd_;
    bool connecting_ = false;
    bool watched_ = false;
    std::string out_;
    RecordParser parser_;
};

}  // namespace c10k::fastcgi
