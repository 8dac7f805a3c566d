#pragma once
// Where the Redis backplane connects, from --redis redis://[:PASSWORD@]HOST:PORT[/DB], and how
// long it waits before connecting again after the connection is lost. Both are pure functions,
// so that the rules are tested without a server.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c10k::push {

struct RedisAddress {
    std::string host;
    std::uint16_t port = 6379;
    /// Sent with AUTH after connecting when not empty.
    std::string password;
    /// Sent with SELECT after connecting when not 0.
    int database = 0;
};

/// Parses redis://[:PASSWORD@]HOST[:PORT][/DB] (an IPv6 host in brackets). On a malformed URL
/// returns nullopt and sets `error` to a sentence an operator can act on.
std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error);

/// How long to wait before reconnect attempt `attempt` (0 for the first after a loss):
/// base_ms doubled per attempt, capped at cap_ms, of which a random half is dropped
/// ("equal jitter") so that a fleet that lost Redis together does not reconnect in step.
/// `random` is any uniformly drawn number; the result is in [ceiling/2, ceiling].
std::uint64_t reconnect_delay_ms(unsigned attempt, std::uint64_t base_ms, std::uint64_t cap_ms,
                                 std::uint64_t random);

}  // namespace c10k::push
