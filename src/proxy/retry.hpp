#pragma once
// What a failed attempt may be retried on, and how many retries a loop lets run at once.
//
// The conditions are Envoy's retry_on, narrowed to HTTP/1.1 proxying: `error` (the server
// reset or closed before any answer byte), `timeout` (no response head within the response
// timeout) and the statuses 502, 503, 504 or any 5xx (the response is not forwarded and the
// request goes to another server). They apply to idempotent methods, and to POST and PATCH
// only when the operator says the backends make those idempotent. Connect failures and a
// stale kept-alive connection are retried whatever the list says: the request did not run.
//
// The budget is Envoy's retry budget: retries in flight may not exceed a share of the
// requests in flight, with a floor, so that a failing pool is not hit with twice its load
// just when it can least take it (a retry storm).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace c10k::proxy {

struct RetryPolicy {
    /// Bits of `on`.
    static constexpr std::uint8_t kError = 1 << 0;
    static constexpr std::uint8_t kTimeout = 1 << 1;
    static constexpr std::uint8_t k502 = 1 << 2;
    static constexpr std::uint8_t k503 = 1 << 3;
    static constexpr std::uint8_t k504 = 1 << 4;
    static constexpr std::uint8_t k5xx = 1 << 5;

    std::uint8_t on = kError;
    /// POST and PATCH follow the same rules as the idempotent methods (for backends that are
    /// idempotent by design, with request ids); otherwise they are never sent twice.
    bool non_idempotent = false;
    /// Retries in flight per loop: at most max(budget_min, budget_percent% of the requests in
    /// flight).
    std::uint32_t budget_percent = 20;
    std::uint32_t budget_min = 3;

    /// Whether a response with this status is retried rather than forwarded.
    bool retries_status(int status) const;
};

/// Parses "error,timeout,503" (any of error, timeout, 502, 503, 504, 5xx) or "none" into
/// `out.on`. Returns false, with a sentence in `error`, for anything else.
bool parse_retry_on(std::string_view text, RetryPolicy& out, std::string& error);

/// One loop's retries in flight against its budget, and the counts for metrics.
class RetryBudget {
public:
    RetryBudget(std::uint32_t percent, std::uint32_t min) : percent_(percent), min_(min) {}

    /// A retry wants to start while `requests` are in flight (itself included). True, with the
    /// retry counted in flight until release(), when the budget allows it.
    bool try_acquire(std::size_t requests);
    /// A request that had started a retry ended.
    void release() {
        if (in_flight_ > 0) --in_flight_;
    }

    std::size_t in_flight() const { return in_flight_; }
    /// Retries made, and retries refused for the budget, since the loop started.
    std::uint64_t retries() const { return retries_; }
    std::uint64_t refused() const { return refused_; }

private:
    std::uint32_t percent_;
    std::uint32_t min_;
    std::size_t in_flight_ = 0;
    std::uint64_t retries_ = 0;
    std::uint64_t refused_ = 0;
};

}  // namespace c10k::proxy
