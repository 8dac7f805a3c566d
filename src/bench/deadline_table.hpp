#pragma once
// The housekeeping sweep of a bench loop, made to cost what it has to do rather than what the
// loop holds. Each connection's next deadline (connect timeout, read timeout, next long-poll,
// retry time) sits in a dense array of 8-byte times beside the cached earliest one, so a sweep
// in which nothing is due is one comparison, and one in which something is due reads 8 bytes
// per connection (20,000 connections: 160 KB, contiguous) and touches only the due ones.
//
// Why not a heap or a timer wheel of (deadline, index, generation) entries: deadlines move
// often (every request written moves a read timeout), so a heap would grow with stale entries
// that lazy deletion skips only when they reach the top, and an exact deletion needs positions
// kept per entry. Here setting a deadline is one store and one min, and the table is always
// exactly one entry per connection.
//
// The owner keeps one invariant: after anything that may change a connection's state, it
// stores that connection's deadline again (a time at or before the first moment housekeeping
// would act on it, `never` when it would not). Loops change a connection only from a few entry
// points (an epoll event, a due send, a reconnect, the sweep itself), so each stores there.

#include <cstdint>
#include <limits>
#include <vector>

namespace c10k::bench {

class DeadlineTable {
public:
    static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

    /// The first time t with `t - start > span` (how the loops test a timeout), held at `never`
    /// instead of overflowing: a timeout may be as good as forever.
    static std::int64_t past(std::int64_t start, std::int64_t span) {
        return span >= never - start - 1 ? never : start + span + 1;
    }

    explicit DeadlineTable(std::size_t size = 0) : due_(size, never) {}

    void set(std::uint32_t index, std::int64_t due_ns) {
        due_[index] = due_ns;
        if (due_ns < earliest_) earliest_ = due_ns;
    }

    std::int64_t earliest() const { return earliest_; }

    /// Calls `visit(index)` for every connection due at `now_ns`, in index order, after marking
    /// it `never`: the visitor acts on it and stores its next deadline with set().
    template <typename Visit>
    void sweep(std::int64_t now_ns, Visit&& visit) {
        if (now_ns < earliest_) return;
        earliest_ = never;
        for (std::uint32_t i = 0; i < due_.size(); ++i) {
            std::int64_t due = due_[i];
            if (due > now_ns) {
                if (due < earliest_) earliest_ = due;
                continue;
            }
            due_[i] = never;
            visit(i);
        }
    }

private:
    std::vector<std::int64_t> due_;
    std::int64_t earliest_ = never;
};

}  // namespace c10k::bench
