#pragma once
// The JSON a GET on the publish endpoint answers with.

#include <string>
#include <string_view>

#include "push/hub.hpp"
#include "push/registry.hpp"

namespace c10k::push {

/// `{"channel":"x","subscribers":12000,"last_id":"123","messages":100}`. The id is a string
/// because ids exceed 2^53, beyond which JavaScript numbers lose digits; "0" means no message yet.
/// `subscribers` is the whole group's in a --processes group (Registry::Info says how).
std::string channel_info_json(std::string_view channel, const Registry::Info& info);

/// What GET /pub/ answers: the channels this process holds and, with `redis` (the backplane's
/// address) set, the backplane's state and counters:
/// `{"channels":3,"redis":{"address":"127.0.0.1:6379","commands_up":true,...}}`.
std::string push_status_json(std::size_t channels, const RedisAddress* redis,
                             const BackplaneStats& stats);

}  // namespace c10k::push
