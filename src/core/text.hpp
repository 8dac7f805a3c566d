#pragma once
// Optional whitespace as HTTP defines it (RFC 9110 section 5.6.3: OWS is spaces and horizontal
// tabs, nothing else), for the many places that split and trim header values.

#include <string_view>

namespace c10k::core {

constexpr bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

/// `text` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
    return text;
}

}  // namespace c10k::core
