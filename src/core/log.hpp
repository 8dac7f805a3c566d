#pragma once
// Minimal leveled logging to stderr. Logging is for start-up, shutdown and rare events; the hot
// path never logs per request (the access log is a separate, buffered facility).

#include <fmt/core.h>

#include <cstdint>
#include <string_view>

namespace c10k::core {

enum class LogLevel { debug, info, warn, error };

void set_log_level(LogLevel level);
/// "debug", "info", "warn" or "error" (as --log-level takes them); false for anything else.
bool parse_log_level(std::string_view text, LogLevel& out);
LogLevel log_level();
void log_line(LogLevel level, std::string_view text);

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (level < log_level()) return;
    log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

/// Lets through at most one message per interval; for events a flood could repeat millions of
/// times (EMFILE, select's FD_SETSIZE refusals). Not thread-safe: keep one per loop.
class RateLimitedLog {
public:
    explicit RateLimitedLog(std::int64_t interval_ms = 1000) : interval_ms_(interval_ms) {}
    /// True when a message may be written now; counts the suppressed ones otherwise.
    bool allow(std::int64_t now_ms);
    /// Messages suppressed since the last one allowed.
    std::uint64_t suppressed() const { return suppressed_; }

private:
    std::int64_t interval_ms_;
    std::int64_t last_ms_ = -1'000'000'000;
    std::uint64_t suppressed_ = 0;
};

}  // namespace c10k::core
