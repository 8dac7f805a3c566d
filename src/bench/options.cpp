#include "bench/options.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace c10k::bench {

bool parse_duration(std::string_view text, std::int64_t& out_ns) {
    std::string owned(text);
    if (owned.empty() || !(std::isdigit(static_cast<unsigned char>(owned[0])) || owned[0] == '.')) {
        return false;
    }
    char* end = nullptr;
    double value = std::strtod(owned.c_str(), &end);
    std::string_view unit(end);
    double scale = 0;
    if (unit.empty() || unit == "s") {
        scale = 1e9;
    } else if (unit == "ms") {
        scale = 1e6;
    } else if (unit == "us") {
        scale = 1e3;
    } else if (unit == "m" || unit == "min") {
        scale = 60e9;
    } else if (unit == "h") {
        scale = 3600e9;
    } else {
        return false;
    }
    double ns = value * scale;
    if (!std::isfinite(ns) || ns < 0 || ns > 9e18) return false;
    out_ns = static_cast<std::int64_t>(std::llround(ns));
    return true;
}

}  // namespace c10k::bench
