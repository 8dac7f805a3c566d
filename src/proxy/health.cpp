#include "proxy/health.hpp"

#include <charconv>

#include <fmt/core.h>

namespace c10k::proxy {

namespace {

bool parse_status(std::string_view text, int& status) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), status);
    return error == std::errc{} && end == text.data() + text.size() && status >= 100 &&
           status <= 599;
}

}  // namespace

bool StatusRanges::contains(int status) const {
    for (const auto& [low, high] : ranges) {
        if (status >= low && status <= high) return true;
    }
    return false;
}

bool parse_status_ranges(std::string_view text, StatusRanges& out, std::string& error) {
    StatusRanges parsed;
    parsed.ranges.clear();
    std::string_view rest = text;
    while (true) {
        std::size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        std::size_t dash = item.find('-');
        int low = 0;
        int high = 0;
        bool ok = dash == std::string_view::npos
                      ? parse_status(item, low) && parse_status(item, high)
                      : parse_status(item.substr(0, dash), low) &&
                            parse_status(item.substr(dash + 1), high) && low <= high;
        if (!ok) {
            error = fmt::format(
                "'{}' is not a status or a range of statuses from 100 to 599 (write a list "
                "like 200,204 or a range like 200-399)",
                item);
            return false;
        }
        parsed.ranges.emplace_back(low, high);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    out = std::move(parsed);
    return true;
}

bool HealthStreak::record(bool passed, std::uint32_t rise, std::uint32_t fall) {
    if (passed) {
        failures = 0;
        ++passes;
        if (!up && passes >= rise) {
            up = true;
            return true;
        }
        return false;
    }
    passes = 0;
    ++failures;
    if (up && failures >= fall) {
        up = false;
        return true;
    }
    return false;
}

HealthBoard::HealthBoard(std::size_t servers) : entries_(new Entry[servers]) {}

}  // namespace c10k::proxy
