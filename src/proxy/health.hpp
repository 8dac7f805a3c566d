#pragma once
// Health of a pool's servers: what an active check is (HealthCheck), the rise/fall rule that
// turns check results into UP and DOWN (HealthStreak), and the board on which one loop's
// checker publishes each server's state to every loop of the process (HealthBoard).

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c10k::proxy {

/// Which statuses an HTTP check accepts: ranges, inclusive.
struct StatusRanges {
    std::vector<std::pair<int, int>> ranges{{200, 399}};
    bool contains(int status) const;
};

/// "200-399", "200,204" or a mix ("200,300-302"), statuses from 100 to 599. False with `error`
/// saying what is wrong.
bool parse_status_ranges(std::string_view text, StatusRanges& out, std::string& error);

/// An active check of every server of a pool.
struct HealthCheck {
    enum class Kind : std::uint8_t { off, tcp, http };
    Kind kind = Kind::off;
    std::string path;  ///< Kind::http: what is asked for, starting with '/'
    StatusRanges expect;
    std::int64_t interval_ms = 2'000;
    std::int64_t timeout_ms = 1'000;
    std::uint32_t rise = 2;  ///< passes in a row that bring a DOWN server UP
    std::uint32_t fall = 3;  ///< failures in a row that take an UP server DOWN
};

/// The rise/fall rule for one server. Servers start UP (HAProxy's default too): a freshly
/// started proxy serves at once instead of refusing everything for `rise` intervals.
struct HealthStreak {
    bool up = true;
    std::uint32_t passes = 0;    ///< in a row
    std::uint32_t failures = 0;  ///< in a row
    /// Counts one check's result; true when it changed `up`.
    bool record(bool passed, std::uint32_t rise, std::uint32_t fall);
};

/// Each server's state as the process's checker last published it, read by every loop. One
/// per pool and process, shared by the loops' handlers: only the checking loop writes it, the
/// others read, and every field is an atomic on its own (no field depends on another, so
/// relaxed order suffices). A forked worker gets a copy of its own, which its own loop checks.
class HealthBoard {
public:
    /// up_since_ms of a server that is DOWN.
    static constexpr std::int64_t kDown = std::numeric_limits<std::int64_t>::min();

    explicit HealthBoard(std::size_t servers);

    /// kDown, or when the server came UP (monotonic ms; 0: UP from the start), from which a
    /// loop ramps it with slow start.
    std::int64_t up_since_ms(std::size_t server) const {
        return entries_[server].up_since_ms.load(std::memory_order_relaxed);
    }
    bool up(std::size_t server) const { return up_since_ms(server) != kDown; }
    std::uint64_t checks_failed(std::size_t server) const {
        return entries_[server].checks_failed.load(std::memory_order_relaxed);
    }

    void set_up(std::size_t server, std::int64_t now_ms) {
        entries_[server].up_since_ms.store(now_ms, std::memory_order_relaxed);
    }
    void set_down(std::size_t server) {
        entries_[server].up_since_ms.store(kDown, std::memory_order_relaxed);
    }
    void count_failed_check(std::size_t server) {
        entries_[server].checks_failed.fetch_add(1, std::memory_order_relaxed);
    }

private:
    struct Entry {
        std::atomic<std::int64_t> up_since_ms{0};
        std::atomic<std::uint64_t> checks_failed{0};
    };
    std::unique_ptr<Entry[]> entries_;
};

}  // namespace c10k::proxy
