#include "core/duration.hpp"

#include <charconv>

#include <fmt/core.h>

namespace c10k::core {

bool parse_duration_us(std::string_view text, std::int64_t bare_unit_us, std::int64_t& out,
                       std::string& error) {
    double number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || number < 0) {
        error = fmt::format("'{}' is not a duration (write it as 10s, 250ms, 2m or 1h)", text);
        return false;
    }
    std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    double scale = 0;
    if (unit.empty())
        scale = static_cast<double>(bare_unit_us);
    else if (unit == "us")
        scale = 1;
    else if (unit == "ms")
        scale = 1e3;
    else if (unit == "s")
        scale = 1e6;
    else if (unit == "m" || unit == "min")
        scale = 60e6;
    else if (unit == "h")
        scale = 3600e6;
    else {
        error = fmt::format("'{}': unknown unit '{}' (use us, ms, s, m or h)", text, unit);
        return false;
    }
    out = static_cast<std::int64_t>(number * scale + 0.5);
    return true;
}

}  // namespace c10k::core
