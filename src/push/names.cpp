#include "push/names.hpp"

#include <limits>

#include "core/text.hpp"

namespace c10k::push {

namespace {

bool is_channel_char(char c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '.':
        case '_':
        case '~':
        case ':':
        case '@':
        case '-':
            return true;
        default:
            return false;
    }
}

/// The id inside `"..."` or `W/"..."`, or `text` itself when it is not quoted. nullopt for a
/// malformed ETag (a lone W/, an unterminated quote), which is no id at all.
std::optional<std::string_view> unquote_etag(std::string_view text) {
    bool weak = text.size() >= 2 && text.substr(0, 2) == "W/";
    if (weak) text.remove_prefix(2);
    bool quoted = !text.empty() && text.front() == '"';
    if (!quoted) {
        if (weak) return std::nullopt;
        return text;
    }
    if (text.size() < 2 || text.back() != '"') return std::nullopt;
    return text.substr(1, text.size() - 2);
}

}  // namespace

bool valid_channel_name(std::string_view name) {
    if (name.empty() || name.size() > 128) return false;
    if (name == "." || name == "..") return false;
    for (char c : name) {
        if (!is_channel_char(c)) return false;
    }
    return true;
}

std::optional<std::uint64_t> parse_event_id(std::string_view text) {
    std::optional<std::string_view> unquoted = unquote_etag(core::trim_ows(text));
    if (!unquoted) return std::nullopt;
    std::string_view digits = *unquoted;
    if (digits.empty() || digits.size() > 20) return std::nullopt;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (kMax - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::string_view query_param(std::string_view query, std::string_view name) {
    if (!query.empty() && query.front() == '?') query.remove_prefix(1);
    while (!query.empty()) {
        std::size_t end = query.find('&');
        std::string_view pair = query.substr(0, end);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
            return pair.substr(name.size() + 1);
        }
        if (end == std::string_view::npos) break;
        query.remove_prefix(end + 1);
    }
    return {};
}

}  // namespace c10k::push
