#pragma once
// Optional whitespace and tokens as HTTP defines them (RFC 9110 sections 5.6.3 and 5.6.2), for
// the many places that split and trim header values and check names.

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

/// tchar of RFC 9110 section 5.6.2: what header names, cookie names and tokens are made of.
constexpr bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// Whether `text` is a non-empty token.
constexpr bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (!is_token_char(c)) return false;
    }
    return true;
}

}  // namespace c10k::core
