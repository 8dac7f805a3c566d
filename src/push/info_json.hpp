#pragma once
// The JSON a GET on the publish endpoint answers with.

#include <string>
#include <string_view>

#include "push/registry.hpp"

namespace c10k::push {

/// `{"channel":"x","subscribers":12000,"last_id":"123","messages":100}`. The id is a string
/// because ids exceed 2^53, beyond which JavaScript numbers lose digits; "0" means no message yet.
/// `subscribers` is the whole group's in a --processes group (Registry::Info says how).
std::string channel_info_json(std::string_view channel, const Registry::Info& info);

}  // namespace c10k::push
