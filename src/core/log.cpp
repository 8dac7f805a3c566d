#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>

namespace c10k::core {

namespace {
std::atomic<LogLevel> g_level{LogLevel::info};
}

void set_log_level(LogLevel level) {
    g_level.store(level, std::memory_order_relaxed);
}
bool parse_log_level(std::string_view text, LogLevel& out) {
    static constexpr std::pair<std::string_view, LogLevel> names[] = {{"debug", LogLevel::debug},
                                                                      {"info", LogLevel::info},
                                                                      {"warn", LogLevel::warn},
                                                                      {"error", LogLevel::error}};
    for (const auto& [name, level] : names) {
        if (text == name) {
            out = level;
            return true;
        }
    }
    return false;
}

LogLevel log_level() {
    return g_level.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, std::string_view text) {
    static constexpr const char* names[] = {"debug", "info", "warn", "error"};
    std::string line = fmt::format("c10k: {}: {}\n", names[static_cast<int>(level)], text);
    // One write per line so that lines from several loops do not interleave.
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

bool RateLimitedLog::allow(std::int64_t now_ms) {
    if (now_ms - last_ms_ >= interval_ms_) {
        last_ms_ = now_ms;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    return false;
}

}  // namespace c10k::core
