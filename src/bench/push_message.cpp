#include "bench/push_message.hpp"

#include <time.h>

#include <cstdint>
#include <iterator>

#include <fmt/core.h>

namespace c10k::bench {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

void append_publish_body(std::string& out, std::int64_t unix_ns, std::uint64_t sequence,
                         std::size_t size) {
    std::size_t before = out.size();
    out += fmt::format("t={} seq={} ", unix_ns, sequence);
    std::size_t written = out.size() - before;
    if (written < size) out.append(size - written, 'x');
}

std::optional<std::int64_t> parse_send_time(std::string_view data) {
    if (data.size() < 3 || data[0] != 't' || data[1] != '=') return std::nullopt;
    std::uint64_t value = 0;
    std::size_t i = 2;
    for (; i < data.size() && i < 2 + 19; ++i) {
        char c = data[i];
        if (c < '0' || c > '9') break;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (i == 2 || value > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    if (i < data.size() && data[i] >= '0' && data[i] <= '9') return std::nullopt;  // too long
    return static_cast<std::int64_t>(value);
}

std::optional<std::uint64_t> parse_sequence(std::string_view data) {
    if (!parse_send_time(data)) return std::nullopt;
    std::size_t digits = data.find_first_not_of("0123456789", 2);
    constexpr std::string_view key = " seq=";
    if (digits == std::string_view::npos || data.substr(digits, key.size()) != key) {
        return std::nullopt;
    }
    std::string_view rest = data.substr(digits + key.size());
    std::size_t end = rest.find_first_not_of("0123456789");
    // The number must end the field: "seq=12x" is not a sequence number.
    if (end != std::string_view::npos && rest[end] != ' ') return std::nullopt;
    return parse_decimal_id(rest.substr(0, end));
}

std::optional<std::uint64_t> parse_decimal_id(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::optional<std::uint64_t> parse_etag_id(std::string_view etag) {
    etag = trim(etag);
    if (etag.size() >= 2 && etag[0] == 'W' && etag[1] == '/') etag.remove_prefix(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return parse_decimal_id(etag);
}

std::optional<std::uint64_t> parse_ack_id(std::string_view json) {
    auto key = json.find("\"id\"");
    if (key == std::string_view::npos) return std::nullopt;
    std::string_view rest = json.substr(key + 4);
    rest = trim(rest);
    if (rest.empty() || rest.front() != ':') return std::nullopt;
    rest = trim(rest.substr(1));
    if (!rest.empty() && rest.front() == '"') {
        auto close = rest.find('"', 1);
        if (close == std::string_view::npos) return std::nullopt;
        return parse_decimal_id(rest.substr(1, close - 1));
    }
    auto end = rest.find_first_not_of("0123456789");
    return parse_decimal_id(rest.substr(0, end));
}

std::string channel_of(std::string_view url) {
    auto scheme = url.find("://");
    if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
    auto slash = url.find('/');
    if (slash == std::string_view::npos) return {};
    std::string_view path = url.substr(slash);
    auto query = path.find_first_of("?#");
    if (query != std::string_view::npos) path = path.substr(0, query);
    auto last = path.rfind('/');
    return std::string(path.substr(last + 1));
}

std::int64_t realtime_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace c10k::bench
