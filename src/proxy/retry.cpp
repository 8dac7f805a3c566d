#include "proxy/retry.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace c10k::proxy {

bool RetryPolicy::retries_status(int status) const {
    if (status < 500 || status > 599) return false;
    if ((on & k5xx) != 0) return true;
    return (status == 502 && (on & k502) != 0) || (status == 503 && (on & k503) != 0) ||
           (status == 504 && (on & k504) != 0);
}

bool parse_retry_on(std::string_view text, RetryPolicy& out, std::string& error) {
    static constexpr std::pair<std::string_view, std::uint8_t> kConditions[] = {
        {"error", RetryPolicy::kError}, {"timeout", RetryPolicy::kTimeout},
        {"502", RetryPolicy::k502},     {"503", RetryPolicy::k503},
        {"504", RetryPolicy::k504},     {"5xx", RetryPolicy::k5xx},
    };
    if (text == "none") {
        out.on = 0;
        return true;
    }
    std::uint8_t on = 0;
    std::string_view rest = text;
    do {
        std::size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (comma != std::string_view::npos && rest.empty()) item = {};  // a trailing comma
        const auto* found = std::find_if(std::begin(kConditions), std::end(kConditions),
                                         [&](const auto& known) { return known.first == item; });
        if (found == std::end(kConditions)) {
            error = item == "none"
                        ? std::string("none cannot be combined with other conditions")
                        : fmt::format(
                              "unknown condition '{}' (known: error, timeout, 502, 503, 504, "
                              "5xx, or none alone; for example error,timeout,503)",
                              item);
            return false;
        }
        on |= found->second;
    } while (!rest.empty());
    out.on = on;
    return true;
}

bool RetryBudget::try_acquire(std::size_t requests) {
    // Rounded down: 20% of 4 requests is no retry beyond the floor.
    std::size_t allowed = std::max<std::size_t>(min_, requests * percent_ / 100);
    if (in_flight_ >= allowed) {
        ++refused_;
        return false;
    }
    ++in_flight_;
    ++retries_;
    return true;
}

}  // namespace c10k::proxy
