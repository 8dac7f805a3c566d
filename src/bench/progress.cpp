#include "bench/progress.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/core.h>

#include "core/clock.hpp"

namespace c10k::bench {

Progress::Totals Progress::totals() const {
    Totals t;
    for (std::uint32_t i = 0; i < shared_.loops(); ++i) {
        auto& live = shared_.live(i);
        t.requests += live.requests.load(std::memory_order_relaxed);
        t.errors += live.errors.load(std::memory_order_relaxed);
        t.open += live.open.load(std::memory_order_relaxed);
        // Percentiles do not add up; the largest loop p99 is a fair live estimate.
        t.p99_us = std::max<std::uint64_t>(t.p99_us, live.p99_us.load(std::memory_order_relaxed));
    }
    return t;
}

bool Progress::due() {
    if (!enabled_) return false;
    std::int64_t now = core::monotonic_ns();
    if (now < next_ns_) return false;
    next_ns_ = now + 1'000'000'000;
    return true;
}

void Progress::connecting() {
    if (!due()) return;
    Totals t = totals();
    std::fprintf(stderr, "\r\033[Kconnecting: %llu open, %u of %u loops ready",
                 static_cast<unsigned long long>(t.open), shared_.control().ready.load(),
                 shared_.loops());
    drawn_ = true;
}

void Progress::running(std::int64_t elapsed_ns) {
    if (!due()) return;
    Totals t = totals();
    std::int64_t now = core::monotonic_ns();
    double rate = 0;
    if (last_ns_ != 0 && now > last_ns_) {
        rate = static_cast<double>(t.requests - last_requests_) * 1e9 / (now - last_ns_);
    }
    last_ns_ = now;
    last_requests_ = t.requests;
    auto line = fmt::format("\r\033[K[{:6.1f}s] {:.0f} {}, {} open, {} errors, p99 {:.2f} ms",
                            std::max<std::int64_t>(elapsed_ns, 0) / 1e9, rate, unit_, t.open,
                            t.errors, t.p99_us / 1000.0);
    std::fputs(line.c_str(), stderr);
    drawn_ = true;
}

void Progress::finish() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
}

}  // namespace c10k::bench
