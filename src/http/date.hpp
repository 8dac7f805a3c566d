#pragma once
// HTTP dates (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"), and a per-loop cache of the
// current one so that the Date header costs a copy, not a gmtime_r, per response.

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace c10k::http {

/// Always 29 characters.
std::string format_http_date(std::time_t when);

/// Accepts IMF-fixdate, and the obsolete RFC 850 and asctime forms as RFC 9110 asks.
std::optional<std::time_t> parse_http_date(std::string_view text);

/// The current date, re-formatted at most once per second. One per event loop.
class DateCache {
public:
    /// The IMF-fixdate of `now_seconds` (wall clock).
    std::string_view get(std::int64_t now_seconds) {
        if (now_seconds != cached_second_) {
            cached_second_ = now_seconds;
            text_ = format_http_date(static_cast<std::time_t>(now_seconds));
        }
        return text_;
    }

private:
    std::int64_t cached_second_ = -1;
    std::string text_;
};

}  // namespace c10k::http
