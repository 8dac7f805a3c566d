#include "serve/range.hpp"

#include <limits>

#include "core/text.hpp"
#include "http/request.hpp"

namespace c10k::serve {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

/// Decimal digits only (no sign, no spaces), saturating at 2^64-1. False when empty or not all
/// digits.
bool parse_saturating(std::string_view digits, std::uint64_t& out) {
    if (digits.empty()) return false;
    out = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        auto digit = static_cast<std::uint64_t>(c - '0');
        if (out > (kMax - digit) / 10) {
            out = kMax;  // keep scanning so that trailing garbage is still rejected
        } else {
            out = out * 10 + digit;
        }
    }
    return true;
}

RangeDecision partial(std::uint64_t first, std::uint64_t last) {
    return {RangeDecision::Kind::partial, first, last - first + 1};
}

}  // namespace

RangeDecision decide_range(std::string_view field, std::uint64_t file_length) {
    constexpr RangeDecision kIgnore{};
    constexpr RangeDecision kUnsatisfiable{RangeDecision::Kind::unsatisfiable, 0, 0};

    field = core::trim_ows(field);
    std::size_t equals = field.find('=');
    if (equals == std::string_view::npos) return kIgnore;
    if (!http::iequals(core::trim_ows(field.substr(0, equals)), "bytes")) return kIgnore;
    std::string_view spec = core::trim_ows(field.substr(equals + 1));
    // Several ranges would need multipart/byteranges; serving the whole file is always allowed.
    if (spec.find(',') != std::string_view::npos) return kIgnore;

    std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return kIgnore;
    std::string_view first_text = spec.substr(0, dash);
    std::string_view last_text = spec.substr(dash + 1);

    if (first_text.empty()) {
        // Suffix form "-n": the last n bytes.
        std::uint64_t suffix = 0;
        if (!parse_saturating(last_text, suffix)) return kIgnore;
        if (suffix == 0) return kUnsatisfiable;
        if (file_length == 0) return kIgnore;
        if (suffix >= file_length) return partial(0, file_length - 1);
        return partial(file_length - suffix, file_length - 1);
    }

    std::uint64_t first = 0;
    if (!parse_saturating(first_text, first)) return kIgnore;
    std::uint64_t last = kMax;
    if (!last_text.empty()) {
        if (!parse_saturating(last_text, last)) return kIgnore;
        if (last < first) return kIgnore;
    }
    if (first >= file_length) return kUnsatisfiable;
    if (last >= file_length) last = file_length - 1;
    return partial(first, last);
}

}  // namespace c10k::serve
