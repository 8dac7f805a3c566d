#pragma once
// One blocking check that Redis answers, for `c10k serve --redis-require`: before the server
// starts, so that an operator who chose "refuse to start" hears at once what is wrong.

#include <cstdint>
#include <string>

#include "push/redis_address.hpp"

namespace c10k::push {

/// Connects to `address` (AUTH and SELECT when configured) and sends PING; returns an empty
/// string when Redis answered within `timeout_ms`, else a sentence that says what failed.
std::string probe_redis(const RedisAddress& address, std::uint64_t timeout_ms);

}  // namespace c10k::push
