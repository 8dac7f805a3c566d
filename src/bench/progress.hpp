#pragma once
// The live line on a terminal: "[  4.0s] 1999 req/s, 10000 open, 0 errors, p99 1.21 ms".
// Written to stderr about once a second, only when stderr is a terminal (and only when asked),
// so that logs and pipes stay clean.

#include <cstdint>

#include "bench/run_control.hpp"

namespace c10k::bench {

class Progress {
public:
    /// `unit` names what the loops count in LiveCounters::requests ("req/s", "deliveries/s").
    Progress(bool enabled, SharedControl& shared, const char* unit = "req/s")
        : enabled_(enabled), shared_(shared), unit_(unit) {}
    /// While connections are being opened.
    void connecting();
    /// During the run; `elapsed_ns` since the common start.
    void running(std::int64_t elapsed_ns);
    /// Ends the line, if one was drawn.
    void finish();

private:
    struct Totals {
        std::uint64_t requests = 0, errors = 0, open = 0, p99_us = 0;
    };
    Totals totals() const;
    bool due();

    bool enabled_;
    SharedControl& shared_;
    const char* unit_;
    bool drawn_ = false;
    std::int64_t next_ns_ = 0;
    std::int64_t last_ns_ = 0;
    std::uint64_t last_requests_ = 0;
};

}  // namespace c10k::bench
