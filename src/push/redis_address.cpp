#include "push/redis_address.hpp"

#include <charconv>

namespace c10k::push {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error) {
    constexpr std::string_view scheme = "redis://";
    if (!url.starts_with(scheme)) {
        error = "the Redis address must start with redis:// (redis://HOST:PORT[/DB])";
        return std::nullopt;
    }
    std::string_view rest = url.substr(scheme.size());
    RedisAddress address;
    // The password may hold any character but '@' is taken as its end at the last one, so
    // that a password with '@' in it still parses.
    if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        if (!userinfo.starts_with(':')) {
            error =
                "the Redis address has a user name; only a password is supported "
                "(redis://:PASSWORD@HOST:PORT)";
            return std::nullopt;
        }
        address.password = userinfo.substr(1);
        if (address.password.empty()) {
            error = "the Redis address has an empty password after ':'";
            return std::nullopt;
        }
        rest = rest.substr(at + 1);
    }
    std::string_view database;
    if (std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
        database = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (!database.empty() &&
            (!parse_number(database, address.database) || address.database < 0)) {
            error = "the Redis database after '/' must be a number from 0";
            return std::nullopt;
        }
    }
    std::string_view host = rest;
    std::string_view port;
    if (rest.starts_with('[')) {
        std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            error = "the Redis address has '[' without ']' around an IPv6 host";
            return std::nullopt;
        }
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                error = "the Redis address has something other than ':PORT' after ']'";
                return std::nullopt;
            }
            port = after.substr(1);
            if (port.empty()) port = "-";  // "host:" with nothing after is an error below
        }
    } else if (std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (port.empty()) port = "-";
    }
    if (host.empty()) {
        error = "the Redis address has no host (redis://HOST:PORT)";
        return std::nullopt;
    }
    address.host = host;
    if (!port.empty()) {
        unsigned value = 0;
        if (!parse_number(port, value) || value == 0 || value > 65535) {
            error = "the Redis port must be a number from 1 to 65535";
            return std::nullopt;
        }
        address.port = static_cast<std::uint16_t>(value);
    }
    return address;
}

std::uint64_t reconnect_delay_ms(unsigned attempt, std::uint64_t base_ms, std::uint64_t cap_ms,
                                 std::uint64_t random) {
    std::uint64_t ceiling = base_ms;
    for (unsigned i = 0; i < attempt && ceiling < cap_ms; ++i) ceiling *= 2;
    if (ceiling > cap_ms) ceiling = cap_ms;
    std::uint64_t half = ceiling / 2;
    return ceiling - half + random % (half + 1);
}

}  // namespace c10k::push
